//! Dashboard users: argon2id password hashes, the login page, server-side sessions behind a
//! `Secure; HttpOnly; SameSite=Strict` cookie holding a random id (the store keeps its sha256),
//! CSRF tokens for the dashboard's forms, and a login rate limit per client address and per
//! user name.
//!
//! Traps: the login form itself carries a CSRF token too (double submit: a short-lived cookie and
//! the same value in the form), so that another site cannot log a browser in as someone else; an
//! unknown user name costs the same hash as a wrong password, so timing does not tell which
//! names exist; the rate limit counts failures only, and is checked before the password.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use askama::Template;
use axum::Form;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use runbom_store::{SessionRecord, Store, StoreError};
use serde::Deserialize;

use crate::AppState;
use crate::auth::{self, Caller, Viewer, random_hex};
use crate::error::ApiError;
use crate::time::now_ms;

/// The session cookie's name.
pub(crate) const SESSION_COOKIE: &str = "runbom_session";
/// The login form's CSRF cookie (double submit).
const LOGIN_COOKIE: &str = "runbom_login";
/// How long a session lasts from login.
const SESSION_LIFETIME: Duration = Duration::from_secs(12 * 3600);
/// How long a login form may stay open.
const LOGIN_FORM_LIFETIME: Duration = Duration::from_secs(600);
/// Failed logins counted per address and per user within [`FAILURE_WINDOW`] before refusing.
const FAILURES_PER_ADDRESS: usize = 10;
const FAILURES_PER_USER: usize = 5;
const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Keys the limiter tracks at most; when full it forgets the oldest windows first.
const LIMITER_KEYS: usize = 100_000;

/// A password that cannot be hashed, or a user that cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("a password must be at least {MIN_PASSWORD} characters long")]
    PasswordTooShort,
    #[error("a user name must be 1 to 64 letters, digits, `.`, `_`, `-` or `@`")]
    BadName,
    #[error("user `{0}` exists")]
    Exists(String),
    #[error("no team `{0}`")]
    NoTeam(String),
    #[error("cannot hash the password: {0}")]
    Hash(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Shortest password accepted.
pub const MIN_PASSWORD: usize = 12;

/// The argon2id PHC string of `password` (default parameters: 19 MiB, 2 passes).
pub fn hash_password(password: &str) -> Result<String, UserError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|err| UserError::Hash(err.to_string()))
}

/// Whether `password` matches the PHC string `phc`; false for a string that is no hash.
fn password_matches(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// Creates a dashboard user in `teams` (each must exist).
pub async fn create_user(
    store: &Store,
    name: &str,
    password: &str,
    admin: bool,
    teams: &[String],
) -> Result<(), UserError> {
    let valid_name = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if !valid_name {
        return Err(UserError::BadName);
    }
    if password.chars().count() < MIN_PASSWORD {
        return Err(UserError::PasswordTooShort);
    }
    for team in teams {
        if !store.team_exists(team).await? {
            return Err(UserError::NoTeam(team.clone()));
        }
    }
    let password = password.to_owned();
    let hash = tokio::task::spawn_blocking(move || hash_password(&password))
        .await
        .map_err(|err| UserError::Hash(err.to_string()))??;
    if !store.create_user(name, &hash, admin, now_ms()).await? {
        return Err(UserError::Exists(name.to_owned()));
    }
    for team in teams {
        store.add_team_member(team, name).await?;
    }
    Ok(())
}

/// The value of cookie `name` in the request's `Cookie` headers.
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
}

/// The logged-in user of the request's session cookie, if it names a live session of a user
/// who is not disabled.
pub(crate) async fn session_caller(
    store: &Store,
    headers: &HeaderMap,
) -> Result<Option<Caller>, ApiError> {
    let Some(id) = cookie(headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let Some(session) = store.session(&auth::hash(id), now_ms()).await? else {
        return Ok(None);
    };
    let Some(user) = store.user(&session.user).await? else {
        return Ok(None);
    };
    if user.disabled_at.is_some() {
        return Ok(None);
    }
    Ok(Some(auth::user_caller(store, &user, session.csrf).await?))
}

/// 403 unless `submitted` is the CSRF token of the caller's session. Token callers have no
/// session: a browser never sends a bearer token on its own, so there is nothing to forge.
pub(crate) fn check_csrf(caller: &Caller, submitted: &str) -> Result<(), ApiError> {
    match &caller.csrf {
        Some(expected) if constant_time_eq(expected, submitted) => Ok(()),
        Some(_) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "the form's CSRF token is missing or wrong; reload the page",
        )),
        None => Ok(()),
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |diff, (x, y)| diff | (x ^ y))
            == 0
}

