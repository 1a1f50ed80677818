//! [`Challenge`]: the value of a `WWW-Authenticate` (401) or `Proxy-Authenticate` (407)
//! header, RFC 3261 §25.1 `challenge`, RFC 7616 §3.3.
//!
//! Parses and serializes only; it must not compute digests or decide which challenge to answer
//! ([`super::client`] does) and must not issue nonces ([`super::server`] does).

use super::digest::{Algorithm, Qop};
use super::params::{self, write_param, AuthParam};
use super::AuthError;

/// A `Digest` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// `realm` (required).
    pub realm: String,
    /// `domain`: space-separated URIs, if given.
    pub domain: Option<String>,
    /// `nonce` (required).
    pub nonce: String,
    /// `opaque`, to be echoed by the client.
    pub opaque: Option<String>,
    /// `stale=true`: the nonce expired but the previous credentials were right.
    pub stale: bool,
    /// `algorithm`; `None` means MD5 and is not written.
    pub algorithm: Option<Algorithm>,
    /// `qop` options; empty means absent (RFC 2069 compatibility).
    pub qop: Vec<Qop>,
    /// Parameters with other names, kept as received.
    pub extra: Vec<AuthParam>,
}

impl Challenge {
    /// A challenge with just a realm and nonce.
    pub fn new(realm: impl Into<String>, nonce: impl Into<String>) -> Self {
        Challenge {
            realm: realm.into(),
            domain: None,
            nonce: nonce.into(),
            opaque: None,
            stale: false,
            algorithm: None,
            qop: Vec::new(),
            extra: Vec::new(),
        }
    }

    /// The algorithm in effect (`MD5` when absent).
    pub fn effective_algorithm(&self) -> Algorithm {
        self.algorithm.unwrap_or(Algorithm::Md5)
    }

    /// Parses a header value. Errors: [`AuthError::UnsupportedScheme`] for a scheme other than
    /// `Digest`, [`AuthError::UnsupportedAlgorithm`] for an unknown `algorithm`,
    /// [`AuthError::MissingParam`] without `realm` or `nonce`, [`AuthError::Malformed`].
    pub fn parse(value: &str) -> Result<Challenge, AuthError> {
        let parsed = params::parse_digest(value)?;
        let mut realm = None;
        let mut c = Challenge::new(String::new(), String::new());
        let mut nonce = None;
        for p in parsed {
            match p.name.to_ascii_lowercase().as_str() {
                "realm" => realm = Some(p.value),
                "nonce" => nonce = Some(p.value),
                "domain" => c.domain = Some(p.value),
                "opaque" => c.opaque = Some(p.value),
                "stale" => c.stale = p.value.eq_ignore_ascii_case("true"),
                "algorithm" => {
                    c.algorithm = Some(Algorithm::from_token(&p.value).ok_or(
                        AuthError::UnsupportedAlgorithm {
                            algorithm: p.value.clone(),
                        },
                    )?)
                }
                "qop" => {
                    c.qop = p
                        .value
                        .split(',')
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(Qop::from_token)
                        .collect()
                }
                _ => c.extra.push(p),
            }
        }
        c.realm = realm.ok_or(AuthError::MissingParam("realm"))?;
        c.nonce = nonce.ok_or(AuthError::MissingParam("nonce"))?;
        Ok(c)
    }

    /// The header value, e.g. `Digest realm="x", nonce="y", algorithm=SHA-256, qop="auth"`.
    /// Known parameters with a reserved name in `extra` are not written twice.
    pub fn to_header_value(&self) -> String {
        let mut out = String::from("Digest");
        let mut first = true;
        write_param(&mut out, &mut first, "realm", &self.realm, true);
        if let Some(d) = &self.domain {
            write_param(&mut out, &mut first, "domain", d, true);
        }
        write_param(&mut out, &mut first, "nonce", &self.nonce, true);
        if let Some(o) = &self.opaque {
            write_param(&mut out, &mut first, "opaque", o, true);
        }
        if self.stale {
            write_param(&mut out, &mut first, "stale", "true", false);
        }
        if let Some(a) = self.algorithm {
            write_param(&mut out, &mut first, "algorithm", a.as_str(), false);
        }
        if !self.qop.is_empty() {
            let list: Vec<&str> = self.qop.iter().map(Qop::as_str).collect();
            write_param(&mut out, &mut first, "qop", &list.join(","), true);
        }
        for p in &self.extra {
            if !is_reserved(&p.name) {
                write_param(&mut out, &mut first, &p.name, &p.value, p.quoted);
            }
        }
        out
    }
}

