//! Who is calling and what they may do. Every request but the OpenAPI document, the login page
//! and static files names a caller: a bearer token (random secret shown once, stored as a sha256
//! hash) or a dashboard session cookie (see [`crate::login`]). A caller has scopes (`read`,
//! `report`, `upload`, `triage`, `admin`) and a reach: one application (app tokens), the
//! applications its teams own (team tokens, users), or all of them (admin tokens and users).
//!
//! Traps: an application outside the caller's reach answers 404, as one that does not exist, so
//! that a caller cannot learn other teams' application names; a missing scope answers 403.
//! `report` needs a token bound to one application (hooks report for one application).

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rand::RngCore;
use runbom_store::{Store, StoreError, TokenRecord, UserRecord};
use sha2::{Digest, Sha256};

use crate::AppState;
use crate::error::ApiError;
use crate::time::now_ms;

/// Something a caller may be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// See applications, findings, components, the overview and live events.
    Read,
    /// Send runtime reports (app tokens only).
    Report,
    /// Upload an expected inventory.
    Upload,
    /// Change a finding's analysis.
    Triage,
    /// Tokens, teams, users, webhooks, the delivery log.
    Admin,
}

impl Scope {
    pub const ALL: [Scope; 5] = [
        Scope::Read,
        Scope::Report,
        Scope::Upload,
        Scope::Triage,
        Scope::Admin,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scope::Read => "read",
            Scope::Report => "report",
            Scope::Upload => "upload",
            Scope::Triage => "triage",
            Scope::Admin => "admin",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of scopes, written as a comma-separated list (`read,triage`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes(u8);

/// A scope list naming something that is no scope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope `{0}` (scopes: read, report, upload, triage, admin)")]
pub struct UnknownScope(pub String);

impl Scopes {
    pub fn of(scopes: &[Scope]) -> Self {
        Scopes(scopes.iter().fold(0, |bits, s| bits | s.bit()))
    }

    /// Parses `read,report`; blanks around names and empty items are ignored.
    pub fn parse(list: &str) -> Result<Self, UnknownScope> {
        let mut scopes = Scopes::default();
        for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let scope = Scope::ALL
                .into_iter()
                .find(|s| s.name() == item)
                .ok_or_else(|| UnknownScope(item.to_owned()))?;
            scopes.0 |= scope.bit();
        }
        Ok(scopes)
    }

    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Scope::ALL
            .into_iter()
            .filter(|s| self.contains(*s))
            .map(Scope::name)
            .collect();
        f.write_str(&names.join(","))
    }
}

/// What an app token may do unless told otherwise.
pub const APP_TOKEN_SCOPES: [Scope; 2] = [Scope::Report, Scope::Upload];
/// What an admin token (and an admin user) may do: everything but report.
pub const ADMIN_SCOPES: [Scope; 4] = [Scope::Read, Scope::Upload, Scope::Triage, Scope::Admin];
/// What a user who is no admin may do, on their teams' applications.
pub const USER_SCOPES: [Scope; 3] = [Scope::Read, Scope::Upload, Scope::Triage];

/// The applications a caller reaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reach {
    All,
    Apps(Arc<BTreeSet<String>>),
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    /// `token <id>` or `user <name>`: who did something, for logs and audit trails.
    pub name: String,
    scopes: Scopes,
    reach: Reach,
    /// The one application a token is bound to (the only one it may report for).
    bound_app: Option<String>,
    /// The token's id, when the caller is a token.
    token_id: Option<String>,
    /// The CSRF token of the caller's session, when the caller is a dashboard user.
    pub csrf: Option<String>,
}

impl Caller {
    /// 403 unless the caller has `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scopes.contains(scope) {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                format!("the `{}` scope is required", scope.name()),
            ))
        }
    }

    /// Whether `app` is within the caller's reach.
    pub fn sees(&self, app: &str) -> bool {
        match &self.reach {
            Reach::All => true,
            Reach::Apps(apps) => apps.contains(app),
        }
    }

    /// 404 unless `app` is within reach (out of reach looks the same as absent).
    pub fn reach_app(&self, app: &str) -> Result<(), ApiError> {
        if self.sees(app) {
            Ok(())
        } else {
            Err(ApiError::not_found("application"))
        }
    }

    /// The applications within reach; `None` for all.
    pub fn apps(&self) -> Option<Vec<String>> {
        match &self.reach {
            Reach::All => None,
            Reach::Apps(apps) => Some(apps.iter().cloned().collect()),
        }
    }

    /// Whether the caller reaches every application (the portfolio-wide views).
    pub fn sees_all(&self) -> bool {
        self.reach == Reach::All
    }

    /// A caller with every scope on every application, for unit tests.
    #[cfg(test)]
    pub fn for_tests(name: &str) -> Caller {
        Caller {
            name: name.to_owned(),
            scopes: Scopes::of(&Scope::ALL),
            reach: Reach::All,
            bound_app: None,
            token_id: None,
            csrf: None,
        }
    }
}

