//! URIs as SIP carries them: `sip:`/`sips:` parsed into their parts, `tel:` split into number and
//! parameters, and any other scheme kept as opaque text. The original text is kept, so a URI
//! that is not changed is written back byte for byte. Escapes are decoded only on request and
//! only once (RFC 4475 §3.1.1.3).

use crate::text::{find_byte, percent_decode};
use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    Sip,
    Sips,
    Tel,
    Other,
}

/// Why a URI was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UriError {
    NoScheme,
    BadScheme,
    Whitespace,
    BadUser,
    BadHost,
    BadPort,
    BadParam,
    BadHeaders,
    Empty,
}

impl UriError {
    pub fn as_str(self) -> &'static str {
        match self {
            UriError::NoScheme => "no scheme",
            UriError::BadScheme => "bad scheme",
            UriError::Whitespace => "white space in URI",
            UriError::BadUser => "bad user part",
            UriError::BadHost => "bad host",
            UriError::BadPort => "bad port",
            UriError::BadParam => "bad URI parameter",
            UriError::BadHeaders => "bad URI headers",
            UriError::Empty => "empty",
        }
    }
}

impl fmt::Display for UriError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

type R = Range<u32>;

#[derive(Clone, Debug)]
enum Parts {
    Sip {
        user: Option<R>,
        password: Option<R>,
        host: R,
        port: Option<u16>,
        params: R,
        headers: R,
    },
    Tel {
        number: R,
        params: R,
    },
    Other,
}

/// What [`Uri::scan`] found in a URI's text: its scheme and where its parts are.
#[derive(Clone, Debug)]
pub(crate) struct UriScan {
    scheme: Scheme,
    parts: Parts,
}

impl UriScan {
    /// Whether a SIP URI carries `?headers`.
    pub(crate) fn has_headers(&self) -> bool {
        matches!(&self.parts, Parts::Sip { headers, .. } if !headers.is_empty())
    }
    pub(crate) fn scheme(&self) -> Scheme {
        self.scheme
    }
    /// The URI, keeping `text` (the text that was scanned).
    pub(crate) fn into_uri(self, text: &str) -> Uri {
        Uri {
            raw: text.into(),
            scheme: self.scheme,
            parts: self.parts,
        }
    }
}

/// A parsed URI that keeps its original text.
#[derive(Clone, Debug)]
pub struct Uri {
    raw: Box<str>,
    scheme: Scheme,
    parts: Parts,
}

impl PartialEq for Uri {
    /// Textual equality. Use [`Uri::equivalent`] for RFC 3261 §19.1.4 comparison.
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}
impl Eq for Uri {}

const fn class_table(extra: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = (c as u8).is_ascii_alphanumeric();
        c += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        t[extra[i] as usize] = true;
        i += 1;
    }
    t
}

#[cfg(test)]
const MARK: &[u8] = b"-_.!~*'()";
static USER: [bool; 256] = class_table(b"-_.!~*'()%&=+$,;?/");
static PASSWORD: [bool; 256] = class_table(b"-_.!~*'()%&=+$,");
static PARAM: [bool; 256] = class_table(b"-_.!~*'()%[]/:&+$");
static HEADER: [bool; 256] = class_table(b"-_.!~*'()%[]/?:+$");
static HOST: [bool; 256] = class_table(b"-._");

#[inline]
fn is_user_char(c: u8) -> bool {
    USER[c as usize]
}
#[inline]
fn is_password_char(c: u8) -> bool {
    PASSWORD[c as usize]
}
#[inline]
fn is_param_char(c: u8) -> bool {
    PARAM[c as usize]
}
#[inline]
fn is_header_char(c: u8) -> bool {
    HEADER[c as usize]
}
#[inline]
fn is_host_char(c: u8) -> bool {
    HOST[c as usize]
}

fn r(a: usize, b: usize) -> R {
    a as u32..b as u32
}

impl Uri {
    /// Parses a complete URI (no surrounding brackets or white space).
    pub fn parse(s: &str) -> Result<Uri, UriError> {
        Uri::scan(s).map(|scan| scan.into_uri(s))
    }

