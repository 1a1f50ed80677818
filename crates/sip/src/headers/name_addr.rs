//! `name-addr / addr-spec` with header parameters: the shape of From, To, Contact, Route,
//! Record-Route, Reply-To, P-Asserted-Identity, Refer-To, Referred-By, Diversion and
//! History-Info values. In the addr-spec form (no angle brackets) every `;param` after the URI
//! belongs to the header, not to the URI (RFC 3261 §20).

use super::params::{Params, ParamsText};
use crate::text::{is_token, quote, unquote, Cursor};
use crate::uri::{Scheme, Uri, UriScan};
use std::borrow::Cow;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameAddr {
    /// The display name as written (a quoted string keeps its quotes), if any.
    display: Option<Box<str>>,
    pub uri: Uri,
    pub params: Params,
    /// Whether the URI was written inside `<>`.
    bracketed: bool,
}

impl NameAddr {
    pub fn new(uri: Uri) -> Self {
        NameAddr {
            display: None,
            uri,
            params: Params::new(),
            bracketed: true,
        }
    }
    pub fn with_display(mut self, name: &str) -> Self {
        self.display = if name.is_empty() {
            None
        } else {
            Some(quote(name).into())
        };
        self
    }
    /// The display name with quotes and escapes removed.
    pub fn display_name(&self) -> Option<Cow<'_, str>> {
        self.display.as_deref().map(unquote)
    }
    pub fn tag(&self) -> Option<&str> {
        self.params.get("tag").flatten()
    }
    pub fn set_tag(&mut self, tag: &str) {
        self.params.set("tag", Some(tag));
    }
    /// Contact `expires` parameter.
    pub fn expires(&self) -> Option<u32> {
        self.params
            .get("expires")
            .flatten()
            .and_then(crate::text::parse_u32)
    }

    /// Parses one value (no top-level commas).
    pub fn parse(s: &str) -> Result<NameAddr, &'static str> {
        let s = crate::text::unfold(s);
        NameAddrScan::scan(&s, |_, _| {}).map(NameAddrScan::into_name_addr)
    }

    /// Parses a comma-separated list of values (Contact, Route, ...).
    pub fn parse_list(s: &str) -> Result<Vec<NameAddr>, &'static str> {
        let s = crate::text::unfold(s);
        let mut out = Vec::new();
        for part in crate::text::split_commas(&s) {
            if part.trim().is_empty() {
                return Err("empty list element");
            }
            out.push(NameAddr::parse(part)?);
        }
        Ok(out)
    }

    /// Checks a list, already unfolded, as [`NameAddr::parse_list`] does, building nothing.
    pub(crate) fn check_unfolded_list(s: &str) -> Result<(), &'static str> {
        for part in crate::text::split_commas(s) {
            if part.trim().is_empty() {
                return Err("empty list element");
            }
            NameAddrScan::scan(part, |_, _| {})?;
        }
        Ok(())
    }
}

/// One name-addr or addr-spec value checked and taken apart, borrowing its (unfolded) text.
pub(crate) struct NameAddrScan<'a> {
    display: Option<&'a str>,
    uri_text: &'a str,
    uri: UriScan,
    params: ParamsText<'a>,
    bracketed: bool,
}

