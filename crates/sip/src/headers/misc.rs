//! The small typed headers: option-tag and method lists, scalar numbers, RSeq/RAck (RFC 3262),
//! Session-Expires/Min-SE (RFC 4028), Retry-After, Reason (RFC 3326), Replaces (RFC 3891),
//! Content-Type and Privacy (RFC 3323).

use super::params::Params;
use crate::method::Method;
use crate::text::{is_token, parse_u32, unfold, Cursor};
use std::fmt;

/// A comma-separated token list (Require, Supported, Unsupported, Allow, Proxy-Require, Privacy).
/// Empty values are allowed (`Supported:` with no tags).
pub fn parse_tokens(s: &str) -> Result<Vec<String>, &'static str> {
    let s = unfold(s);
    let mut out = Vec::new();
    if s.trim().is_empty() {
        return Ok(out);
    }
    for part in s.split(',') {
        let t = part.trim_matches(|c: char| c == ' ' || c == '\t');
        if t.is_empty() || !t.bytes().all(is_token) {
            return Err("bad token in list");
        }
        out.push(t.to_string());
    }
    Ok(out)
}

/// A bare decimal header value that must fit in 32 bits (Expires, Content-Length, RSeq...).
pub fn parse_number(s: &str) -> Result<u32, &'static str> {
    parse_u32(unfold(s).trim()).ok_or("not a 32-bit number")
}

/// Max-Forwards: 0..=255.
pub fn parse_max_forwards(s: &str) -> Result<u8, &'static str> {
    parse_number(s)
        .ok()
        .and_then(|v| u8::try_from(v).ok())
        .ok_or("not a number in 0..=255")
}

/// RAck: `response-num CSeq-num Method` (RFC 3262 §7.2).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RAck {
    pub rseq: u32,
    pub cseq: u32,
    pub method: Method,
}

impl RAck {
    pub fn parse(s: &str) -> Result<RAck, &'static str> {
        let s = unfold(s);
        let mut it = s.split_ascii_whitespace();
        let rseq = it.next().and_then(parse_u32).ok_or("bad response number")?;
        let cseq = it.next().and_then(parse_u32).ok_or("bad CSeq number")?;
        let method = it.next().and_then(Method::parse).ok_or("bad method")?;
        if it.next().is_some() {
            return Err("unexpected text");
        }
        Ok(RAck { rseq, cseq, method })
    }
}

impl fmt::Display for RAck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.rseq, self.cseq, self.method)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refresher {
    Uac,
    Uas,
}

/// Session-Expires: `delta-seconds [;refresher=uac|uas]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionExpires {
    pub delta: u32,
    pub refresher: Option<Refresher>,
    pub params: Params,
}

impl SessionExpires {
    pub fn parse(s: &str) -> Result<SessionExpires, &'static str> {
        let s = unfold(s);
        let mut c = Cursor::new(&s);
        c.skip_ws();
        let delta = parse_u32(c.take_while(|b| b.is_ascii_digit())).ok_or("bad delta-seconds")?;
        let params = Params::parse(&mut c)?;
        c.skip_ws();
        if !c.at_end() {
            return Err("unexpected text");
        }
        let refresher = match params.get("refresher") {
            None => None,
            Some(Some(v)) if v.eq_ignore_ascii_case("uac") => Some(Refresher::Uac),
            Some(Some(v)) if v.eq_ignore_ascii_case("uas") => Some(Refresher::Uas),
            Some(_) => return Err("bad refresher"),
        };
        Ok(SessionExpires {
            delta,
            refresher,
            params,
        })
    }
}

impl fmt::Display for SessionExpires {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.delta)?;
        let mut p = self.params.clone();
        match self.refresher {
            Some(Refresher::Uac) => p.set("refresher", Some("uac")),
            Some(Refresher::Uas) => p.set("refresher", Some("uas")),
            None => p.remove("refresher"),
        }
        write!(f, "{p}")
    }
}

