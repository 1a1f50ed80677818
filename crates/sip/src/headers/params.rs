//! Generic header parameters (`;name[=value]`, RFC 3261 `generic-param`): values are tokens,
//! hosts (IPv6 references included) or quoted strings, kept as written so they serialize back
//! unchanged.

use crate::text::{unquote, Cursor};
use std::borrow::Cow;
use std::fmt;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params(Vec<(Box<str>, Option<Box<str>>)>);

fn is_value_char(c: u8) -> bool {
    crate::text::is_token(c) || matches!(c, b':' | b'[' | b']')
}

impl Params {
    pub fn new() -> Self {
        Params(Vec::new())
    }

    /// Parses `*( SEMI generic-param )` at the cursor; stops at the first character that cannot
    /// continue the list (the caller decides whether that is an error).
    pub(crate) fn parse(c: &mut Cursor<'_>) -> Result<Params, &'static str> {
        let mut out = Vec::new();
        while c.eat_sep(b';') {
            let name = c.token().ok_or("empty parameter")?;
            let value = if c.eat_sep(b'=') {
                let v = if c.peek() == Some(b'"') {
                    c.quoted().ok_or("unterminated quoted parameter")?
                } else {
                    let v = c.take_while(is_value_char);
                    if v.is_empty() {
                        return Err("empty parameter value");
                    }
                    v
                };
                Some(v.into())
            } else {
                None
            };
            out.push((name.into(), value));
        }
        Ok(Params(out))
    }

    /// The raw value of a parameter by case-insensitive name; `Some(None)` for a flag.
    pub fn get(&self, name: &str) -> Option<Option<&str>> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }
    /// The value with quotes removed.
    pub fn get_unquoted(&self, name: &str) -> Option<Cow<'_, str>> {
        self.get(name).flatten().map(unquote)
    }
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
    /// Sets (replacing) a parameter; `value` is written as given (quote it yourself if needed).
    pub fn set(&mut self, name: &str, value: Option<&str>) {
        let v = value.map(Into::into);
        if let Some(slot) = self
            .0
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            slot.1 = v;
        } else {
            self.0.push((name.into(), v));
        }
    }
    pub fn remove(&mut self, name: &str) {
        self.0.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }
    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        self.0.iter().map(|(n, v)| (&**n, v.as_deref()))
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, v) in &self.0 {
            write!(f, ";{n}")?;
            if let Some(v) = v {
                write!(f, "={v}")?;
            }
        }
        Ok(())
    }
}
