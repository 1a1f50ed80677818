//! [`DigestServer`]: issues challenges with stateless HMAC nonces and verifies credentials
//! (RFC 3261 §22.4, RFC 7616 §3.3–3.5, RFC 8760 §2.4).
//!
//! A nonce is `hex(issued_secs ‖ sequence ‖ HMAC-SHA256(key, realm ‖ issued_secs ‖ sequence)[..16])`,
//! so it can be verified without being stored. Every challenge carries `qop="auth"`; several
//! algorithms give one challenge each, strongest (SHA-256) first. Digests and MACs are compared
//! in constant time. An optional bounded window remembers the highest `nc` per nonce.
//!
//! Sans-IO: the time (`now`, a [`Duration`] since an epoch the caller picks and keeps) and the
//! user's secret are passed in; this file must not read a clock, a database or a SIP message.

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::challenge::Challenge;
use super::credentials::Credentials;
use super::digest::{self, to_hex, Algorithm, NonceCount, Qop, ResponseInput};
use super::AuthError;

type HmacSha256 = Hmac<Sha256>;

const TAG_LEN: usize = 16;
const NONCE_BYTES: usize = 8 + 8 + TAG_LEN;

/// What [`DigestServer`] needs to know.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The realm put in challenges and required in credentials.
    pub realm: String,
    /// The key of the nonce MAC: at least 16 bytes, random, kept across restarts if nonces
    /// issued before a restart should stay valid.
    pub secret: Vec<u8>,
    /// How long a nonce is accepted after it is issued; older ones yield `StaleNonce`.
    pub nonce_lifetime: Duration,
    /// Algorithms offered and accepted, in any order (challenges are sorted strongest first).
    pub algorithms: Vec<Algorithm>,
    /// How many nonces the `nc` replay window remembers; 0 turns replay checks off.
    pub replay_window: usize,
}

impl ServerConfig {
    /// Defaults: nonces live 5 minutes, SHA-256 and MD5 offered, 4096 nonces remembered.
    pub fn new(realm: impl Into<String>, secret: impl Into<Vec<u8>>) -> Self {
        ServerConfig {
            realm: realm.into(),
            secret: secret.into(),
            nonce_lifetime: Duration::from_secs(300),
            algorithms: vec![Algorithm::Sha256, Algorithm::Md5],
            replay_window: 4096,
        }
    }
}

/// The secret a server holds for one user, for one algorithm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserSecret {
    /// The plaintext password.
    Password(String),
    /// The hex `H(username:realm:password)` for the algorithm asked about (MD5 and SHA-256
    /// HA1s differ; store one per algorithm).
    Ha1(String),
}

/// A successful verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The authenticated user.
    pub username: String,
    /// The algorithm the client used.
    pub algorithm: Algorithm,
    /// The `uri` the digest covers. The caller should check that it designates the
    /// Request-URI (RFC 7616 §3.4.6); this module does not know the request.
    pub uri: String,
    /// The nonce count the client sent.
    pub nc: Option<NonceCount>,
}

/// Digest authentication server for one realm.
#[derive(Debug)]
pub struct DigestServer {
    realm: String,
    mac: HmacSha256,
    nonce_lifetime: Duration,
    algorithms: Vec<Algorithm>,
    sequence: u64,
    replay: Option<ReplayWindow>,
}

impl DigestServer {
    /// Builds a server. Errors with [`AuthError::InvalidConfig`] for an empty realm or one with
    /// CR/LF, a secret shorter than 16 bytes, a zero lifetime or no algorithm.
    pub fn new(config: ServerConfig) -> Result<Self, AuthError> {
        let bad = |reason| Err(AuthError::InvalidConfig { reason });
        if config.realm.is_empty() || config.realm.contains(['\r', '\n']) {
            return bad("realm must be non-empty and single-line");
        }
        if config.secret.len() < 16 {
            return bad("secret must be at least 16 bytes");
        }
        if config.nonce_lifetime.is_zero() {
            return bad("nonce lifetime must be positive");
        }
        let mut algorithms = config.algorithms;
        algorithms.sort_by_key(|a| std::cmp::Reverse(a.strength()));
        algorithms.dedup();
        if algorithms.is_empty() {
            return bad("at least one algorithm is needed");
        }
        let Ok(mac) = HmacSha256::new_from_slice(&config.secret) else {
            return bad("secret not usable as an HMAC key");
        };
        Ok(DigestServer {
            realm: config.realm,
            mac,
            nonce_lifetime: config.nonce_lifetime,
            algorithms,
            sequence: 0,
            replay: (config.replay_window > 0).then(|| ReplayWindow::new(config.replay_window)),
        })
    }