/// Failed logins per key (`address …`, `user …`) within the window.
#[derive(Debug, Default)]
pub(crate) struct LoginLimiter {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginLimiter {
    fn failures(&self) -> MutexGuard<'_, HashMap<String, VecDeque<Instant>>> {
        self.failures.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether `key` has `limit` failures within the window already.
    fn exhausted(&self, key: &str, limit: usize) -> bool {
        let mut failures = self.failures();
        let Some(times) = failures.get_mut(key) else {
            return false;
        };
        while times.front().is_some_and(|t| t.elapsed() >= FAILURE_WINDOW) {
            times.pop_front();
        }
        times.len() >= limit
    }

    fn fail(&self, key: String) {
        let mut failures = self.failures();
        if failures.len() >= LIMITER_KEYS {
            failures.retain(|_, times| times.back().is_some_and(|t| t.elapsed() < FAILURE_WINDOW));
            if failures.len() >= LIMITER_KEYS {
                failures.clear();
            }
        }
        failures.entry(key).or_default().push_back(Instant::now());
    }

    fn forget(&self, key: &str) {
        self.failures().remove(key);
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    csrf: String,
    message: Option<String>,
}

fn cookie_header(name: &str, value: &str, path: &str, max_age: Duration) -> HeaderValue {
    let cookie = format!(
        "{name}={value}; Path={path}; Max-Age={}; HttpOnly; Secure; SameSite=Strict",
        max_age.as_secs()
    );
    HeaderValue::from_str(&cookie).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The login page with a fresh form token, answered with `status`: 200 at `/login`, 401 in
/// place of a page that needs a login, 4xx after a failed attempt.
pub(crate) fn login_page(status: StatusCode, message: Option<String>) -> Response {
    let csrf = random_hex(16);
    let page = LoginPage {
        csrf: csrf.clone(),
        message,
    };
    let mut response = crate::dashboard::page(&page);
    *response.status_mut() = status;
    response.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(LOGIN_COOKIE, &csrf, "/login", LOGIN_FORM_LIFETIME),
    );
    response
}

pub(crate) async fn get_login() -> Response {
    login_page(StatusCode::OK, None)
}

#[derive(Debug, Deserialize)]
pub(crate) struct LoginForm {
    #[serde(default)]
    user: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
}

/// The client address a limit applies to: IPv6 clients by their /64, as one host holds many.
fn address_key(addr: IpAddr) -> String {
    match addr {
        IpAddr::V4(v4) => format!("address {v4}"),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("address {:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

pub(crate) async fn post_login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, ApiError> {
    let form_cookie = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if form.csrf.is_empty() || !constant_time_eq(form_cookie, &form.csrf) {
        return Ok(login_page(
            StatusCode::FORBIDDEN,
            Some("The login form expired; try again.".to_owned()),
        ));
    }
    let address = address_key(peer.ip());
    let user_key = format!("user {}", form.user);
    let limiter = &state.logins;
    if limiter.exhausted(&address, FAILURES_PER_ADDRESS)
        || limiter.exhausted(&user_key, FAILURES_PER_USER)
    {
        tracing::warn!("login refused by the rate limit: {address}, {user_key}");
        let mut response = login_page(
            StatusCode::TOO_MANY_REQUESTS,
            Some("Too many failed logins; wait a few minutes.".to_owned()),
        );
        response.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(FAILURE_WINDOW.as_secs()),
        );
        return Ok(response);
    }
    let user = state.store.user(&form.user).await?;
    let phc = user
        .as_ref()
        .filter(|u| u.disabled_at.is_none())
        .map(|u| u.password_hash.clone());
    let password = form.password;
    // Without a user, a dummy hash is checked: the answer takes as long either way.
    let matches = tokio::task::spawn_blocking(move || match phc {
        Some(phc) => password_matches(&password, &phc),
        None => {
            let _ = password_matches(&password, dummy_hash());
            false
        }
    })
    .await
    .unwrap_or(false);
    let Some(user) = user.filter(|_| matches) else {
        limiter.fail(address);
        limiter.fail(user_key);
        return Ok(login_page(
            StatusCode::UNAUTHORIZED,
            Some("Wrong user name or password.".to_owned()),
        ));
    };
    limiter.forget(&user_key);
    let id = random_hex(32);
    let now = now_ms();
    let session = SessionRecord {
        user: user.name,
        csrf: random_hex(16),
        expires_at: now + i64::try_from(SESSION_LIFETIME.as_millis()).unwrap_or(i64::MAX),
    };
    state
        .store
        .create_session(&auth::hash(&id), &session, now)
        .await?;
    let mut response = Redirect::to("/").into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        cookie_header(SESSION_COOKIE, &id, "/", SESSION_LIFETIME),
    );
    headers.append(
        header::SET_COOKIE,
        cookie_header(LOGIN_COOKIE, "", "/login", Duration::ZERO),
    );
    Ok(response)
}

/// A fixed argon2id hash no password is known for.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_password(&random_hex(16)).unwrap_or_default())
}

#[derive(Debug, Deserialize)]
pub(crate) struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

#[derive(Template)]
#[template(path = "logout.html")]
struct LogoutPage {
    user: String,
    csrf: String,
}

/// `GET /logout`: a page with the logout form (a link cannot carry the CSRF token safely).
pub(crate) async fn get_logout(Viewer(caller): Viewer) -> Response {
    match &caller.csrf {
        Some(csrf) => crate::dashboard::page(&LogoutPage {
            user: caller.name.trim_start_matches("user ").to_owned(),
            csrf: csrf.clone(),
        }),
        None => Redirect::to("/").into_response(),
    }
}

/// `POST /logout`: ends the session (its cookie is refused from now on, even if replayed).
pub(crate) async fn post_logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ApiError> {
    let caller = session_caller(&state.store, &headers)
        .await?
        .ok_or_else(auth::unauthorized)?;
    check_csrf(&caller, &form.csrf)?;
    if let Some(id) = cookie(&headers, SESSION_COOKIE) {
        state.store.delete_session(&auth::hash(id)).await?;
    }
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(SESSION_COOKIE, "", "/", Duration::ZERO),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn passwords_hash_to_argon2id_and_verify() {
        let phc = hash_password("correct horse battery").unwrap();
        assert!(phc.starts_with("$argon2id$"), "{phc}");
        assert!(password_matches("correct horse battery", &phc));
        assert!(!password_matches("correct horse batterz", &phc));
        assert!(!password_matches("anything", "not a hash"));
    }

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("a=1; runbom_session=abc"),
        );
        headers.append(header::COOKIE, HeaderValue::from_static("b=2"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, "b"), Some("2"));
        assert_eq!(cookie(&headers, "runbom"), None);
    }

    #[test]
    fn the_limiter_counts_failures_per_key() {
        let limiter = LoginLimiter::default();
        for _ in 0..3 {
            assert!(!limiter.exhausted("user ana", 3));
            limiter.fail("user ana".to_owned());
        }
        assert!(limiter.exhausted("user ana", 3));
        assert!(!limiter.exhausted("user bob", 3));
        limiter.forget("user ana");
        assert!(!limiter.exhausted("user ana", 3));
    }

    #[test]
    fn ipv6_clients_are_limited_by_their_64() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert_eq!(address_key(a), address_key(b));
        assert_eq!(address_key("10.0.0.1".parse().unwrap()), "address 10.0.0.1");
    }

    proptest! {
        /// Any `Cookie` header: found or not, never a panic.
        #[test]
        fn any_cookie_header_is_read_safely(value in "[ -~]{0,80}") {
            let mut headers = HeaderMap::new();
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(header::COOKIE, value);
            }
            let found = cookie(&headers, SESSION_COOKIE);
            prop_assert!(found.is_none_or(|v| value.contains(v)));
        }
    }
}