    /// Checks a URI and finds its parts without copying it; [`UriScan::into_uri`] keeps it.
    pub(crate) fn scan(s: &str) -> Result<UriScan, UriError> {
        if s.is_empty() {
            return Err(UriError::Empty);
        }
        if s.len() > u32::MAX as usize / 2 {
            return Err(UriError::Empty);
        }
        // White space or a control anywhere is the error reported, whatever else is wrong. A
        // SIP URI that parses has every byte in one of its character classes, none of which
        // holds either, so the text is searched for them only when that is not known.
        // (ASCII white space and controls are all <= SP, or DEL; no early exit, so it
        // vectorizes.)
        let spaced = || {
            s.bytes()
                .fold(false, |bad, c| bad | (c <= b' ') | (c == 0x7f))
        };
        let or_spaced = |e: UriError| if spaced() { UriError::Whitespace } else { e };
        let colon = find_byte(s.as_bytes(), b':').ok_or_else(|| or_spaced(UriError::NoScheme))?;
        let scheme_text = &s[..colon];
        let first_ok = scheme_text
            .bytes()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic());
        if !first_ok
            || !scheme_text
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
        {
            return Err(or_spaced(UriError::BadScheme));
        }
        let scheme = if scheme_text.eq_ignore_ascii_case("sip") {
            Scheme::Sip
        } else if scheme_text.eq_ignore_ascii_case("sips") {
            Scheme::Sips
        } else if scheme_text.eq_ignore_ascii_case("tel") {
            Scheme::Tel
        } else {
            Scheme::Other
        };
        if !matches!(scheme, Scheme::Sip | Scheme::Sips) && spaced() {
            return Err(UriError::Whitespace);
        }
        let body_start = colon + 1;
        let parts = match scheme {
            Scheme::Sip | Scheme::Sips => parse_sip(s, body_start).map_err(or_spaced)?,
            Scheme::Tel => {
                let rest = &s[body_start..];
                let semi = rest.find(';').map_or(s.len(), |i| body_start + i);
                if semi == body_start {
                    return Err(UriError::BadUser);
                }
                Parts::Tel {
                    number: r(body_start, semi),
                    params: r(semi, s.len()),
                }
            }
            Scheme::Other => {
                if body_start == s.len() {
                    return Err(UriError::Empty);
                }
                Parts::Other
            }
        };
        Ok(UriScan { scheme, parts })
    }

    /// Builds `sip:user@host[:port]` (user escaped as needed).
    pub fn sip(user: Option<&str>, host: &str, port: Option<u16>) -> Uri {
        let mut s = String::with_capacity(4 + user.map_or(0, |u| u.len() + 1) + host.len() + 6);
        s.push_str("sip:");
        if let Some(u) = user {
            escape_into(&mut s, u, is_user_char_unescaped);
            s.push('@');
        }
        s.push_str(host);
        if let Some(p) = port {
            s.push(':');
            crate::digits::push_decimal(&mut s, u64::from(p));
        }
        // Built from parts we control; a bad host gives an opaque URI rather than a panic.
        Uri::parse(&s).unwrap_or(Uri {
            raw: s.into(),
            scheme: Scheme::Other,
            parts: Parts::Other,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.raw
    }
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }
    pub fn is_sip(&self) -> bool {
        matches!(self.scheme, Scheme::Sip | Scheme::Sips)
    }
    fn slice(&self, r: &R) -> &str {
        self.raw.get(r.start as usize..r.end as usize).unwrap_or("")
    }
    /// The user part as written (escapes kept); for `tel:` the number.
    pub fn user(&self) -> Option<&str> {
        match &self.parts {
            Parts::Sip { user, .. } => user.as_ref().map(|r| self.slice(r)),
            Parts::Tel { number, .. } => Some(self.slice(number)),
            Parts::Other => None,
        }
    }
    /// The user part with `%HH` escapes decoded once.
    pub fn user_decoded(&self) -> Option<Cow<'_, [u8]>> {
        self.user().map(percent_decode)
    }
    pub fn password(&self) -> Option<&str> {
        match &self.parts {
            Parts::Sip { password, .. } => password.as_ref().map(|r| self.slice(r)),
            _ => None,
        }
    }
    /// Host as written (IPv6 references keep their brackets).
    pub fn host(&self) -> Option<&str> {
        match &self.parts {
            Parts::Sip { host, .. } => Some(self.slice(host)),
            _ => None,
        }
    }
    pub fn port(&self) -> Option<u16> {
        match &self.parts {
            Parts::Sip { port, .. } => *port,
            _ => None,
        }
    }
    /// Everything after the scheme's colon, for opaque schemes.
    pub fn opaque(&self) -> &str {
        self.raw.split_once(':').map_or("", |(_, b)| b)
    }
    /// URI parameters as `(name, value)` with escapes kept.
    pub fn params(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        let text = match &self.parts {
            Parts::Sip { params, .. } | Parts::Tel { params, .. } => self.slice(params),
            Parts::Other => "",
        };
        text.split(';')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (p, None),
            })
    }
    /// A URI parameter by case-insensitive name: `Some(None)` for a flag parameter such as `lr`.
    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
    /// URI headers (`?a=b&c=d`) with escapes kept.
    pub fn headers(&self) -> impl Iterator<Item = (&str, &str)> {
        let text = match &self.parts {
            Parts::Sip { headers, .. } => self.slice(headers),
            _ => "",
        };
        text.split('&')
            .filter(|p| !p.is_empty())
            .map(|p| p.split_once('=').unwrap_or((p, "")))
    }
    pub fn has_headers(&self) -> bool {
        matches!(&self.parts, Parts::Sip { headers, .. } if !headers.is_empty())
    }
    /// The transport the `transport` parameter asks for, lowercased.
    pub fn transport(&self) -> Option<String> {
        self.param("transport")
            .flatten()
            .map(|t| t.to_ascii_lowercase())
    }

    /// A copy with a parameter added or replaced (`value` `None` for a flag).
    pub fn with_param(&self, name: &str, value: Option<&str>) -> Uri {
        let Parts::Sip { params, .. } = &self.parts else {
            return self.clone();
        };
        let mut s = String::with_capacity(self.raw.len() + name.len() + 8);
        s.push_str(self.raw.get(..params.start as usize).unwrap_or(""));
        for (n, v) in self.params() {
            if !n.eq_ignore_ascii_case(name) {
                s.push(';');
                s.push_str(n);
                if let Some(v) = v {
                    s.push('=');
                    s.push_str(v);
                }
            }
        }
        s.push(';');
        s.push_str(name);
        if let Some(v) = value {
            s.push('=');
            s.push_str(v);
        }
        s.push_str(self.raw.get(params.end as usize..).unwrap_or(""));
        Uri::parse(&s).unwrap_or_else(|_| self.clone())
    }

    /// A copy without URI headers and without the parameters that may not appear in a
    /// To/From/Request-URI built from a Contact (RFC 3261 §12.1 / §19.1.1 table 1).
    pub fn without_headers(&self) -> Uri {
        match &self.parts {
            Parts::Sip { headers, .. } if !headers.is_empty() => {
                let cut = (headers.start as usize).saturating_sub(1);
                Uri::parse(self.raw.get(..cut).unwrap_or("")).unwrap_or_else(|_| self.clone())
            }
            _ => self.clone(),
        }
    }

    /// RFC 3261 §19.1.4 equivalence for SIP/SIPS URIs; exact text comparison for others
    /// (tel: compares the number without visual separators).
    pub fn equivalent(&self, other: &Uri) -> bool {
        if self.scheme != other.scheme {
            return false;
        }
        match self.scheme {
            Scheme::Sip | Scheme::Sips => {
                if self.user_decoded() != other.user_decoded()
                    || self.password().map(percent_decode) != other.password().map(percent_decode)
                {
                    return false;
                }
                let (ha, hb) = (self.host().unwrap_or(""), other.host().unwrap_or(""));
                if !ha.eq_ignore_ascii_case(hb) || self.port() != other.port() {
                    return false;
                }
                let pa: Vec<(Vec<u8>, Option<Vec<u8>>)> = self
                    .params()
                    .map(|(n, v)| (decode_lower(n), v.map(decode_lower)))
                    .collect();
                let pb: Vec<(Vec<u8>, Option<Vec<u8>>)> = other
                    .params()
                    .map(|(n, v)| (decode_lower(n), v.map(decode_lower)))
                    .collect();
                let find = |list: &[(Vec<u8>, Option<Vec<u8>>)], name: &[u8]| {
                    list.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
                };
                // user, ttl, method, maddr and transport must match when either side has them.
                for special in [&b"user"[..], b"ttl", b"method", b"maddr", b"transport"] {
                    if find(&pa, special) != find(&pb, special) {
                        return false;
                    }
                }
                // Any other parameter must match when both sides have it.
                for (n, v) in &pa {
                    if let Some(ov) = find(&pb, n) {
                        if *v != ov {
                            return false;
                        }
                    }
                }
                let mut ha: Vec<_> = self
                    .headers()
                    .map(|(n, v)| (decode_lower(n), percent_decode(v).into_owned()))
                    .collect();
                let mut hb: Vec<_> = other
                    .headers()
                    .map(|(n, v)| (decode_lower(n), percent_decode(v).into_owned()))
                    .collect();
                ha.sort();
                hb.sort();
                ha == hb
            }
            Scheme::Tel => {
                let strip = |u: &Uri| -> String {
                    u.user()
                        .unwrap_or("")
                        .chars()
                        .filter(|c| !matches!(c, '-' | '.' | '(' | ')'))
                        .collect()
                };
                strip(self) == strip(other)
            }
            Scheme::Other => self.raw == other.raw,
        }
    }
}