    /// The realm.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// Issues a fresh nonce, valid for the configured lifetime from `now`.
    pub fn issue_nonce(&mut self, now: Duration) -> String {
        self.sequence = self.sequence.wrapping_add(1);
        let issued = now.as_secs();
        let mut bytes = Vec::with_capacity(NONCE_BYTES);
        bytes.extend_from_slice(&issued.to_be_bytes());
        bytes.extend_from_slice(&self.sequence.to_be_bytes());
        let tag = self.tag(issued, self.sequence);
        bytes.extend_from_slice(tag.get(..TAG_LEN).unwrap_or(&tag));
        to_hex(&bytes)
    }

    /// The challenge header values (`WWW-Authenticate` for a 401, `Proxy-Authenticate` for a
    /// 407): one per configured algorithm, SHA-256 first (RFC 8760), each with its own fresh
    /// nonce and `qop="auth"`; with `stale=true` when re-challenging after
    /// [`AuthError::is_stale`].
    pub fn challenge(&mut self, now: Duration, stale: bool) -> Vec<String> {
        let algorithms = self.algorithms.clone();
        algorithms
            .into_iter()
            .map(|alg| {
                let mut c = Challenge::new(self.realm.clone(), self.issue_nonce(now));
                c.stale = stale;
                c.algorithm = Some(alg);
                c.qop = vec![Qop::Auth];
                c.to_header_value()
            })
            .collect()
    }

    /// Parses an `Authorization` / `Proxy-Authorization` value and verifies it.
    /// `lookup(username, algorithm)` returns the user's secret, or `None` for an unknown user.
    pub fn verify(
        &mut self,
        now: Duration,
        method: &str,
        credentials: &str,
        lookup: impl FnOnce(&str, Algorithm) -> Option<UserSecret>,
    ) -> Result<Verified, AuthError> {
        let creds = Credentials::parse(credentials)?;
        let secret = lookup(&creds.username, creds.effective_algorithm());
        self.verify_credentials(now, method, &creds, secret.as_ref())
    }

    /// Verifies parsed credentials against `secret` (`None`: unknown user). Use this two-step
    /// form when the secret must be fetched asynchronously after reading `creds.username`.
    ///
    /// Checks, in order: realm, algorithm, qop, nonce authenticity, user, response digest
    /// (constant time), nonce age (`StaleNonce` only for an otherwise correct request), and
    /// `nc` replay.
    pub fn verify_credentials(
        &mut self,
        now: Duration,
        method: &str,
        creds: &Credentials,
        secret: Option<&UserSecret>,
    ) -> Result<Verified, AuthError> {
        if creds.realm != self.realm {
            return Err(AuthError::RealmMismatch);
        }
        let algorithm = creds.effective_algorithm();
        if !self.algorithms.contains(&algorithm) {
            return Err(AuthError::UnsupportedAlgorithm {
                algorithm: algorithm.as_str().to_owned(),
            });
        }
        match &creds.qop {
            Some(Qop::Auth) => {}
            Some(other) => {
                return Err(AuthError::UnsupportedQop {
                    qop: other.as_str().to_owned(),
                })
            }
            // We always offer qop="auth", so a client must use it (RFC 7616 §3.4).
            None => return Err(AuthError::MissingParam("qop")),
        }
        let (issued, sequence) = self.check_nonce(&creds.nonce)?;
        // An unknown user costs the same hashing as a known one, so timing does not tell
        // which users exist.
        let ha1 = match secret {
            None => digest::ha1(algorithm, &creds.username, &self.realm, ""),
            Some(UserSecret::Password(p)) => {
                digest::ha1(algorithm, &creds.username, &self.realm, p)
            }
            Some(UserSecret::Ha1(h)) => h.to_ascii_lowercase(),
        };
        let expected = digest::response(
            &ha1,
            &ResponseInput {
                algorithm,
                nonce: &creds.nonce,
                cnonce: creds.cnonce.as_deref(),
                nc: creds.nc,
                qop: creds.qop.as_ref(),
                method,
                uri: &creds.uri,
            },
        )
        .ok_or(AuthError::BadResponse)?;
        let got = creds.response.to_ascii_lowercase();
        let matches = bool::from(expected.as_bytes().ct_eq(got.as_bytes()));
        if secret.is_none() {
            return Err(AuthError::UnknownUser);
        }
        if !matches {
            return Err(AuthError::BadResponse);
        }
        if now.as_secs().saturating_sub(issued) > self.nonce_lifetime.as_secs() {
            return Err(AuthError::StaleNonce);
        }
        if let (Some(window), Some(nc)) = (self.replay.as_mut(), creds.nc) {
            window.check(issued, sequence, nc)?;
        }
        Ok(Verified {
            username: creds.username.clone(),
            algorithm,
            uri: creds.uri.clone(),
            nc: creds.nc,
        })
    }

