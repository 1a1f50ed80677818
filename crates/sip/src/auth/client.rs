//! Answering digest challenges (RFC 3261 §22.2–22.3, RFC 7616 §3.4, RFC 8760 §2.3): from
//! `WWW-Authenticate` / `Proxy-Authenticate` values to an `Authorization` /
//! `Proxy-Authorization` value.
//!
//! The caller supplies the cnonce and the nonce count (and keeps counting per nonce), so this
//! file draws no randomness and keeps no state; it must not read messages or clocks either.
//! `qop=auth` and RFC 2069 (no qop) are answered; a challenge offering only `auth-int` is
//! refused with [`AuthError::UnsupportedQop`].

use super::challenge::Challenge;
use super::credentials::Credentials;
use super::digest::{self, NonceCount, Qop, ResponseInput};
use super::AuthError;

/// What the client knows about the request being authenticated.
#[derive(Debug, Clone, Copy)]
pub struct ClientRequest<'a> {
    /// The user name.
    pub username: &'a str,
    /// The password.
    pub password: &'a str,
    /// The request method, e.g. `REGISTER` (for a CANCEL or ACK, the INVITE's credentials
    /// are reused by the caller, not recomputed).
    pub method: &'a str,
    /// The Request-URI, put in the `uri` parameter.
    pub uri: &'a str,
    /// A fresh client nonce (random in production; anything printable works).
    pub cnonce: &'a str,
    /// How many requests, this one included, were sent with this nonce.
    pub nc: NonceCount,
}

/// Answers one parsed challenge. Errors with [`AuthError::UnsupportedQop`] when the challenge
/// offers qop values but not `auth`.
pub fn answer(challenge: &Challenge, req: &ClientRequest<'_>) -> Result<Credentials, AuthError> {
    let qop = if challenge.qop.is_empty() {
        None
    } else if challenge.qop.contains(&Qop::Auth) {
        Some(Qop::Auth)
    } else {
        let offered: Vec<&str> = challenge.qop.iter().map(Qop::as_str).collect();
        return Err(AuthError::UnsupportedQop {
            qop: offered.join(","),
        });
    };
    let algorithm = challenge.effective_algorithm();
    // A cnonce is sent with a qop and with `-sess` algorithms, whose HA1 covers it.
    let cnonce = (qop.is_some() || algorithm.is_session()).then_some(req.cnonce);
    let nc = qop.as_ref().map(|_| req.nc);
    let ha1 = digest::ha1(algorithm, req.username, &challenge.realm, req.password);
    let response = digest::response(
        &ha1,
        &ResponseInput {
            algorithm,
            nonce: &challenge.nonce,
            cnonce,
            nc,
            qop: qop.as_ref(),
            method: req.method,
            uri: req.uri,
        },
    )
    .ok_or(AuthError::UnsupportedQop {
        qop: String::from("?"),
    })?;
    Ok(Credentials {
        username: req.username.to_owned(),
        realm: challenge.realm.clone(),
        nonce: challenge.nonce.clone(),
        uri: req.uri.to_owned(),
        response,
        algorithm: challenge.algorithm,
        cnonce: cnonce.map(str::to_owned),
        opaque: challenge.opaque.clone(),
        qop,
        nc,
        extra: Vec::new(),
    })
}