/// A token just created: the secret exists only here.
#[derive(Debug, Clone)]
pub struct NewToken {
    pub id: String,
    pub secret: String,
}

/// What a new token is for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TokenGrant {
    /// The one application it acts on.
    pub app: Option<String>,
    /// The team whose applications it acts on.
    pub team: Option<String>,
    pub scopes: Scopes,
}

/// A token that cannot be made as asked.
#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    #[error("the `report` scope needs a token bound to one application (`app`)")]
    ReportWithoutApp,
    #[error("a token is bound to an application or to a team, not both")]
    AppAndTeam,
    #[error("a token without an application or team reaches nothing unless it has `admin`")]
    ReachesNothing,
    #[error("a token needs at least one scope")]
    NoScope,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl TokenGrant {
    /// An app token: report and upload for `app`.
    pub fn app(app: &str) -> Self {
        TokenGrant {
            app: Some(app.to_owned()),
            team: None,
            scopes: Scopes::of(&APP_TOKEN_SCOPES),
        }
    }

    /// An admin token: every application, every scope but report.
    pub fn admin() -> Self {
        TokenGrant {
            app: None,
            team: None,
            scopes: Scopes::of(&ADMIN_SCOPES),
        }
    }

    fn validated(&self) -> Result<(), GrantError> {
        if self.scopes == Scopes::default() {
            return Err(GrantError::NoScope);
        }
        if self.app.is_some() && self.team.is_some() {
            return Err(GrantError::AppAndTeam);
        }
        if self.scopes.contains(Scope::Report) && self.app.is_none() {
            return Err(GrantError::ReportWithoutApp);
        }
        if self.app.is_none() && self.team.is_none() && !self.scopes.contains(Scope::Admin) {
            return Err(GrantError::ReachesNothing);
        }
        Ok(())
    }
}

/// A random secret of 32 bytes as hex.
pub(crate) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// A new random secret (a password for a user made by a program, such as the demo's).
pub fn random_secret() -> String {
    random_hex(16)
}

/// Creates a token as `grant` says and stores its hash; the secret is returned only here.
pub async fn create_token(store: &Store, grant: &TokenGrant) -> Result<NewToken, GrantError> {
    grant.validated()?;
    let kind = match (&grant.app, &grant.team) {
        (Some(_), _) => "app",
        (None, Some(_)) => "team",
        (None, None) => "admin",
    };
    let secret = format!("runbom_{kind}_{}", random_hex(32));
    store_token(store, grant, &secret).await
}

/// Stores the hash of a secret chosen elsewhere (the setup secret from the environment).
async fn store_token(
    store: &Store,
    grant: &TokenGrant,
    secret: &str,
) -> Result<NewToken, GrantError> {
    let id = random_hex(4);
    let record = TokenRecord {
        id: id.clone(),
        app: grant.app.clone(),
        team: grant.team.clone(),
        scopes: grant.scopes.to_string(),
        created_at: now_ms(),
        revoked_at: None,
    };
    store
        .create_token(&record, &hash(secret), record.created_at)
        .await?;
    Ok(NewToken {
        id,
        secret: secret.to_owned(),
    })
}

/// The environment variable that may hold the setup secret of a new server.
pub const SETUP_SECRET_VAR: &str = "RUNBOM_SETUP_SECRET";

/// Shortest setup secret taken from [`SETUP_SECRET_VAR`].
const MIN_SETUP_SECRET: usize = 24;

/// How a server without any token or user was set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Setup {
    /// The store had credentials already: nothing done.
    AlreadySetUp,
    /// An admin token was made from [`SETUP_SECRET_VAR`].
    FromEnvironment,
    /// An admin token was made with this new secret, to print once.
    Generated(String),
}