fn is_reserved(name: &str) -> bool {
    [
        "realm",
        "domain",
        "nonce",
        "opaque",
        "stale",
        "algorithm",
        "qop",
    ]
    .iter()
    .any(|r| r.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_rfc2617_example_challenge() {
        let c = Challenge::parse(
            "Digest\r\n realm=\"testrealm@host.com\",\r\n qop=\"auth,auth-int\",\r\n \
             nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n \
             opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
        )
        .expect("parses");
        assert_eq!(c.realm, "testrealm@host.com");
        assert_eq!(c.qop, vec![Qop::Auth, Qop::AuthInt]);
        assert_eq!(c.nonce, "dcd98b7102dd2f0e8b11d0f600bfb0c093");
        assert_eq!(
            c.opaque.as_deref(),
            Some("5ccc069c403ebaf9f0171e9517f40e41")
        );
        assert_eq!(c.effective_algorithm(), Algorithm::Md5);
        assert!(!c.stale);
    }

    #[test]
    fn lenient_forms_any_order_unknown_params_kept() {
        let c = Challenge::parse(
            "digest qop=auth , Stale = TRUE,ALGORITHM=sha-256,nonce=abc/def=,x-foo=\"b\\\"ar\", realm=\"r\"",
        )
        .expect("parses");
        assert_eq!(c.realm, "r");
        assert_eq!(c.nonce, "abc/def=");
        assert!(c.stale);
        assert_eq!(c.algorithm, Some(Algorithm::Sha256));
        assert_eq!(c.qop, vec![Qop::Auth]);
        assert_eq!(c.extra, vec![AuthParam::quoted("x-foo", "b\"ar")]);
        assert_eq!(
            c.to_header_value(),
            "Digest realm=\"r\", nonce=\"abc/def=\", stale=true, algorithm=SHA-256, \
             qop=\"auth\", x-foo=\"b\\\"ar\""
        );
    }

    #[test]
    fn errors() {
        assert_eq!(
            Challenge::parse("Basic realm=\"x\""),
            Err(AuthError::UnsupportedScheme {
                scheme: "Basic".into()
            })
        );
        assert_eq!(
            Challenge::parse("Digest realm=x, nonce=y, algorithm=SHA-512-256"),
            Err(AuthError::UnsupportedAlgorithm {
                algorithm: "SHA-512-256".into()
            })
        );
        assert_eq!(
            Challenge::parse("Digest nonce=y"),
            Err(AuthError::MissingParam("realm"))
        );
        assert_eq!(
            Challenge::parse("Digest realm=y"),
            Err(AuthError::MissingParam("nonce"))
        );
        assert_eq!(
            Challenge::parse("Digest"),
            Err(AuthError::MissingParam("realm"))
        );
    }

    fn text() -> impl Strategy<Value = String> {
        "[^\r\n]{0,20}"
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC*") {
            let _ = Challenge::parse(&s);
        }

        #[test]
        fn round_trips(
            realm in text(), nonce in text(), domain in proptest::option::of(text()),
            opaque in proptest::option::of(text()), stale in any::<bool>(),
            alg in proptest::option::of(prop_oneof![
                Just(Algorithm::Md5), Just(Algorithm::Sha256), Just(Algorithm::Sha256Sess)]),
            qop in proptest::collection::vec(prop_oneof![
                Just(Qop::Auth), Just(Qop::AuthInt), "x-[a-z]{1,5}".prop_map(Qop::Other)], 0..3),
            extra_value in text(),
        ) {
            let c = Challenge {
                realm, nonce, domain, opaque, stale, algorithm: alg, qop,
                extra: vec![AuthParam::quoted("x-extra", extra_value)],
            };
            let back = Challenge::parse(&c.to_header_value());
            prop_assert_eq!(back, Ok(c));
        }
    }
}
