//! Via: `SIP/2.0/transport sent-by;params`, with the branch, received and rport (RFC 3581)
//! parameters a transaction layer and a transport need.

use super::params::{Params, ParamsText};
use crate::text::{is_token, Cursor};
use std::fmt;

/// The RFC 3261 branch magic cookie.
pub const MAGIC_COOKIE: &str = "z9hG4bK";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Via {
    /// Transport as written (`UDP`, `TCP`, `TLS`, `SCTP`, `WS`, or anything else).
    pub transport: Box<str>,
    /// Host as written (IPv6 references keep their brackets).
    pub host: Box<str>,
    pub port: Option<u16>,
    pub params: Params,
}

impl Via {
    pub fn new(transport: &str, host: &str, port: Option<u16>, branch: &str) -> Via {
        let mut params = Params::new();
        params.set("branch", Some(branch));
        Via {
            transport: transport.into(),
            host: host.into(),
            port,
            params,
        }
    }
    pub fn branch(&self) -> Option<&str> {
        self.params.get("branch").flatten()
    }
    /// Whether the branch carries the RFC 3261 magic cookie (and so identifies a transaction).
    pub fn is_rfc3261_branch(&self) -> bool {
        self.branch().is_some_and(|b| b.starts_with(MAGIC_COOKIE))
    }
    pub fn received(&self) -> Option<&str> {
        self.params.get("received").flatten()
    }
    /// `None`: no rport; `Some(None)`: rport requested; `Some(Some(p))`: filled in.
    pub fn rport(&self) -> Option<Option<u16>> {
        self.params
            .get("rport")
            .map(|v| v.and_then(|p| p.parse().ok()))
    }
    pub fn sent_by(&self) -> (&str, Option<u16>) {
        (&self.host, self.port)
    }

    /// Parses a whole Via header value (one or more comma-separated via-parms).
    pub fn parse_list(s: &str) -> Result<Vec<Via>, &'static str> {
        let s = crate::text::unfold(s);
        let mut out = Vec::new();
        for part in crate::text::split_commas(&s) {
            out.push(Via::parse_one(part)?);
        }
        Ok(out)
    }

    /// Checks a whole Via header value, already unfolded, as [`Via::parse_list`] does,
    /// building nothing.
    pub(crate) fn check_unfolded_list(s: &str) -> Result<(), &'static str> {
        for part in crate::text::split_commas(s) {
            ViaScan::scan(part)?;
        }
        Ok(())
    }

    /// Checks a whole Via header value, already unfolded, as [`Via::parse_list`] does, and
    /// says where the parts of its first via-parm are, for [`Via::from_spans`].
    pub(crate) fn check_unfolded_list_spans(s: &str) -> Result<ViaSpans, &'static str> {
        let mut parts = crate::text::split_commas(s);
        // The first element starts where `s` does, so its offsets are offsets in `s`.
        let first = ViaScan::scan(parts.next().unwrap_or_default())?.spans();
        for part in parts {
            ViaScan::scan(part)?;
        }
        Ok(first)
    }

    /// The first via-parm of a Via header value: what [`Via::parse_list`] would return first.
    pub(crate) fn parse_first(s: &str) -> Result<Via, &'static str> {
        let s = crate::text::unfold(s);
        let first = crate::text::split_commas(&s).next().unwrap_or("");
        Via::parse_one(first)
    }

    /// The via-parm that [`Via::check_unfolded_list_spans`] found in `s`, built without
    /// scanning it again; `None` if `s` is not that text.
    pub(crate) fn from_spans(s: &str, spans: &ViaSpans) -> Option<Via> {
        let params = ParamsText::again(s, spans.params, spans.params_spaced)?;
        Some(Via {
            transport: s.get(spans.transport.0..spans.transport.1)?.into(),
            host: s.get(spans.host.0..spans.host.1)?.into(),
            port: spans.port,
            params: params.into_params(),
        })
    }

    pub fn parse_one(s: &str) -> Result<Via, &'static str> {
        ViaScan::scan(s).map(ViaScan::into_via)
    }
}

/// Where the parts of one checked via-parm are in its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ViaSpans {
    transport: (usize, usize),
    host: (usize, usize),
    port: Option<u16>,
    params: (usize, usize),
    params_spaced: bool,
    /// Where the value of the first `branch` parameter is.
    branch: Option<(usize, usize)>,
}

impl ViaSpans {
    /// The branch of the via-parm these spans were found in, `s` being its text.
    pub(crate) fn branch<'a>(&self, s: &'a str) -> Option<&'a str> {
        self.branch.and_then(|(a, b)| s.get(a..b))
    }
    /// The sent-by host (as written) and port of the via-parm in `s`.
    pub(crate) fn sent_by<'a>(&self, s: &'a str) -> Option<(&'a str, Option<u16>)> {
        Some((s.get(self.host.0..self.host.1)?, self.port))
    }
}

/// One via-parm checked and taken apart, borrowing its text.
struct ViaScan<'a> {
    transport: &'a str,
    transport_at: usize,
    /// As written (IPv6 references keep their brackets).
    host: &'a str,
    host_at: usize,
    port: Option<u16>,
    params: ParamsText<'a>,
    branch: Option<(usize, usize)>,
}