    fn tag(&self, issued: u64, sequence: u64) -> Vec<u8> {
        let mut mac = self.mac.clone();
        mac.update(self.realm.as_bytes());
        mac.update(&issued.to_be_bytes());
        mac.update(&sequence.to_be_bytes());
        mac.finalize().into_bytes().to_vec()
    }

    /// Decodes a nonce and checks its MAC; returns (issued seconds, sequence).
    fn check_nonce(&self, nonce: &str) -> Result<(u64, u64), AuthError> {
        let bytes = from_hex(nonce).ok_or(AuthError::BadNonce)?;
        if bytes.len() != NONCE_BYTES {
            return Err(AuthError::BadNonce);
        }
        let (head, tag) = bytes.split_at_checked(16).ok_or(AuthError::BadNonce)?;
        let (issued, sequence) = head.split_at_checked(8).ok_or(AuthError::BadNonce)?;
        let issued = u64::from_be_bytes(issued.try_into().map_err(|_| AuthError::BadNonce)?);
        let sequence = u64::from_be_bytes(sequence.try_into().map_err(|_| AuthError::BadNonce)?);
        let expected = self.tag(issued, sequence);
        let expected = expected.get(..TAG_LEN).ok_or(AuthError::BadNonce)?;
        if bool::from(expected.ct_eq(tag)) {
            Ok((issued, sequence))
        } else {
            Err(AuthError::BadNonce)
        }
    }
}

fn from_hex(s: &str) -> Option<Vec<u8>> {
    fn nibble(b: u8) -> Option<u8> {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    }
    let pairs = s.as_bytes().chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return None;
    }
    pairs
        .map(|pair| match pair {
            [hi, lo] => Some(nibble(*hi)? << 4 | nibble(*lo)?),
            _ => None,
        })
        .collect()
}

/// The highest `nc` seen per nonce, for at most `capacity` nonces. When a nonce is evicted,
/// every nonce issued no later than it and not remembered is answered `StaleNonce` (the client
/// re-authenticates with a fresh nonce) instead of being trusted with any `nc`.
#[derive(Debug)]
struct ReplayWindow {
    capacity: usize,
    highest: HashMap<(u64, u64), NonceCount>,
    order: VecDeque<(u64, u64)>,
    forgotten_up_to: Option<u64>,
}

impl ReplayWindow {
    fn new(capacity: usize) -> Self {
        ReplayWindow {
            capacity,
            highest: HashMap::new(),
            order: VecDeque::new(),
            forgotten_up_to: None,
        }
    }

