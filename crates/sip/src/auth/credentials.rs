//! [`Credentials`]: the value of an `Authorization` or `Proxy-Authorization` header,
//! RFC 3261 §25.1 `credentials`, RFC 7616 §3.4.
//!
//! Parses and serializes only; it must not verify anything (that is [`super::server`]) nor
//! compute responses (that is [`super::digest`]).

use super::digest::{Algorithm, NonceCount, Qop};
use super::params::{self, write_param, AuthParam};
use super::AuthError;

/// `Digest` credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// `username`.
    pub username: String,
    /// `realm`.
    pub realm: String,
    /// `nonce`, echoed from the challenge.
    pub nonce: String,
    /// `uri` (digest-uri), normally the Request-URI.
    pub uri: String,
    /// `response`: the hex digest.
    pub response: String,
    /// `algorithm`; `None` means MD5 and is not written.
    pub algorithm: Option<Algorithm>,
    /// `cnonce`.
    pub cnonce: Option<String>,
    /// `opaque`, echoed from the challenge.
    pub opaque: Option<String>,
    /// `qop`: a single value; `None` is RFC 2069 mode.
    pub qop: Option<Qop>,
    /// `nc`.
    pub nc: Option<NonceCount>,
    /// Parameters with other names, kept as received.
    pub extra: Vec<AuthParam>,
}

impl Credentials {
    /// The algorithm in effect (`MD5` when absent).
    pub fn effective_algorithm(&self) -> Algorithm {
        self.algorithm.unwrap_or(Algorithm::Md5)
    }

    /// Parses a header value. Errors: [`AuthError::UnsupportedScheme`] for a scheme other than
    /// `Digest`; [`AuthError::MissingParam`] without `username`, `realm`, `nonce`, `uri` or
    /// `response`, or with a `qop` but without `cnonce` or `nc`;
    /// [`AuthError::UnsupportedAlgorithm`]; [`AuthError::Malformed`] (including an `nc` that is
    /// not 8 hex digits).
    pub fn parse(value: &str) -> Result<Credentials, AuthError> {
        let parsed = params::parse_digest(value)?;
        let (mut username, mut realm, mut nonce, mut uri, mut response) =
            (None, None, None, None, None);
        let mut c = Credentials {
            username: String::new(),
            realm: String::new(),
            nonce: String::new(),
            uri: String::new(),
            response: String::new(),
            algorithm: None,
            cnonce: None,
            opaque: None,
            qop: None,
            nc: None,
            extra: Vec::new(),
        };
        for p in parsed {
            match p.name.to_ascii_lowercase().as_str() {
                "username" => username = Some(p.value),
                "realm" => realm = Some(p.value),
                "nonce" => nonce = Some(p.value),
                "uri" => uri = Some(p.value),
                "response" => response = Some(p.value),
                "cnonce" => c.cnonce = Some(p.value),
                "opaque" => c.opaque = Some(p.value),
                "qop" => c.qop = Some(Qop::from_token(p.value.trim())),
                "nc" => {
                    c.nc = Some(NonceCount::parse(&p.value).ok_or(AuthError::Malformed {
                        reason: "nc is not 8 hex digits",
                    })?)
                }
                "algorithm" => {
                    c.algorithm = Some(Algorithm::from_token(&p.value).ok_or(
                        AuthError::UnsupportedAlgorithm {
                            algorithm: p.value.clone(),
                        },
                    )?)
                }
                _ => c.extra.push(p),
            }
        }
        c.username = username.ok_or(AuthError::MissingParam("username"))?;
        c.realm = realm.ok_or(AuthError::MissingParam("realm"))?;
        c.nonce = nonce.ok_or(AuthError::MissingParam("nonce"))?;
        c.uri = uri.ok_or(AuthError::MissingParam("uri"))?;
        c.response = response.ok_or(AuthError::MissingParam("response"))?;
        if c.qop.is_some() {
            if c.cnonce.is_none() {
                return Err(AuthError::MissingParam("cnonce"));
            }
            if c.nc.is_none() {
                return Err(AuthError::MissingParam("nc"));
            }
        }
        Ok(c)
    }

    /// The header value, e.g. `Digest username="u", realm="r", nonce="n", uri="sip:x",
    /// response="…", algorithm=MD5, cnonce="c", qop=auth, nc=00000001`.
    pub fn to_header_value(&self) -> String {
        let mut out = String::from("Digest");
        let mut first = true;
        let f = &mut first;
        write_param(&mut out, f, "username", &self.username, true);
        write_param(&mut out, f, "realm", &self.realm, true);
        write_param(&mut out, f, "nonce", &self.nonce, true);
        write_param(&mut out, f, "uri", &self.uri, true);
        write_param(&mut out, f, "response", &self.response, true);
        if let Some(a) = self.algorithm {
            write_param(&mut out, f, "algorithm", a.as_str(), false);
        }
        if let Some(c) = &self.cnonce {
            write_param(&mut out, f, "cnonce", c, true);
        }
        if let Some(o) = &self.opaque {
            write_param(&mut out, f, "opaque", o, true);
        }
        if let Some(q) = &self.qop {
            write_param(&mut out, f, "qop", q.as_str(), false);
        }
        if let Some(nc) = self.nc {
            write_param(&mut out, f, "nc", &nc.to_string(), false);
        }
        for p in &self.extra {
            if !is_reserved(&p.name) {
                write_param(&mut out, f, &p.name, &p.value, p.quoted);
            }
        }
        out
    }
}

