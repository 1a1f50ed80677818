//! Digest computation (RFC 2617 §3.2.2, RFC 7616 §3.4): algorithms, qop, nonce count, HA1,
//! HA2 and the `response` value.
//!
//! Pure functions over strings; they must not parse headers, compare secrets (the server does
//! that in constant time) or know where a password comes from.

use std::fmt;

use md5::Md5;
use sha2::{Digest, Sha256};

/// A digest algorithm (`algorithm=` parameter). Absent means [`Algorithm::Md5`].
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `MD5` (RFC 2617), the SIP default.
    Md5,
    /// `MD5-sess`: HA1 also covers the nonce and cnonce.
    Md5Sess,
    /// `SHA-256` (RFC 7616, RFC 8760).
    Sha256,
    /// `SHA-256-sess`.
    Sha256Sess,
}

impl Algorithm {
    /// The token as written in headers.
    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
        }
    }

    /// Parses an `algorithm` token, case-insensitively.
    pub fn from_token(s: &str) -> Option<Algorithm> {
        [
            Algorithm::Md5,
            Algorithm::Md5Sess,
            Algorithm::Sha256,
            Algorithm::Sha256Sess,
        ]
        .into_iter()
        .find(|a| a.as_str().eq_ignore_ascii_case(s))
    }

    /// Whether this is a `-sess` variant.
    pub fn is_session(self) -> bool {
        matches!(self, Algorithm::Md5Sess | Algorithm::Sha256Sess)
    }

    /// Preference rank: higher is stronger (SHA-256 before MD5, plain before `-sess`).
    pub fn strength(self) -> u8 {
        match self {
            Algorithm::Sha256 => 4,
            Algorithm::Sha256Sess => 3,
            Algorithm::Md5 => 2,
            Algorithm::Md5Sess => 1,
        }
    }

    /// Lowercase hex of the hash of `parts` joined by `:`.
    pub fn hash_hex(self, parts: &[&str]) -> String {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => hash_parts::<Md5>(parts),
            Algorithm::Sha256 | Algorithm::Sha256Sess => hash_parts::<Sha256>(parts),
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn hash_parts<D: Digest>(parts: &[&str]) -> String {
    let mut h = D::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            h.update(b":");
        }
        h.update(p.as_bytes());
    }
    to_hex(&h.finalize())
}

/// Lowercase hex encoding.
pub(crate) fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(HEX[usize::from(b >> 4)]));
        s.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    s
}

/// A quality-of-protection value.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Qop {
    /// `auth`: authentication only. The only qop this module computes.
    Auth,
    /// `auth-int`: also covers the body. Recognized, not supported.
    AuthInt,
    /// Any other token, kept as received.
    Other(String),
}

impl Qop {
    /// Parses a qop token, case-insensitively.
    pub fn from_token(s: &str) -> Qop {
        if s.eq_ignore_ascii_case("auth") {
            Qop::Auth
        } else if s.eq_ignore_ascii_case("auth-int") {
            Qop::AuthInt
        } else {
            Qop::Other(s.to_owned())
        }
    }

    /// The token as written in headers.
    pub fn as_str(&self) -> &str {
        match self {
            Qop::Auth => "auth",
            Qop::AuthInt => "auth-int",
            Qop::Other(s) => s,
        }
    }
}

impl fmt::Display for Qop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `nc` parameter: how many requests the client has sent with one nonce, written as
/// exactly 8 lowercase hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NonceCount(pub u32);

impl NonceCount {
    /// The first count a client sends for a new nonce.
    pub const FIRST: NonceCount = NonceCount(1);

    /// Parses exactly 8 hex digits (either case).
    pub fn parse(s: &str) -> Option<NonceCount> {
        if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        u32::from_str_radix(s, 16).ok().map(NonceCount)
    }

    /// The next count, or `None` after `ffffffff`.
    pub fn next(self) -> Option<NonceCount> {
        self.0.checked_add(1).map(NonceCount)
    }
}

impl fmt::Display for NonceCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08x}", self.0)
    }
}

/// `H(username:realm:password)`, the HA1 a server may store instead of the password.
pub fn ha1(algorithm: Algorithm, username: &str, realm: &str, password: &str) -> String {
    algorithm.hash_hex(&[username, realm, password])
}

