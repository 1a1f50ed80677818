//! [`AuthError`]: every way digest authentication can fail, grouped by who is at fault.
//!
//! It only names failures; it must not decide the SIP response — the caller maps each variant
//! (see the variant docs) to a 400, a fresh 401/407, a 401/407 with `stale=true`, or a 403.

use std::fmt;

/// Why a digest header value could not be parsed, answered or verified.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthError {
    // --- invalid message: answer 400 ---
    /// The header value does not follow the auth grammar.
    Malformed {
        /// What was wrong, for logs.
        reason: &'static str,
    },
    /// A parameter the digest scheme requires is absent.
    MissingParam(&'static str),

    // --- peer incompatible: answer with a fresh challenge ---
    /// The auth scheme is not `Digest` (e.g. `Basic`, `NoOneKnowsThisScheme`).
    UnsupportedScheme {
        /// The scheme as received.
        scheme: String,
    },
    /// The `algorithm` is unknown or not accepted by this server.
    UnsupportedAlgorithm {
        /// The algorithm as received.
        algorithm: String,
    },
    /// The `qop` is not `auth` (e.g. `auth-int`), or the challenge offers no qop we support.
    UnsupportedQop {
        /// The qop value(s) as received.
        qop: String,
    },

    // --- peer misbehaved or wrong credentials ---
    /// The credentials name a realm other than ours: answer with a fresh challenge.
    RealmMismatch,
    /// The nonce was not issued by us (bad format or bad MAC): answer with a fresh challenge.
    BadNonce,
    /// The nonce is authentic and the response correct, but the nonce has expired (or has been
    /// forgotten by the replay window): answer with a challenge carrying `stale=true`.
    StaleNonce,
    /// The nonce count did not increase for this nonce (a replay, or a client reusing `nc`):
    /// answer like [`AuthError::StaleNonce`], with `stale=true`.
    NonceCountReplay,
    /// The user is unknown. Answer exactly like [`AuthError::BadResponse`], so as not to reveal
    /// which users exist.
    UnknownUser,
    /// The response digest is wrong (wrong password, tampered request): 403, or a fresh challenge.
    BadResponse,

    // --- API misuse: a bug or bad configuration on our side ---
    /// The server configuration cannot be used.
    InvalidConfig {
        /// What was wrong.
        reason: &'static str,
    },
}

impl AuthError {
    /// True when the right answer is a new challenge with `stale=true`: the client knew the
    /// password, only the nonce must be renewed.
    pub fn is_stale(&self) -> bool {
        matches!(self, AuthError::StaleNonce | AuthError::NonceCountReplay)
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::Malformed { reason } => write!(f, "malformed auth header: {reason}"),
            AuthError::MissingParam(name) => write!(f, "missing auth parameter `{name}`"),
            AuthError::UnsupportedScheme { scheme } => {
                write!(f, "unsupported auth scheme `{scheme}`")
            }
            AuthError::UnsupportedAlgorithm { algorithm } => {
                write!(f, "unsupported digest algorithm `{algorithm}`")
            }
            AuthError::UnsupportedQop { qop } => write!(f, "unsupported qop `{qop}`"),
            AuthError::RealmMismatch => f.write_str("credentials are for another realm"),
            AuthError::BadNonce => f.write_str("nonce was not issued by this server"),
            AuthError::StaleNonce => f.write_str("nonce is stale"),
            AuthError::NonceCountReplay => f.write_str("nonce count did not increase"),
            AuthError::UnknownUser => f.write_str("unknown user"),
            AuthError::BadResponse => f.write_str("digest response does not match"),
            AuthError::InvalidConfig { reason } => write!(f, "invalid auth config: {reason}"),
        }
    }
}

impl std::error::Error for AuthError {}