/// Retry-After: `delta-seconds [(comment)] [;duration=...]`.
pub fn parse_retry_after(s: &str) -> Result<u32, &'static str> {
    let s = unfold(s);
    let digits: &str = s
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap_or("");
    parse_u32(digits).ok_or("bad delta-seconds")
}

/// Reason (RFC 3326): `protocol ;cause=N [;text="..."]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reason {
    pub protocol: Box<str>,
    pub cause: Option<u16>,
    pub text: Option<String>,
    pub params: Params,
}

impl Reason {
    pub fn q850(cause: u16) -> Reason {
        Reason {
            protocol: "Q.850".into(),
            cause: Some(cause),
            text: None,
            params: Params::new(),
        }
    }
    pub fn sip(cause: u16, text: Option<&str>) -> Reason {
        Reason {
            protocol: "SIP".into(),
            cause: Some(cause),
            text: text.map(Into::into),
            params: Params::new(),
        }
    }
    pub fn parse_list(s: &str) -> Result<Vec<Reason>, &'static str> {
        let s = unfold(s);
        crate::text::split_commas(&s)
            .map(|part| {
                let mut c = Cursor::new(part);
                c.skip_ws();
                let protocol = c.token().ok_or("missing protocol")?;
                let params = Params::parse(&mut c)?;
                c.skip_ws();
                if !c.at_end() {
                    return Err("unexpected text");
                }
                let cause = match params.get("cause") {
                    Some(Some(v)) => Some(v.parse::<u16>().map_err(|_| "bad cause")?),
                    Some(None) => return Err("bad cause"),
                    None => None,
                };
                let text = params.get_unquoted("text").map(|t| t.into_owned());
                let mut rest = params.clone();
                rest.remove("cause");
                rest.remove("text");
                Ok(Reason {
                    protocol: protocol.into(),
                    cause,
                    text,
                    params: rest,
                })
            })
            .collect()
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.protocol)?;
        if let Some(c) = self.cause {
            write!(f, ";cause={c}")?;
        }
        if let Some(t) = &self.text {
            write!(f, ";text={}", crate::text::quote(t))?;
        }
        write!(f, "{}", self.params)
    }
}

/// Replaces (RFC 3891): `call-id ;to-tag=..;from-tag=..[;early-only]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replaces {
    pub call_id: String,
    pub to_tag: String,
    pub from_tag: String,
    pub early_only: bool,
}

impl Replaces {
    pub fn parse(s: &str) -> Result<Replaces, &'static str> {
        let s = unfold(s);
        let mut c = Cursor::new(&s);
        c.skip_ws();
        let call_id = c.take_while(|b| crate::text::is_word(b) || b == b'@');
        if call_id.is_empty() {
            return Err("missing call-id");
        }
        let params = Params::parse(&mut c)?;
        c.skip_ws();
        if !c.at_end() {
            return Err("unexpected text");
        }
        let to_tag = params
            .get("to-tag")
            .flatten()
            .ok_or("missing to-tag")?
            .to_string();
        let from_tag = params
            .get("from-tag")
            .flatten()
            .ok_or("missing from-tag")?
            .to_string();
        Ok(Replaces {
            call_id: call_id.to_string(),
            to_tag,
            from_tag,
            early_only: params.contains("early-only"),
        })
    }
}

impl fmt::Display for Replaces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{};to-tag={};from-tag={}",
            self.call_id, self.to_tag, self.from_tag
        )?;
        if self.early_only {
            f.write_str(";early-only")?;
        }
        Ok(())
    }
}

/// Content-Type: `type/subtype *(;param)`; type and subtype are compared case-insensitively.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContentType {
    pub mtype: Box<str>,
    pub subtype: Box<str>,
    pub params: Params,
}