/// The per-request inputs of the response computation, besides HA1.
#[derive(Debug, Clone, Copy)]
pub struct ResponseInput<'a> {
    /// Hash algorithm.
    pub algorithm: Algorithm,
    /// Server nonce.
    pub nonce: &'a str,
    /// Client nonce; required with a qop or a `-sess` algorithm.
    pub cnonce: Option<&'a str>,
    /// Nonce count; required with a qop.
    pub nc: Option<NonceCount>,
    /// `None` is RFC 2069 compatibility mode; `Some(Qop::Auth)` is RFC 2617 `qop=auth`.
    pub qop: Option<&'a Qop>,
    /// Request method, e.g. `REGISTER`.
    pub method: &'a str,
    /// The `uri` parameter (digest-uri), normally the Request-URI.
    pub uri: &'a str,
}

/// Computes the `response` value from a plain HA1 (`H(user:realm:password)`). For `-sess`
/// algorithms the session HA1 `H(HA1:nonce:cnonce)` is derived here. Returns `None` when the
/// qop is not `auth` or a required cnonce / nc is missing.
pub fn response(ha1: &str, input: &ResponseInput<'_>) -> Option<String> {
    let alg = input.algorithm;
    let sess_ha1;
    let ha1 = if alg.is_session() {
        sess_ha1 = alg.hash_hex(&[ha1, input.nonce, input.cnonce?]);
        sess_ha1.as_str()
    } else {
        ha1
    };
    let ha2 = alg.hash_hex(&[input.method, input.uri]);
    match input.qop {
        None => Some(alg.hash_hex(&[ha1, input.nonce, &ha2])),
        Some(Qop::Auth) => {
            let nc = input.nc?.to_string();
            Some(alg.hash_hex(&[ha1, input.nonce, &nc, input.cnonce?, "auth", &ha2]))
        }
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc2617_section_3_5_md5_vector() {
        let ha1 = ha1(
            Algorithm::Md5,
            "Mufasa",
            "testrealm@host.com",
            "Circle Of Life",
        );
        let r = response(
            &ha1,
            &ResponseInput {
                algorithm: Algorithm::Md5,
                nonce: "dcd98b7102dd2f0e8b11d0f600bfb0c093",
                cnonce: Some("0a4f113b"),
                nc: Some(NonceCount(1)),
                qop: Some(&Qop::Auth),
                method: "GET",
                uri: "/dir/index.html",
            },
        );
        assert_eq!(r.as_deref(), Some("6629fae49393a05397450978507c4ef1"));
    }

    fn rfc7616_input(algorithm: Algorithm) -> ResponseInput<'static> {
        ResponseInput {
            algorithm,
            nonce: "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v",
            cnonce: Some("f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"),
            nc: Some(NonceCount(1)),
            qop: Some(&Qop::Auth),
            method: "GET",
            uri: "/dir/index.html",
        }
    }

    #[test]
    fn rfc7616_section_3_9_1_sha256_vector() {
        let ha1 = ha1(
            Algorithm::Sha256,
            "Mufasa",
            "http-auth@example.org",
            "Circle of Life",
        );
        assert_eq!(
            response(&ha1, &rfc7616_input(Algorithm::Sha256)).as_deref(),
            Some("753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1")
        );
    }

    #[test]
    fn rfc7616_section_3_9_1_md5_vector() {
        let ha1 = ha1(
            Algorithm::Md5,
            "Mufasa",
            "http-auth@example.org",
            "Circle of Life",
        );
        assert_eq!(
            response(&ha1, &rfc7616_input(Algorithm::Md5)).as_deref(),
            Some("8ca523f5e9506fed4657c9700eebdbec")
        );
    }

    #[test]
    fn rfc2069_mode_and_unsupported_qop() {
        let mut input = rfc7616_input(Algorithm::Md5);
        input.qop = None;
        let ha1 = ha1(Algorithm::Md5, "u", "r", "p");
        let ha2 = Algorithm::Md5.hash_hex(&["GET", "/dir/index.html"]);
        assert_eq!(
            response(&ha1, &input),
            Some(Algorithm::Md5.hash_hex(&[&ha1, input.nonce, &ha2]))
        );
        input.qop = Some(&Qop::AuthInt);
        assert_eq!(response(&ha1, &input), None);
    }

    #[test]
    fn tokens_and_nonce_count() {
        assert_eq!(Algorithm::from_token("sha-256"), Some(Algorithm::Sha256));
        assert_eq!(Algorithm::from_token("md5-SESS"), Some(Algorithm::Md5Sess));
        assert_eq!(Algorithm::from_token("SHA-512-256"), None);
        assert_eq!(NonceCount::parse("0000000A"), Some(NonceCount(10)));
        assert_eq!(NonceCount(10).to_string(), "0000000a");
        assert_eq!(NonceCount::parse("1"), None);
        assert_eq!(NonceCount::parse("+0000001"), None);
        assert_eq!(NonceCount(u32::MAX).next(), None);
        assert_eq!(Qop::from_token("AUTH"), Qop::Auth);
    }
}