/// A setup secret from the environment that is too weak to use.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("`{SETUP_SECRET_VAR}` must be at least {MIN_SETUP_SECRET} characters long")]
    TooShort,
    #[error(transparent)]
    Grant(#[from] GrantError),
}

/// On a store with no token and no user, creates the first admin token: from `from_env` when
/// given, else with a new random secret that the caller prints once. Never an open server.
pub async fn set_up(store: &Store, from_env: Option<&str>) -> Result<Setup, SetupError> {
    if store.has_credentials().await.map_err(GrantError::from)? {
        return Ok(Setup::AlreadySetUp);
    }
    match from_env.map(str::trim) {
        Some(secret) if secret.len() < MIN_SETUP_SECRET => Err(SetupError::TooShort),
        Some(secret) => {
            store_token(store, &TokenGrant::admin(), secret).await?;
            Ok(Setup::FromEnvironment)
        }
        None => {
            let token = create_token(store, &TokenGrant::admin()).await?;
            Ok(Setup::Generated(token.secret))
        }
    }
}

pub(crate) fn hash(secret: &str) -> String {
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

pub(crate) fn unauthorized() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "a valid bearer token or dashboard session is required",
    )
}

/// How long a token found live is trusted without asking the store again: the delay before a
/// revocation made by another process (`runbom admin token revoke`, another server), or a
/// change of a team's applications, takes effect here. A revocation through this server's API
/// takes effect at once.
const TOKEN_TTL: Duration = Duration::from_secs(5);

/// Tokens at most in [`TokenCache`]; when full it starts again empty.
const TOKEN_CACHE_SIZE: usize = 10_000;

/// Callers of live tokens by secret hash, as the store said within [`TOKEN_TTL`]: the ingest
/// path authenticates every report, and hooks report often. Tokens with the `admin` scope are
/// never cached, and neither is an unknown or revoked token.
#[derive(Debug, Default)]
pub(crate) struct TokenCache {
    live: Mutex<HashMap<String, (Caller, Instant)>>,
}

impl TokenCache {
    /// The map; a panic elsewhere while it was held leaves nothing half-written in it.
    fn live(&self) -> MutexGuard<'_, HashMap<String, (Caller, Instant)>> {
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn get(&self, hash: &str) -> Option<Caller> {
        let live = self.live();
        live.get(hash)
            .filter(|(_, checked)| checked.elapsed() < TOKEN_TTL)
            .map(|(caller, _)| caller.clone())
    }

    fn remember(&self, hash: String, caller: &Caller) {
        let mut live = self.live();
        if live.len() >= TOKEN_CACHE_SIZE {
            live.clear();
        }
        live.insert(hash, (caller.clone(), Instant::now()));
    }

    /// Drops the token with this id (revoked through this server).
    pub(crate) fn forget(&self, id: &str) {
        let mut live = self.live();
        live.retain(|_, (caller, _)| caller.token_id.as_deref() != Some(id));
    }
}

/// The caller a stored token makes.
async fn token_caller(store: &Store, token: TokenRecord) -> Result<Caller, ApiError> {
    // A scope list this server cannot read grants nothing rather than failing every request.
    let scopes = Scopes::parse(&token.scopes).unwrap_or_default();
    let reach = match (&token.app, &token.team) {
        (Some(app), _) => Reach::Apps(Arc::new(BTreeSet::from([app.clone()]))),
        (None, Some(team)) => Reach::Apps(Arc::new(
            store
                .team_applications(std::slice::from_ref(team))
                .await?
                .into_iter()
                .collect(),
        )),
        (None, None) if scopes.contains(Scope::Admin) => Reach::All,
        (None, None) => Reach::Apps(Arc::default()),
    };
    Ok(Caller {
        name: format!("token {}", token.id),
        scopes,
        reach,
        bound_app: token.app,
        token_id: Some(token.id),
        csrf: None,
    })
}