impl ContentType {
    pub fn parse(s: &str) -> Result<ContentType, &'static str> {
        let s = unfold(s);
        let mut c = Cursor::new(&s);
        c.skip_ws();
        let t = c.token().ok_or("missing type")?;
        if !c.eat_sep(b'/') {
            return Err("missing subtype");
        }
        let st = c.token().ok_or("missing subtype")?;
        let params = Params::parse(&mut c)?;
        c.skip_ws();
        if !c.at_end() {
            return Err("unexpected text");
        }
        Ok(ContentType {
            mtype: t.into(),
            subtype: st.into(),
            params,
        })
    }
    /// Whether a Content-Type value parses (as [`ContentType::parse`] would) and names
    /// `mtype/subtype`, building nothing.
    pub fn value_is(s: &str, mtype: &str, subtype: &str) -> bool {
        let s = unfold(s);
        let mut c = Cursor::new(&s);
        c.skip_ws();
        let Some(t) = c.token() else { return false };
        if !c.eat_sep(b'/') {
            return false;
        }
        let Some(st) = c.token() else { return false };
        if Params::scan(&mut c, |_, _| {}).is_err() {
            return false;
        }
        c.skip_ws();
        c.at_end() && t.eq_ignore_ascii_case(mtype) && st.eq_ignore_ascii_case(subtype)
    }
    pub fn is(&self, mtype: &str, subtype: &str) -> bool {
        self.mtype.eq_ignore_ascii_case(mtype) && self.subtype.eq_ignore_ascii_case(subtype)
    }
    pub fn is_sdp(&self) -> bool {
        self.is("application", "sdp")
    }
}

impl fmt::Display for ContentType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}{}", self.mtype, self.subtype, self.params)
    }
}

/// Accept: a list of media ranges (`type/subtype` with `*` wildcards).
pub fn parse_accept(s: &str) -> Result<Vec<ContentType>, &'static str> {
    let s = unfold(s);
    if s.trim().is_empty() {
        return Ok(Vec::new());
    }
    crate::text::split_commas(&s)
        .map(ContentType::parse)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_type_value_is_agrees_with_parse() {
        for v in [
            "application/sdp",
            "Application/SDP ; charset=utf-8",
            "application/sdp;",
            "application /sdp",
            "application/sdp x",
            "text/plain",
            "application",
            "",
        ] {
            let parsed = ContentType::parse(v).map(|c| c.is_sdp()).unwrap_or(false);
            assert_eq!(
                ContentType::value_is(v, "application", "sdp"),
                parsed,
                "{v}"
            );
        }
    }

    #[test]
    fn small_headers() {
        assert_eq!(
            parse_tokens("100rel, timer ,replaces").unwrap(),
            vec!["100rel", "timer", "replaces"]
        );
        assert!(parse_tokens("a,,b").is_err());
        assert_eq!(parse_max_forwards("0068"), Ok(68));
        assert!(parse_max_forwards("300").is_err());
        assert!(parse_number("-1").is_err());
        assert_eq!(RAck::parse("776656 1 INVITE").unwrap().rseq, 776656);
        let se = SessionExpires::parse("1800;refresher=uas").unwrap();
        assert_eq!((se.delta, se.refresher), (1800, Some(Refresher::Uas)));
        assert_eq!(se.to_string(), "1800;refresher=uas");
        let r = Reason::parse_list("Q.850;cause=16;text=\"Terminated\", SIP ;cause=200").unwrap();
        assert_eq!(r[0].cause, Some(16));
        assert_eq!(r[0].text.as_deref(), Some("Terminated"));
        assert_eq!(r[1].to_string(), "SIP;cause=200");
        let rp = Replaces::parse("425928@bobster.example.org;to-tag=7743;from-tag=6472;early-only")
            .unwrap();
        assert!(rp.early_only);
        assert_eq!(
            rp.to_string(),
            "425928@bobster.example.org;to-tag=7743;from-tag=6472;early-only"
        );
        assert!(ContentType::parse("Application/SDP").unwrap().is_sdp());
        assert_eq!(parse_retry_after("18000;duration=3600"), Ok(18000));
        assert!(parse_retry_after("949302838503028349304023988").is_err());
    }
}