fn decode_lower(s: &str) -> Vec<u8> {
    percent_decode(s).to_ascii_lowercase()
}

fn is_user_char_unescaped(c: u8) -> bool {
    is_user_char(c) && c != b'%'
}

#[cfg(test)]
#[test]
fn tables_match_the_grammar() {
    for c in 0..=255u8 {
        let unreserved = c.is_ascii_alphanumeric() || MARK.contains(&c);
        assert_eq!(is_user_char(c), unreserved || b"%&=+$,;?/".contains(&c));
        assert_eq!(is_param_char(c), unreserved || b"%[]/:&+$".contains(&c));
    }
}

fn escape_into(out: &mut String, s: &str, allowed: fn(u8) -> bool) {
    for &b in s.as_bytes() {
        if allowed(b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
}

fn parse_sip(s: &str, start: usize) -> Result<Parts, UriError> {
    let b = s.as_bytes();
    // userinfo: everything up to the first '@' (user parts may hold ';' '?' '/' ',').
    let (user, password, host_start) = match find_byte(&b[start..], b'@') {
        Some(at_rel) => {
            let at = start + at_rel;
            let info = &s[start..at];
            let (u_end, pw) = match find_byte(info.as_bytes(), b':') {
                Some(c) => (start + c, Some(r(start + c + 1, at))),
                None => (at, None),
            };
            if u_end == start || !s[start..u_end].bytes().all(is_user_char) {
                return Err(UriError::BadUser);
            }
            if let Some(pw) = &pw {
                if !s[pw.start as usize..pw.end as usize]
                    .bytes()
                    .all(is_password_char)
                {
                    return Err(UriError::BadUser);
                }
            }
            (Some(r(start, u_end)), pw, at + 1)
        }
        None => (None, None, start),
    };
    // host
    let mut i = host_start;
    if b.get(i) == Some(&b'[') {
        while i < b.len() && b[i] != b']' {
            if !(b[i] == b'[' || b[i].is_ascii_hexdigit() || b[i] == b':' || b[i] == b'.') {
                return Err(UriError::BadHost);
            }
            i += 1;
        }
        if i >= b.len() {
            return Err(UriError::BadHost);
        }
        i += 1;
    } else {
        while i < b.len() && is_host_char(b[i]) {
            i += 1;
        }
    }
    if i == host_start {
        return Err(UriError::BadHost);
    }
    let host = r(host_start, i);
    let mut port = None;
    if b.get(i) == Some(&b':') {
        let ps = i + 1;
        i = ps;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let p = s[ps..i].parse::<u16>().map_err(|_| UriError::BadPort)?;
        port = Some(p);
    }
    let params_start = i;
    while i < b.len() && b[i] == b';' {
        i += 1;
        let ns = i;
        while i < b.len() && is_param_char(b[i]) {
            i += 1;
        }
        if i == ns {
            return Err(UriError::BadParam);
        }
        if b.get(i) == Some(&b'=') {
            i += 1;
            let vs = i;
            while i < b.len() && is_param_char(b[i]) {
                i += 1;
            }
            if i == vs {
                return Err(UriError::BadParam);
            }
        }
    }
    let params = r(params_start, i);
    let mut headers = r(i, i);
    if b.get(i) == Some(&b'?') {
        let hs = i + 1;
        let text = &s[hs..];
        if text.is_empty() {
            return Err(UriError::BadHeaders);
        }
        for h in text.split('&') {
            let (n, v) = h.split_once('=').ok_or(UriError::BadHeaders)?;
            if n.is_empty() || !n.bytes().all(is_header_char) || !v.bytes().all(is_header_char) {
                return Err(UriError::BadHeaders);
            }
        }
        headers = r(hs, s.len());
        i = s.len();
    }
    if i != b.len() {
        return Err(match b[i] {
            b'<' | b'>' | b'"' => UriError::BadHost,
            _ => UriError::BadParam,
        });
    }
    Ok(Parts::Sip {
        user,
        password,
        host,
        port,
        params,
        headers,
    })
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

impl std::str::FromStr for Uri {
    type Err = UriError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uri::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sip_parts() {
        let u = Uri::parse("sip:alice:secret@[2001:db8::1]:5070;transport=tcp;lr?Subject=hi&X=y")
            .unwrap();
        assert_eq!(u.user(), Some("alice"));
        assert_eq!(u.password(), Some("secret"));
        assert_eq!(u.host(), Some("[2001:db8::1]"));
        assert_eq!(u.port(), Some(5070));
        assert_eq!(u.param("LR"), Some(None));
        assert_eq!(u.transport().as_deref(), Some("tcp"));
        assert_eq!(
            u.headers().collect::<Vec<_>>(),
            vec![("Subject", "hi"), ("X", "y")]
        );
        assert_eq!(
            u.to_string(),
            "sip:alice:secret@[2001:db8::1]:5070;transport=tcp;lr?Subject=hi&X=y"
        );
    }

    #[test]
    fn semicolon_in_user_part() {
        let u = Uri::parse("sip:user;par=u%40example.net@example.com").unwrap();
        assert_eq!(&*u.user_decoded().unwrap(), b"user;par=u@example.net");
        assert_eq!(u.host(), Some("example.com"));
    }

    #[test]
    fn escapes_compare_once() {
        let a =
            Uri::parse("sip:cal%6Cer@host5.example.net;%6C%72;n%61me=v%61lue%25%34%31").unwrap();
        let b = Uri::parse("sip:caller@HOST5.example.net;lr;name=value%2541").unwrap();
        let c = Uri::parse("sip:caller@host5.example.net;lr;name=valueA").unwrap();
        assert!(a.equivalent(&b));
        assert!(!a.equivalent(&c));
    }

    #[test]
    fn white_space_and_controls_are_refused_before_anything_else() {
        let uris = [
            "sip:alice:pw@[2001:db8::1]:5060;transport=tcp;lr?Subject=a&X=b",
            "sip:alice@example.com",
            "sips:example.com:5061",
            "tel:+1-555-0100;phone-context=example.com",
            "urn:service:sos",
            "sip:@bad",
            "1sip:a@b",
            "sip:a@b;;",
            "nocolon",
        ];
        for uri in uris {
            for at in 0..=uri.len() {
                for c in (0u8..=0x20).chain([0x7f]) {
                    let text = format!("{}{}{}", &uri[..at], c as char, &uri[at..]);
                    let got = Uri::parse(&text).map(|u| u.to_string());
                    assert_eq!(got, Err(UriError::Whitespace), "{text:?}");
                }
            }
        }
        assert!(Uri::parse("sip:a~b@example.com").is_ok());
    }

    #[test]
    fn rejects_bad_forms() {
        assert_eq!(
            Uri::parse("<sip:user@example.com>").unwrap_err(),
            UriError::BadScheme
        );
        assert!(Uri::parse("sip:user@example.com; lr").is_err());
        assert!(Uri::parse("sip:@example.com").is_err());
        assert!(Uri::parse("sip:user@exa mple.com").is_err());
        assert!(Uri::parse("sip:host:99999").is_err());
        assert!(Uri::parse("sip:host;;lr").is_err());
    }

    #[test]
    fn other_schemes_kept() {
        let u = Uri::parse("soap.beep://192.0.2.103:3002").unwrap();
        assert_eq!(u.scheme(), Scheme::Other);
        let t = Uri::parse("tel:+1-408-555-5555;phone-context=example.com").unwrap();
        assert_eq!(t.user(), Some("+1-408-555-5555"));
        assert_eq!(t.param("phone-context"), Some(Some("example.com")));
        assert!(t.equivalent(&Uri::parse("tel:+14085555555").unwrap()));
        assert!(!t.equivalent(&Uri::parse("tel:+14085555556").unwrap()));
    }

    #[test]
    fn with_param_replaces() {
        let u = Uri::parse("sip:a@b;transport=udp")
            .unwrap()
            .with_param("transport", Some("tcp"));
        assert_eq!(u.as_str(), "sip:a@b;transport=tcp");
        let u = Uri::sip(Some("a b"), "example.com", Some(5060));
        assert_eq!(u.as_str(), "sip:a%20b@example.com:5060");
    }
}
