//! Who is calling: the admin bearer token, or a user's Basic credentials checked against the
//! store. Users with `admin: true` act as the administrator; others act as end users on their
//! own devices. No credentials, or wrong ones, is a 401 with challenges.
//!
//! Argon2 is slow on purpose, so a successful Basic check is remembered, keyed by the user, a
//! SHA-256 of the password and the stored password hash: a changed password (new hash) or a
//! different password never hits an old entry.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tether_store::{Origin, Store};

use super::error::ApiError;
use super::AppState;
use crate::config::AdminToken;

/// Most remembered Basic verifications; the set is emptied when full.
const CACHE_LIMIT: usize = 4096;

/// The authenticated caller of one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Caller {
    /// The admin token, or a user with the admin role (their id).
    Admin { user: Option<String> },
    /// A user without the admin role.
    EndUser { user: String },
}

impl Caller {
    pub fn origin(&self) -> Origin {
        match self {
            Caller::Admin { .. } => Origin::Admin,
            Caller::EndUser { user } => Origin::EndUser(user.clone()),
        }
    }

    /// Refuses end users.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        match self {
            Caller::Admin { .. } => Ok(()),
            Caller::EndUser { user } => Err(ApiError::forbidden(format!(
                "user {user} does not have the admin role"
            ))),
        }
    }
}

type CacheKey = (String, [u8; 32], String);

pub struct Auth {
    token: AdminToken,
    verified: Mutex<HashSet<CacheKey>>,
}

impl Auth {
    pub fn new(token: AdminToken) -> Auth {
        Auth {
            token,
            verified: Mutex::new(HashSet::new()),
        }
    }

    fn token_matches(&self, presented: &str) -> bool {
        bool::from(presented.as_bytes().ct_eq(self.token.as_str().as_bytes()))
    }

    /// Checks `user:password` against the store, through the cache.
    async fn basic(&self, store: &Arc<Store>, user: &str, password: &str) -> Option<Caller> {
        // Read the hash before verifying: the entry is remembered under the hash that was checked.
        let hash = store.snapshot().password_hash(user)?.to_owned();
        let key: CacheKey = (
            user.to_owned(),
            Sha256::digest(password.as_bytes()).into(),
            hash,
        );
        let cached = self
            .verified
            .lock()
            .map(|s| s.contains(&key))
            .unwrap_or(false);
        if !cached {
            let store = Arc::clone(store);
            let (u, p) = (user.to_owned(), password.to_owned());
            let ok = tokio::task::spawn_blocking(move || store.authenticate(&u, &p).is_some())
                .await
                .unwrap_or(false);
            if !ok {
                return None;
            }
            if let Ok(mut set) = self.verified.lock() {
                if set.len() >= CACHE_LIMIT {
                    set.clear();
                }
                set.insert(key);
            }
        }
        let snap = store.snapshot();
        let u = snap.user(user)?;
        Some(if u.admin {
            Caller::Admin {
                user: Some(u.id.clone()),
            }
        } else {
            Caller::EndUser { user: u.id.clone() }
        })
    }
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Some(value) = parts.headers.get(AUTHORIZATION) else {
            return Err(ApiError::unauthorized(
                "authentication required: Authorization: Bearer <admin token> or Basic <user:password>",
            ));
        };
        let value = value
            .to_str()
            .map_err(|_| ApiError::unauthorized("the Authorization header is not ASCII"))?;
        let (scheme, rest) = value.trim().split_once(' ').unwrap_or((value, ""));
        let rest = rest.trim();
        if scheme.eq_ignore_ascii_case("bearer") {
            if state.auth.token_matches(rest) {
                return Ok(Caller::Admin { user: None });
            }
            return Err(ApiError::unauthorized("the bearer token is not valid"));
        }
        if scheme.eq_ignore_ascii_case("basic") {
            let (user, password) = decode_basic(rest)
                .ok_or_else(|| ApiError::unauthorized("malformed Basic credentials"))?;
            return state
                .auth
                .basic(&state.store, &user, &password)
                .await
                .ok_or_else(|| ApiError::unauthorized("wrong user name or password"));
        }
        Err(ApiError::unauthorized(format!(
            "unsupported authorization scheme {scheme:?}; use Bearer or Basic"
        )))
    }
}

/// `base64(user:password)` → (user, password).
fn decode_basic(b64: &str) -> Option<(String, String)> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (user, password) = text.split_once(':')?;
    (!user.is_empty()).then(|| (user.to_owned(), password.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_decoding() {
        assert_eq!(
            decode_basic("YWxpY2U6YTpi"),
            Some(("alice".into(), "a:b".into()))
        );
        assert_eq!(decode_basic("!!!"), None);
        assert_eq!(decode_basic("OnB3"), None, "empty user");
        assert_eq!(decode_basic("YWxpY2U="), None, "no colon");
    }

    #[test]
    fn token_comparison() {
        let a = Auth::new(AdminToken::parse("0123456789abcdef").expect("token"));
        assert!(a.token_matches("0123456789abcdef"));
        assert!(!a.token_matches("0123456789abcdeX"));
        assert!(!a.token_matches(""));
    }
}