    fn check(&mut self, issued: u64, sequence: u64, nc: NonceCount) -> Result<(), AuthError> {
        let key = (issued, sequence);
        if let Some(last) = self.highest.get_mut(&key) {
            if nc <= *last {
                return Err(AuthError::NonceCountReplay);
            }
            *last = nc;
            return Ok(());
        }
        if self.forgotten_up_to.is_some_and(|t| issued <= t) {
            return Err(AuthError::StaleNonce);
        }
        while self.order.len() >= self.capacity {
            let Some(old) = self.order.pop_front() else {
                break;
            };
            self.highest.remove(&old);
            self.forgotten_up_to = Some(self.forgotten_up_to.map_or(old.0, |t| t.max(old.0)));
        }
        self.highest.insert(key, nc);
        self.order.push_back(key);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::client::{answer_best, ClientRequest};
    use proptest::prelude::*;

    const T0: Duration = Duration::from_secs(1_700_000_000);

    fn server() -> DigestServer {
        DigestServer::new(ServerConfig::new(
            "tether.test",
            *b"0123456789abcdef0123456789abcdef",
        ))
        .expect("valid config")
    }

    fn alice(_: &str, _: Algorithm) -> Option<UserSecret> {
        Some(UserSecret::Password("s3cret".into()))
    }

    fn request<'a>(password: &'a str, cnonce: &'a str, nc: u32) -> ClientRequest<'a> {
        ClientRequest {
            username: "alice",
            password,
            method: "REGISTER",
            uri: "sip:tether.test",
            cnonce,
            nc: NonceCount(nc),
        }
    }

    fn answer_one(challenge: &str, req: &ClientRequest<'_>) -> String {
        answer_best([challenge], req)
            .expect("answers")
            .to_header_value()
    }

    /// The same hex string with its first digit changed.
    fn flip_first(hex: &str) -> String {
        let replacement = if hex.starts_with('0') { "1" } else { "0" };
        format!("{replacement}{}", hex.get(1..).unwrap_or(""))
    }

    #[test]
    fn challenge_offers_sha256_first_always_with_qop() {
        let mut s = server();
        let cs = s.challenge(T0, false);
        assert_eq!(cs.len(), 2);
        let parsed: Vec<Challenge> = cs
            .iter()
            .map(|c| Challenge::parse(c).expect("own challenge parses"))
            .collect();
        assert_eq!(parsed[0].algorithm, Some(Algorithm::Sha256));
        assert_eq!(parsed[1].algorithm, Some(Algorithm::Md5));
        assert_ne!(parsed[0].nonce, parsed[1].nonce);
        for (text, c) in cs.iter().zip(&parsed) {
            assert!(text.contains("qop=\"auth\""), "{text}");
            assert_eq!(c.realm, "tether.test");
            assert!(!c.stale);
        }
    }

    #[test]
    fn round_trip_sha256_and_md5_with_password_and_ha1() {
        for alg in [Algorithm::Sha256, Algorithm::Md5] {
            let mut s = server();
            let challenges = s.challenge(T0, false);
            let challenge = challenges
                .iter()
                .find(|c| Challenge::parse(c).map(|c| c.algorithm) == Ok(Some(alg)))
                .expect("offered");
            let auth = answer_one(challenge, &request("s3cret", "c0ffee", 1));
            let ok = s
                .verify(T0 + Duration::from_secs(10), "REGISTER", &auth, alice)
                .expect("verifies");
            assert_eq!(ok.username, "alice");
            assert_eq!(ok.algorithm, alg);
            assert_eq!(ok.uri, "sip:tether.test");

            // Same nonce, next nc, stored HA1 (uppercase hex is tolerated).
            let auth2 = answer_one(challenge, &request("s3cret", "c0ffee", 2));
            let stored = digest::ha1(alg, "alice", "tether.test", "s3cret").to_uppercase();
            let ok2 = s.verify(T0, "REGISTER", &auth2, |user, a| {
                assert_eq!((user, a), ("alice", alg));
                Some(UserSecret::Ha1(stored))
            });
            assert_eq!(ok2.map(|v| v.nc), Ok(Some(NonceCount(2))));
        }
    }

    #[test]
    fn client_picks_sha256_from_server_challenges() {
        let mut s = server();
        let challenges = s.challenge(T0, false);
        let auth = answer_best(
            challenges.iter().map(String::as_str),
            &request("s3cret", "x", 1),
        )
        .expect("answers")
        .to_header_value();
        assert!(auth.contains("algorithm=SHA-256"), "{auth}");
        assert!(s.verify(T0, "REGISTER", &auth, alice).is_ok());
    }

    #[test]
    fn expired_nonce_is_stale_and_rechallenge_says_so() {
        let mut s = server();
        let challenge = s.challenge(T0, false).remove(0);
        let auth = answer_one(&challenge, &request("s3cret", "abc", 1));
        let later = T0 + Duration::from_secs(301);
        let err = s.verify(later, "REGISTER", &auth, alice);
        assert_eq!(err, Err(AuthError::StaleNonce));
        assert!(err.as_ref().err().is_some_and(AuthError::is_stale));
        let again = s.challenge(later, true);
        assert!(again.iter().all(|c| c.contains("stale=true")));
        assert!(Challenge::parse(&again[0]).is_ok_and(|c| c.stale));
        // Exactly at the lifetime the nonce is still good.
        let mut s2 = server();
        let c2 = s2.challenge(T0, false).remove(0);
        let a2 = answer_one(&c2, &request("s3cret", "abc", 1));
        assert!(s2
            .verify(T0 + Duration::from_secs(300), "REGISTER", &a2, alice)
            .is_ok());
    }

    #[test]
    fn expired_nonce_with_wrong_password_is_not_stale() {
        let mut s = server();
        let challenge = s.challenge(T0, false).remove(0);
        let auth = answer_one(&challenge, &request("wrong", "abc", 1));
        assert_eq!(
            s.verify(T0 + Duration::from_secs(3600), "REGISTER", &auth, alice),
            Err(AuthError::BadResponse)
        );
    }

    #[test]
    fn rejects_tampering_wrong_realm_wrong_password_unknown_user() {
        let mut s = server();
        let challenge = s.challenge(T0, false).remove(0);
        let auth = answer_one(&challenge, &request("s3cret", "abc", 1));
        let creds = Credentials::parse(&auth).expect("parses");

        let mut bad_nonce = creds.clone();
        bad_nonce.nonce = flip_first(&bad_nonce.nonce);
        let pw = UserSecret::Password("s3cret".into());
        assert_eq!(
            s.verify_credentials(T0, "REGISTER", &bad_nonce, Some(&pw)),
            Err(AuthError::BadNonce)
        );
        let mut garbage_nonce = creds.clone();
        garbage_nonce.nonce = "not-hex-é".into();
        assert_eq!(
            s.verify_credentials(T0, "REGISTER", &garbage_nonce, Some(&pw)),
            Err(AuthError::BadNonce)
        );

        let mut bad_response = creds.clone();
        bad_response.response = flip_first(&bad_response.response);
        assert_eq!(
            s.verify_credentials(T0, "REGISTER", &bad_response, Some(&pw)),
            Err(AuthError::BadResponse)
        );
        // Another method or uri than the one signed.
        assert_eq!(
            s.verify_credentials(T0, "INVITE", &creds, Some(&pw)),
            Err(AuthError::BadResponse)
        );

        let mut other_realm = creds.clone();
        other_realm.realm = "evil.test".into();
        assert_eq!(
            s.verify_credentials(T0, "REGISTER", &other_realm, Some(&pw)),
            Err(AuthError::RealmMismatch)
        );

        let wrong = UserSecret::Password("guess".into());
        assert_eq!(
            s.verify_credentials(T0, "REGISTER", &creds, Some(&wrong)),
            Err(AuthError::BadResponse)
        );
        assert_eq!(
            s.verify(T0, "REGISTER", &auth, |_, _| None),
            Err(AuthError::UnknownUser)
        );
        // The untouched credentials still pass.
        assert!(s
            .verify_credentials(T0, "REGISTER", &creds, Some(&pw))
            .is_ok());
    }

    #[test]
    fn nonce_from_another_server_key_or_realm_is_rejected() {
        let mut other = DigestServer::new(ServerConfig::new("tether.test", vec![7u8; 32]))
            .expect("valid config");
        let challenge = other.challenge(T0, false).remove(0);
        let auth = answer_one(&challenge, &request("s3cret", "abc", 1));
        assert_eq!(
            server().verify(T0, "REGISTER", &auth, alice),
            Err(AuthError::BadNonce)
        );
    }

    #[test]
    fn refuses_unoffered_algorithm_missing_qop_and_auth_int() {
        let mut cfg = ServerConfig::new("tether.test", vec![1u8; 32]);
        cfg.algorithms = vec![Algorithm::Sha256];
        let mut s = DigestServer::new(cfg).expect("valid config");
        assert_eq!(s.challenge(T0, false).len(), 1);
        let nonce = s.issue_nonce(T0);
        let base = format!(
            "Digest username=alice, realm=\"tether.test\", nonce=\"{nonce}\", uri=\"sip:x\", \
             response=\"00\""
        );
        assert_eq!(
            s.verify(T0, "REGISTER", &format!("{base}, algorithm=MD5"), alice),
            Err(AuthError::UnsupportedAlgorithm {
                algorithm: "MD5".into()
            })
        );
        assert_eq!(
            s.verify(T0, "REGISTER", &format!("{base}, algorithm=SHA-256"), alice),
            Err(AuthError::MissingParam("qop"))
        );
        assert_eq!(
            s.verify(
                T0,
                "REGISTER",
                &format!("{base}, algorithm=SHA-256, qop=auth-int, nc=00000001, cnonce=x"),
                alice
            ),
            Err(AuthError::UnsupportedQop {
                qop: "auth-int".into()
            })
        );
        assert_eq!(
            s.verify(
                T0,
                "REGISTER",
                "NoOneKnowsThisScheme opaque-data=here",
                alice
            ),
            Err(AuthError::UnsupportedScheme {
                scheme: "NoOneKnowsThisScheme".into()
            })
        );
    }

    #[test]
    fn nc_replay_is_refused_and_window_stays_bounded() {
        let mut cfg = ServerConfig::new("tether.test", vec![1u8; 32]);
        cfg.replay_window = 2;
        let mut s = DigestServer::new(cfg).expect("valid config");
        let c1 = s.challenge(T0, false).remove(0);
        let a1 = answer_one(&c1, &request("s3cret", "abc", 1));
        assert!(s.verify(T0, "REGISTER", &a1, alice).is_ok());
        assert_eq!(
            s.verify(T0, "REGISTER", &a1, alice),
            Err(AuthError::NonceCountReplay)
        );
        let a3 = answer_one(&c1, &request("s3cret", "abc", 3));
        assert!(s.verify(T0, "REGISTER", &a3, alice).is_ok());
        let a2 = answer_one(&c1, &request("s3cret", "abc", 2));
        assert_eq!(
            s.verify(T0, "REGISTER", &a2, alice),
            Err(AuthError::NonceCountReplay)
        );

        // Two more nonces push c1 out of the window; c1 is then answered stale, not trusted.
        let t1 = T0 + Duration::from_secs(1);
        for _ in 0..2 {
            let c = s.challenge(t1, false).remove(0);
            let a = answer_one(&c, &request("s3cret", "abc", 1));
            assert!(s.verify(t1, "REGISTER", &a, alice).is_ok());
        }
        let window = s.replay.as_ref().expect("on");
        assert!(window.highest.len() <= 2 && window.order.len() <= 2);
        let a4 = answer_one(&c1, &request("s3cret", "abc", 4));
        assert_eq!(
            s.verify(t1, "REGISTER", &a4, alice),
            Err(AuthError::StaleNonce)
        );
    }

    #[test]
    fn config_is_validated() {
        let short = ServerConfig::new("r", vec![0u8; 8]);
        assert!(matches!(
            DigestServer::new(short),
            Err(AuthError::InvalidConfig { .. })
        ));
        let injected = ServerConfig::new("r\r\nX: y", vec![0u8; 32]);
        assert!(DigestServer::new(injected).is_err());
        let mut none = ServerConfig::new("r", vec![0u8; 32]);
        none.algorithms.clear();
        assert!(DigestServer::new(none).is_err());
    }

    proptest! {
        #[test]
        fn verify_never_panics(s in "\\PC*") {
            let mut srv = server();
            let _ = srv.verify(T0, "REGISTER", &s, alice);
        }

        #[test]
        fn verify_never_panics_on_near_valid(nonce in "[0-9a-fA-F]{0,70}", nc in "[0-9a-f]{8}") {
            let mut srv = server();
            let h = format!(
                "Digest username=alice, realm=tether.test, nonce=\"{nonce}\", uri=sip:x, \
                 response=00, qop=auth, nc={nc}, cnonce=x, algorithm=SHA-256");
            prop_assert!(srv.verify(T0, "REGISTER", &h, alice).is_err());
        }
    }
}