impl<'a> NameAddrScan<'a> {
    /// Checks one whole value (already unfolded, no top-level commas) as [`NameAddr::parse`]
    /// does. `seen` gets each header parameter's name and the range of its value in `s`.
    pub(crate) fn scan(
        s: &'a str,
        seen: impl FnMut(&'a str, Option<(usize, usize)>),
    ) -> Result<NameAddrScan<'a>, &'static str> {
        let mut c = Cursor::new(s);
        let v = Self::scan_at(&mut c, seen)?;
        c.skip_ws();
        if !c.at_end() {
            return Err("unexpected text after value");
        }
        Ok(v)
    }

    fn scan_at(
        c: &mut Cursor<'a>,
        seen: impl FnMut(&'a str, Option<(usize, usize)>),
    ) -> Result<NameAddrScan<'a>, &'static str> {
        c.skip_ws();
        let start = c.pos;
        let mut display = None;
        if c.peek() == Some(b'"') {
            let q = c.quoted().ok_or("unterminated quoted display name")?;
            display = Some(q);
            c.skip_ws();
            if c.peek() != Some(b'<') {
                return Err("display name without <URI>");
            }
        } else if c.peek() != Some(b'<') {
            // Either `token *(LWS token) <uri>` or an addr-spec.
            loop {
                let t = c.take_while(is_token);
                if t.is_empty() {
                    break;
                }
                c.skip_ws();
            }
            if c.peek() == Some(b'<') {
                let text = c.s.get(start..c.pos).unwrap_or("").trim_end();
                if !text.is_empty() {
                    display = Some(text);
                }
            } else {
                c.pos = start;
                return Self::scan_addr_spec(c, seen);
            }
        }
        // `<` addr-spec `>`; no white space inside the brackets.
        if !c.eat(b'<') {
            return Err("expected <");
        }
        let rest = c.rest();
        let uri_text = rest
            .get(..crate::text::find_byte(rest.as_bytes(), b'>').unwrap_or(rest.len()))
            .unwrap_or_default();
        c.pos += uri_text.len();
        if !c.eat(b'>') {
            return Err("unterminated <URI>");
        }
        let uri = Uri::scan(uri_text).map_err(|e| e.as_str())?;
        let params = Params::scan(c, seen)?;
        Ok(NameAddrScan {
            display,
            uri_text,
            uri,
            params,
            bracketed: true,
        })
    }

    fn scan_addr_spec(
        c: &mut Cursor<'a>,
        seen: impl FnMut(&'a str, Option<(usize, usize)>),
    ) -> Result<NameAddrScan<'a>, &'static str> {
        let rest = c.rest();
        // The URI ends at white space, a comma, or (RFC 3261 §20) the first ';' after the
        // host part: user parts may contain ';' so look for it after any '@'.
        let end_ws = rest
            .find([' ', '\t', ',', '\r', '\n'])
            .unwrap_or(rest.len());
        let token = &rest[..end_ws];
        let after_user = token.find('@').map_or(0, |i| i + 1);
        let uri_end = token[after_user..]
            .find(';')
            .map_or(token.len(), |i| after_user + i);
        let uri_text = &token[..uri_end];
        let uri = Uri::scan(uri_text).map_err(|e| e.as_str())?;
        if uri.has_headers() || (uri.scheme() != Scheme::Other && uri_text.contains('?')) {
            return Err("URI with headers must be enclosed in <>");
        }
        c.pos += uri_end;
        let params = Params::scan(c, seen)?;
        Ok(NameAddrScan {
            display: None,
            uri_text,
            uri,
            params,
            bracketed: false,
        })
    }

    pub(crate) fn into_name_addr(self) -> NameAddr {
        NameAddr {
            display: self.display.map(Into::into),
            uri: self.uri.into_uri(self.uri_text),
            params: self.params.into_params(),
            bracketed: self.bracketed,
        }
    }
}

impl NameAddr {
    /// The value as text: what `to_string` gives, built in one allocation.
    pub fn to_text(&self) -> String {
        let display = self.display.as_deref().map_or(0, |d| d.len() + 1);
        let mut out = String::with_capacity(
            display + self.uri.as_str().len() + 2 + self.params.as_str().len(),
        );
        self.write_into(&mut out);
        out
    }

    /// Appends the text [`to_text`](Self::to_text) gives to `out`.
    pub fn write_into(&self, out: &mut String) {
        if let Some(d) = &self.display {
            out.push_str(d);
            out.push(' ');
        }
        let uri = self.uri.as_str();
        if self.bracketed || self.display.is_some() {
            out.push('<');
            out.push_str(uri);
            out.push('>');
        } else {
            out.push_str(uri);
        }
        out.push_str(self.params.as_str());
    }
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(d) = &self.display {
            f.write_str(d)?;
            f.write_str(" ")?;
        }
        if self.bracketed || self.display.is_some() {
            f.write_str("<")?;
            f.write_str(self.uri.as_str())?;
            f.write_str(">")?;
        } else {
            f.write_str(self.uri.as_str())?;
        }
        f.write_str(self.params.as_str())
    }
}

/// A Contact header value: `*` (only in REGISTER, to remove all bindings) or a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContactValue {
    Star,
    List(Vec<NameAddr>),
}

impl ContactValue {
    pub fn parse(s: &str) -> Result<ContactValue, &'static str> {
        if s.trim() == "*" {
            return Ok(ContactValue::Star);
        }
        NameAddr::parse_list(s).map(ContactValue::List)
    }

    /// Checks a value, already unfolded, as [`ContactValue::parse`] does, building nothing.
    pub(crate) fn check_unfolded(s: &str) -> Result<(), &'static str> {
        if s.trim() == "*" {
            return Ok(());
        }
        NameAddr::check_unfolded_list(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        let a = NameAddr::parse(
            r#""J Rosenberg \\\""       <sip:jdrosen@example.com>  ;  tag = 98asjd8"#,
        )
        .unwrap();
        assert_eq!(a.display_name().as_deref(), Some(r#"J Rosenberg \""#));
        assert_eq!(a.tag(), Some("98asjd8"));
        let b = NameAddr::parse("caller<sip:caller@example.com>;tag=323").unwrap();
        assert_eq!(b.display_name().as_deref(), Some("caller"));
        let c = NameAddr::parse("sip:+19725552222@gw1.example.net;unknownparam").unwrap();
        assert!(c.params.contains("unknownparam"));
        assert!(c.uri.param("unknownparam").is_none());
        let d = NameAddr::parse("<sip:+19725552222@gw1.example.net;unknownparam>").unwrap();
        assert!(!d.params.contains("unknownparam"));
        assert_eq!(d.uri.param("unknownparam"), Some(None));
        let e = NameAddr::parse("isbn:2983792873").unwrap();
        assert_eq!(e.uri.scheme(), Scheme::Other);
    }

    #[test]
    fn rejects() {
        assert!(NameAddr::parse(r#""Mr J. User <sip:j.user@example.com>"#).is_err());
        assert!(NameAddr::parse(r#""Watson, Thomas" < sip:t.watson@example.org >"#).is_err());
        assert!(NameAddr::parse("sip:user@example.com?Route=%3Csip:sip.example.com%3E").is_err());
        assert!(NameAddr::parse(r#""Joe" <sip:joe@example.org>;;;;"#).is_err());
        assert!(NameAddr::parse_list("<sip:a@b>,,<sip:c@d>").is_err());
    }

    #[test]
    fn display_round_trip() {
        let a = NameAddr::new(Uri::parse("sip:2000@tether").unwrap()).with_display("Voice Connect");
        assert_eq!(a.to_string(), r#""Voice Connect" <sip:2000@tether>"#);
    }
}