fn is_reserved(name: &str) -> bool {
    [
        "username",
        "realm",
        "nonce",
        "uri",
        "response",
        "algorithm",
        "cnonce",
        "opaque",
        "qop",
        "nc",
    ]
    .iter()
    .any(|r| r.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_rfc2617_example_authorization() {
        let c = Credentials::parse(
            "Digest username=\"Mufasa\",\r\n realm=\"testrealm@host.com\",\r\n \
             nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n uri=\"/dir/index.html\",\r\n \
             qop=auth,\r\n nc=00000001,\r\n cnonce=\"0a4f113b\",\r\n \
             response=\"6629fae49393a05397450978507c4ef1\",\r\n \
             opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
        )
        .expect("parses");
        assert_eq!(c.username, "Mufasa");
        assert_eq!(c.qop, Some(Qop::Auth));
        assert_eq!(c.nc, Some(NonceCount(1)));
        assert_eq!(c.cnonce.as_deref(), Some("0a4f113b"));
        assert_eq!(c.response, "6629fae49393a05397450978507c4ef1");
        assert_eq!(c.effective_algorithm(), Algorithm::Md5);
    }

    /// RFC 4475 §3.1.2.13 (regaut01.dat): an unknown scheme is refused, not a panic.
    #[test]
    fn rfc4475_regaut01_unknown_scheme() {
        assert_eq!(
            Credentials::parse("NoOneKnowsThisScheme opaque-data=here"),
            Err(AuthError::UnsupportedScheme {
                scheme: "NoOneKnowsThisScheme".into()
            })
        );
    }

    #[test]
    fn lenient_quoted_qop_lowercase_scheme_unknown_params() {
        let c = Credentials::parse(
            "digest NC=0000000a,qop=\"auth\",cnonce=c,response=abc,uri=\"sip:a@b;transport=tcp\",\
             nonce=n,realm=r,username=\"u\\\\x\",x-y=z",
        )
        .expect("parses");
        assert_eq!(c.username, "u\\x");
        assert_eq!(c.nc, Some(NonceCount(10)));
        assert_eq!(c.qop, Some(Qop::Auth));
        assert_eq!(c.extra, vec![AuthParam::token("x-y", "z")]);
        assert_eq!(
            c.to_header_value(),
            "Digest username=\"u\\\\x\", realm=\"r\", nonce=\"n\", \
             uri=\"sip:a@b;transport=tcp\", response=\"abc\", cnonce=\"c\", qop=auth, \
             nc=0000000a, x-y=z"
        );
    }

    #[test]
    fn missing_and_bad_params() {
        let base = "Digest username=u, realm=r, nonce=n, uri=sip:x, response=aa";
        assert!(Credentials::parse(base).is_ok());
        assert_eq!(
            Credentials::parse("Digest realm=r, nonce=n, uri=sip:x, response=aa"),
            Err(AuthError::MissingParam("username"))
        );
        assert_eq!(
            Credentials::parse(&format!("{base}, qop=auth, nc=00000001")),
            Err(AuthError::MissingParam("cnonce"))
        );
        assert_eq!(
            Credentials::parse(&format!("{base}, qop=auth, cnonce=x")),
            Err(AuthError::MissingParam("nc"))
        );
        assert!(matches!(
            Credentials::parse(&format!("{base}, nc=1")),
            Err(AuthError::Malformed { .. })
        ));
        assert!(matches!(
            Credentials::parse(&format!("{base}, algorithm=SHA-1")),
            Err(AuthError::UnsupportedAlgorithm { .. })
        ));
    }

    fn text() -> impl Strategy<Value = String> {
        "[^\r\n]{0,20}"
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC*") {
            let _ = Credentials::parse(&s);
        }

        #[test]
        fn round_trips(
            username in text(), realm in text(), nonce in text(), uri in text(),
            response in "[0-9a-f]{32}", cnonce in text(), opaque in proptest::option::of(text()),
            nc in any::<u32>(), with_qop in any::<bool>(),
            alg in proptest::option::of(prop_oneof![Just(Algorithm::Md5), Just(Algorithm::Sha256)]),
        ) {
            let c = Credentials {
                username, realm, nonce, uri, response, algorithm: alg,
                cnonce: with_qop.then_some(cnonce),
                opaque,
                qop: with_qop.then_some(Qop::Auth),
                nc: with_qop.then_some(NonceCount(nc)),
                extra: vec![AuthParam::token("x-tok", "v1")],
            };
            prop_assert_eq!(Credentials::parse(&c.to_header_value()), Ok(c));
        }
    }
}
