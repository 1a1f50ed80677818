//! CSeq: a sequence number that fits in 32 bits and a method.

use crate::method::Method;
use crate::text::{parse_u32, Cursor};
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CSeq {
    pub seq: u32,
    pub method: Method,
}

impl CSeq {
    pub fn parse(s: &str) -> Result<CSeq, &'static str> {
        let s = crate::text::unfold(s);
        let mut c = Cursor::new(&s);
        c.skip_ws();
        let digits = c.take_while(|b| b.is_ascii_digit());
        let seq = parse_u32(digits).ok_or("sequence number is not a 32-bit number")?;
        if !c.skip_ws() {
            return Err("missing method");
        }
        let m = c.token().ok_or("missing method")?;
        c.skip_ws();
        if !c.at_end() {
            return Err("unexpected text");
        }
        Ok(CSeq {
            seq,
            method: Method::parse(m).ok_or("bad method")?,
        })
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}