impl<'a> ViaScan<'a> {
    fn spans(&self) -> ViaSpans {
        let (params, params_spaced) = self.params.span();
        ViaSpans {
            transport: (self.transport_at, self.transport_at + self.transport.len()),
            host: (self.host_at, self.host_at + self.host.len()),
            port: self.port,
            params,
            params_spaced,
            branch: self.branch,
        }
    }

    fn scan(s: &'a str) -> Result<ViaScan<'a>, &'static str> {
        let mut c = Cursor::new(s);
        c.skip_ws();
        let proto = c.token().ok_or("missing protocol name")?;
        if !c.eat_sep(b'/') {
            return Err("missing '/' after protocol");
        }
        let version = c.token().ok_or("missing protocol version")?;
        if !proto.eq_ignore_ascii_case("SIP") || version != "2.0" {
            return Err("protocol is not SIP/2.0");
        }
        if !c.eat_sep(b'/') {
            return Err("missing '/' before transport");
        }
        let transport_at = c.pos;
        let transport = c.token().ok_or("missing transport")?;
        if !c.skip_ws() {
            return Err("missing white space before sent-by");
        }
        let host_start = c.pos;
        if c.peek() == Some(b'[') {
            c.take_while(|b| b != b']');
            if !c.eat(b']') {
                return Err("unterminated IPv6 reference");
            }
        } else if c.take_while(crate::text::is_via_host).is_empty() {
            return Err("missing host");
        }
        let host = s.get(host_start..c.pos).unwrap_or("");
        let mut port = None;
        if c.eat_sep(b':') {
            let p = c.take_while(|b| b.is_ascii_digit());
            port = Some(p.parse::<u16>().map_err(|_| "bad port")?);
        }
        // The first `branch` parameter, as `Params::get` would find it.
        let mut branch = None;
        let params = Params::scan(&mut c, |name, value| {
            if branch.is_none() && name.eq_ignore_ascii_case("branch") {
                branch = Some(value);
            }
        })?;
        c.skip_ws();
        if !c.at_end() {
            return Err("unexpected text in Via");
        }
        if let Some(b) = branch {
            // branch must be a token (RFC 3261 §20.42); `branch=` alone is malformed.
            let text = b.and_then(|(from, to)| s.get(from..to));
            if !text.is_some_and(|b| !b.is_empty() && b.bytes().all(is_token)) {
                return Err("bad branch");
            }
        }
        Ok(ViaScan {
            transport,
            transport_at,
            host,
            host_at: host_start,
            port,
            params,
            branch: branch.flatten(),
        })
    }

    fn into_via(self) -> Via {
        Via {
            transport: self.transport.into(),
            host: self.host.into(),
            port: self.port,
            params: self.params.into_params(),
        }
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SIP/2.0/{} {}", self.transport, self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        write!(f, "{}", self.params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tortuous_vias() {
        let v = Via::parse_list("SIP  /   2.0\r\n /UDP\r\n    192.0.2.2;branch=390skdjuw").unwrap();
        assert_eq!(v[0].host.as_ref(), "192.0.2.2");
        let v = Via::parse_list("SIP  / 2.0  / TCP     spindle.example.com   ;\r\n  branch  =   z9hG4bK9ikj8  ,\r\n SIP  /    2.0   / UDP  192.168.255.111   ; branch=\r\n z9hG4bK30239").unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].branch(), Some("z9hG4bK9ikj8"));
        assert_eq!(v[1].branch(), Some("z9hG4bK30239"));
        assert_eq!(v[1].transport.as_ref(), "UDP");
        let v = Via::parse_one("SIP/2.0/UDP [2001:db8::9:1]:5062;rport;branch=z9hG4bKx").unwrap();
        assert_eq!(v.host.as_ref(), "[2001:db8::9:1]");
        assert_eq!(v.port, Some(5062));
        assert_eq!(v.rport(), Some(None));
    }

    #[test]
    fn spans_build_what_a_parse_builds() {
        for v in [
            "SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK4b43c2ff8.1;rport",
            "SIP  / 2.0  / TCP     spindle.example.com   ;  branch  =   z9hG4bK9ikj8  , SIP/2.0/UDP x",
            "SIP/2.0/TLS [2001:db8::9:1]:5062 ; rport ; x=\"a; b\" ;branch=z9hG4bKx",
            "sip/2.0/ws h",
            "SIP/2.0/UDP h;received=[2001:db8::1];branch=z9hG4bK1, SIP/2.0/TCP g;branch=z9hG4bK2",
        ] {
            let spans = Via::check_unfolded_list_spans(v).unwrap();
            let built = Via::from_spans(v, &spans).unwrap();
            assert_eq!(built, Via::parse_first(v).unwrap(), "{v}");
            assert_eq!(built, Via::parse_list(v).unwrap()[0], "{v}");
            assert_eq!(built.to_string(), Via::parse_first(v).unwrap().to_string());
        }
        assert!(Via::check_unfolded_list_spans("SIP/2.0/UDP h, SIP/7.0/UDP g").is_err());
        let spans = Via::check_unfolded_list_spans("SIP/2.0/UDP somewhere.example.com").unwrap();
        assert_eq!(Via::from_spans("SIP/2.0/UDP h", &spans), None);
    }

    #[test]
    fn rejects_stray_separators() {
        assert!(Via::parse_list("SIP/2.0/UDP 192.0.2.15;;,;,,").is_err());
        assert!(Via::parse_list("SIP/7.0/UDP host").is_err());
    }
}
