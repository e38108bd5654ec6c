//! Bearer tokens: random secrets shown once, stored as sha256 hashes; app tokens may report for
//! one application only, admin tokens may do admin actions.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode, header};
use rand::RngCore;
use runbom_store::{Store, StoreError, TokenRecord};
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::time::now_ms;

/// A token just created: the secret exists only here.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub id: String,
    pub secret: String,
}

/// Creates a token for `app` (or an admin token when `None`) and stores its hash.
pub async fn create_token(store: &Store, app: Option<&str>) -> Result<NewToken, StoreError> {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let id = hex::encode(&bytes[..4]);
    let kind = if app.is_some() { "app" } else { "admin" };
    let secret = format!("runbom_{kind}_{}", hex::encode(bytes));
    store
        .create_token(&id, app, &hash(&secret), now_ms())
        .await?;
    Ok(NewToken { id, secret })
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// The secret of the request's `Authorization: Bearer <secret>` header, trimmed.
fn bearer_secret(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let secret = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))?;
    Some(secret.trim())
}

fn unauthorized() -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "a valid bearer token is required")
}

/// The stored hash of the request's bearer secret; 401 without one.
fn bearer_hash(headers: &HeaderMap) -> Result<String, ApiError> {
    bearer_secret(headers).map(hash).ok_or_else(unauthorized)
}

/// The live token the request's `Authorization: Bearer` header names; 401 without one.
async fn bearer(store: &Store, headers: &HeaderMap) -> Result<TokenRecord, ApiError> {
    store
        .token_by_hash(&bearer_hash(headers)?)
        .await?
        .ok_or_else(unauthorized)
}

/// How long an app token found live is trusted without asking the store again: the delay
/// before a revocation made by another process (`runbom admin token revoke`, another server)
/// takes effect here. A revocation through this server's API takes effect at once.
const APP_TOKEN_TTL: Duration = Duration::from_secs(5);

/// App tokens at most in [`AppTokenCache`]; when full it starts again empty.
const APP_TOKEN_CACHE_SIZE: usize = 10_000;

/// Live app tokens by secret hash, as the store said within [`APP_TOKEN_TTL`]: the ingest path
/// authenticates every report, and hooks report often. Admin tokens are never cached, and
/// neither is an unknown or revoked token.
#[derive(Debug, Default)]
pub(crate) struct AppTokenCache {
    live: Mutex<HashMap<String, (TokenRecord, Instant)>>,
}

impl AppTokenCache {
    /// The map; a panic elsewhere while it was held leaves nothing half-written in it.
    fn live(&self) -> MutexGuard<'_, HashMap<String, (TokenRecord, Instant)>> {
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn get(&self, hash: &str) -> Option<TokenRecord> {
        let live = self.live();
        live.get(hash)
            .filter(|(_, checked)| checked.elapsed() < APP_TOKEN_TTL)
            .map(|(token, _)| token.clone())
    }

    fn remember(&self, hash: String, token: &TokenRecord) {
        let mut live = self.live();
        if live.len() >= APP_TOKEN_CACHE_SIZE {
            live.clear();
        }
        live.insert(hash, (token.clone(), Instant::now()));
    }

    /// Drops the token with this id (revoked through this server).
    pub(crate) fn forget(&self, id: &str) {
        let mut live = self.live();
        live.retain(|_, (token, _)| token.id != id);
    }
}

/// The application the request's app token reports for (401: no valid token; 403: an admin
/// token, which may not report). Live app tokens are cached for [`APP_TOKEN_TTL`].
pub(crate) async fn require_app(
    store: &Store,
    cache: &AppTokenCache,
    headers: &HeaderMap,
) -> Result<String, ApiError> {
    let forbidden = || ApiError::new(StatusCode::FORBIDDEN, "an application token is required");
    let hash = bearer_hash(headers)?;
    if let Some(token) = cache.get(&hash) {
        return token.app.ok_or_else(forbidden);
    }
    let token = store.token_by_hash(&hash).await?.ok_or_else(unauthorized)?;
    let app = token.app.clone().ok_or_else(forbidden)?;
    cache.remember(hash, &token);
    Ok(app)
}

/// Succeeds for an admin token (401: no valid token; 403: an app token).
pub(crate) async fn require_admin(store: &Store, headers: &HeaderMap) -> Result<(), ApiError> {
    match bearer(store, headers).await?.app {
        None => Ok(()),
        Some(_) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "an admin token is required",
        )),
    }
}

/// Succeeds for an admin token or a token of `app`.
pub(crate) async fn require_app_or_admin(
    store: &Store,
    headers: &HeaderMap,
    app: &str,
) -> Result<(), ApiError> {
    match bearer(store, headers).await?.app {
        None => Ok(()),
        Some(own) if own == app => Ok(()),
        Some(_) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "this token belongs to another application",
        )),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Any `Authorization` value (or several): a secret only after `Bearer ` or `bearer `,
        /// the rest of the first header trimmed; never a panic.
        #[test]
        fn any_authorization_header_is_read_safely(
            values in proptest::collection::vec(
                prop_oneof![
                    proptest::collection::vec(any::<u8>(), 0..40),
                    "(Bearer|bearer|BEARER|Basic|Bearer:)( |\t)?[ -~]{0,40}"
                        .prop_map(String::into_bytes),
                ]
                .prop_filter_map("a valid header value", |b| HeaderValue::from_bytes(&b).ok()),
                0..3,
            ),
        ) {
            let mut headers = HeaderMap::new();
            for value in &values {
                headers.append(header::AUTHORIZATION, value.clone());
            }
            let expected = values.first().and_then(|v| v.to_str().ok()).and_then(|v| {
                ["Bearer ", "bearer "]
                    .iter()
                    .find_map(|scheme| v.strip_prefix(scheme))
                    .map(str::trim)
            });
            prop_assert_eq!(bearer_secret(&headers), expected);
        }
    }

    #[test]
    fn hashes_are_sha256_hex() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