/// Answers the strongest usable challenge among several header values (RFC 8760: a server may
/// send one per algorithm). Challenges with another scheme, an unknown algorithm or no
/// supported qop are skipped. Call [`Credentials::to_header_value`] on the result; its `nonce`
/// and `realm` tell which challenge was answered (to count `nc` per nonce).
///
/// Errors with the first reason a challenge was unusable, or [`AuthError::MissingParam`]
/// (`"challenge"`) when given none.
pub fn answer_best<'c>(
    challenges: impl IntoIterator<Item = &'c str>,
    req: &ClientRequest<'_>,
) -> Result<Credentials, AuthError> {
    let mut first_error = None;
    let mut usable: Vec<Challenge> = Vec::new();
    for value in challenges {
        match Challenge::parse(value) {
            Ok(c) => usable.push(c),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    usable.sort_by_key(|c| std::cmp::Reverse(c.effective_algorithm().strength()));
    for c in &usable {
        match answer(c, req) {
            Ok(creds) => return Ok(creds),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or(AuthError::MissingParam("challenge")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::digest::Algorithm;
    use proptest::prelude::*;

    fn mufasa<'a>(uri: &'a str, cnonce: &'a str) -> ClientRequest<'a> {
        ClientRequest {
            username: "Mufasa",
            password: "Circle Of Life",
            method: "GET",
            uri,
            cnonce,
            nc: NonceCount(1),
        }
    }

    #[test]
    fn rfc2617_example_as_header() {
        let challenge = "Digest realm=\"testrealm@host.com\", qop=\"auth,auth-int\", \
                         nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", \
                         opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";
        let creds =
            answer_best([challenge], &mufasa("/dir/index.html", "0a4f113b")).expect("answers");
        assert_eq!(
            creds.to_header_value(),
            "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", \
             nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", \
             response=\"6629fae49393a05397450978507c4ef1\", cnonce=\"0a4f113b\", \
             opaque=\"5ccc069c403ebaf9f0171e9517f40e41\", qop=auth, nc=00000001"
        );
    }

    #[test]
    fn rfc7616_example_picks_sha256_over_md5() {
        let md5 = "Digest realm=\"http-auth@example.org\", qop=\"auth, auth-int\", \
                   algorithm=MD5, nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", \
                   opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
        let sha = md5.replace("algorithm=MD5", "algorithm=SHA-256");
        let mut req = mufasa(
            "/dir/index.html",
            "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ",
        );
        req.password = "Circle of Life";
        let creds = answer_best([md5, sha.as_str()], &req).expect("answers");
        assert_eq!(creds.algorithm, Some(Algorithm::Sha256));
        assert_eq!(
            creds.response,
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
        assert_eq!(
            creds.opaque.as_deref(),
            Some("FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS")
        );
        let md5_only = answer_best([md5], &req).expect("answers");
        assert_eq!(md5_only.response, "8ca523f5e9506fed4657c9700eebdbec");
    }

    #[test]
    fn rfc2069_challenge_without_qop() {
        let creds = answer_best(
            ["Digest realm=\"r\", nonce=\"n\""],
            &mufasa("sip:r", "ignored"),
        )
        .expect("answers");
        assert_eq!((creds.qop, creds.nc, creds.cnonce), (None, None, None));
        let ha1 = digest::ha1(Algorithm::Md5, "Mufasa", "r", "Circle Of Life");
        let ha2 = Algorithm::Md5.hash_hex(&["GET", "sip:r"]);
        assert_eq!(creds.response, Algorithm::Md5.hash_hex(&[&ha1, "n", &ha2]));
    }

    #[test]
    fn auth_int_only_is_refused_and_skipped_when_an_alternative_exists() {
        let auth_int = "Digest realm=r, nonce=n, qop=\"auth-int\", algorithm=SHA-256";
        assert_eq!(
            answer_best([auth_int], &mufasa("sip:r", "c")),
            Err(AuthError::UnsupportedQop {
                qop: "auth-int".into()
            })
        );
        let md5 = "Digest realm=r, nonce=n2, qop=\"auth\"";
        let creds = answer_best([auth_int, md5], &mufasa("sip:r", "c")).expect("answers");
        assert_eq!(creds.nonce, "n2");
    }

    #[test]
    fn unusable_inputs() {
        let req = mufasa("sip:r", "c");
        assert_eq!(
            answer_best([], &req),
            Err(AuthError::MissingParam("challenge"))
        );
        assert_eq!(
            answer_best(["Basic realm=\"r\""], &req),
            Err(AuthError::UnsupportedScheme {
                scheme: "Basic".into()
            })
        );
        // An unknown algorithm is skipped in favour of a known one.
        let creds = answer_best(
            [
                "Digest realm=r, nonce=a, algorithm=SHA-512-256, qop=auth",
                "Basic realm=r",
                "Digest realm=r, nonce=b, algorithm=MD5-sess, qop=auth",
            ],
            &req,
        )
        .expect("answers");
        assert_eq!(creds.nonce, "b");
        assert_eq!(creds.algorithm, Some(Algorithm::Md5Sess));
    }

    proptest! {
        #[test]
        fn never_panics(a in "\\PC*", b in "\\PC*") {
            let _ = answer_best([a.as_str(), b.as_str()], &mufasa("sip:r", "c"));
        }
    }
}