/// The caller a logged-in user makes, with their session's CSRF token.
pub(crate) async fn user_caller(
    store: &Store,
    user: &UserRecord,
    csrf: String,
) -> Result<Caller, ApiError> {
    let (scopes, reach) = if user.admin {
        (Scopes::of(&ADMIN_SCOPES), Reach::All)
    } else {
        let apps = store.team_applications(&user.teams).await?;
        (
            Scopes::of(&USER_SCOPES),
            Reach::Apps(Arc::new(apps.into_iter().collect())),
        )
    };
    Ok(Caller {
        name: format!("user {}", user.name),
        scopes,
        reach,
        bound_app: None,
        token_id: None,
        csrf: Some(csrf),
    })
}

/// The caller of a request: its bearer token when it has an `Authorization` header (401 when
/// that token is not live), else its dashboard session; 401 with neither.
pub(crate) async fn authenticate(
    store: &Store,
    cache: &TokenCache,
    headers: &HeaderMap,
) -> Result<Caller, ApiError> {
    if headers.contains_key(header::AUTHORIZATION) {
        let secret = bearer_secret(headers).ok_or_else(unauthorized)?;
        let hash = hash(secret);
        if let Some(caller) = cache.get(&hash) {
            return Ok(caller);
        }
        let token = store.token_by_hash(&hash).await?.ok_or_else(unauthorized)?;
        let caller = token_caller(store, token).await?;
        if !caller.scopes.contains(Scope::Admin) {
            cache.remember(hash, &caller);
        }
        return Ok(caller);
    }
    crate::login::session_caller(store, headers)
        .await?
        .ok_or_else(unauthorized)
}

/// Every API handler names its caller: 401 without a live token or session.
impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        authenticate(&state.store, &state.tokens, &parts.headers).await
    }
}

/// A dashboard page's caller, who may read: without a login the page answers 401 with the login
/// form in its place; without the `read` scope, 403.
#[derive(Debug)]
pub(crate) struct Viewer(pub Caller);

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let caller = authenticate(&state.store, &state.tokens, &parts.headers)
            .await
            .map_err(|err| match err.status {
                StatusCode::UNAUTHORIZED => {
                    crate::login::login_page(StatusCode::UNAUTHORIZED, None)
                }
                _ => err.into_response(),
            })?;
        caller
            .require(Scope::Read)
            .map_err(IntoResponse::into_response)?;
        Ok(Viewer(caller))
    }
}

/// The application the request's token reports for (401: no valid token; 403: a token without
/// the `report` scope or bound to no application).
pub(crate) async fn require_reporter(
    store: &Store,
    cache: &TokenCache,
    headers: &HeaderMap,
) -> Result<String, ApiError> {
    let caller = authenticate(store, cache, headers).await?;
    caller.require(Scope::Report)?;
    caller.bound_app.ok_or_else(|| {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "an application token is required to report",
        )
    })
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

        /// Any text as a scope list: an error naming the first unknown item, or scopes that
        /// print back as a list the parser reads to the same set.
        #[test]
        fn any_scope_list_parses_or_names_the_bad_item(list in "[a-z, ]{0,30}") {
            match Scopes::parse(&list) {
                Ok(scopes) => prop_assert_eq!(Scopes::parse(&scopes.to_string()), Ok(scopes)),
                Err(UnknownScope(item)) => prop_assert!(list.contains(&item)),
            }
        }
    }

    #[test]
    fn hashes_are_sha256_hex() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn scopes_read_and_print_as_lists() {
        let scopes = Scopes::parse(" triage, read,,").unwrap();
        assert!(scopes.contains(Scope::Read) && scopes.contains(Scope::Triage));
        assert!(!scopes.contains(Scope::Admin));
        assert_eq!(scopes.to_string(), "read,triage");
        assert_eq!(
            Scopes::parse("read,root"),
            Err(UnknownScope("root".to_owned()))
        );
    }

    #[test]
    fn grants_that_make_no_sense_are_refused() {
        let report_for_team = TokenGrant {
            app: None,
            team: Some("web".to_owned()),
            scopes: Scopes::of(&[Scope::Report]),
        };
        assert!(matches!(
            report_for_team.validated(),
            Err(GrantError::ReportWithoutApp)
        ));
        let nothing = TokenGrant {
            scopes: Scopes::of(&[Scope::Read]),
            ..TokenGrant::default()
        };
        assert!(matches!(
            nothing.validated(),
            Err(GrantError::ReachesNothing)
        ));
        assert!(TokenGrant::app("shop").validated().is_ok());
        assert!(TokenGrant::admin().validated().is_ok());
    }
}
