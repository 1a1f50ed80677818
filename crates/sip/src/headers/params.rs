//! Generic header parameters (`;name[=value]`, RFC 3261 `generic-param`): values are tokens,
//! hosts (IPv6 references included) or quoted strings. The list is kept as one normalized
//! string (`;a=b;c`) — one allocation however many parameters — and read by scanning it.

use crate::text::{unquote, Cursor};
use std::borrow::Cow;
use std::fmt;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Params(Box<str>);

/// Iterates `;name[=value]` over normalized text; quoted values may hold ';' and '='.
struct Iter<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a str, Option<&'a str>);
    fn next(&mut self) -> Option<Self::Item> {
        let b = self.s.as_bytes();
        if self.pos >= b.len() {
            return None;
        }
        // Skip the ';'.
        let start = self.pos + 1;
        let mut i = start;
        let mut eq = None;
        let mut in_q = false;
        while i < b.len() {
            match b[i] {
                b'\\' if in_q => i += 1,
                b'"' => in_q = !in_q,
                b'=' if !in_q && eq.is_none() => eq = Some(i),
                b';' if !in_q => break,
                _ => {}
            }
            i += 1;
        }
        let end = i.min(b.len());
        self.pos = end;
        Some(match eq {
            Some(e) => (self.s.get(start..e).unwrap_or(""), self.s.get(e + 1..end)),
            None => (self.s.get(start..end).unwrap_or(""), None),
        })
    }
}

/// A parameter list [`Params::scan`] checked: its text as written.
pub(crate) struct ParamsText<'a> {
    text: &'a str,
    /// Where `text` starts in the text that was scanned.
    at: usize,
    spaced: bool,
}

impl<'a> ParamsText<'a> {
    /// The list a scan found at `text[at..to]`, spaced as it said, found again.
    pub(crate) fn again(text: &'a str, (at, to): (usize, usize), spaced: bool) -> Option<Self> {
        Some(ParamsText {
            text: text.get(at..to)?,
            at,
            spaced,
        })
    }
    /// Where the list is in the text that was scanned, and whether it has white space to
    /// normalize: what [`ParamsText::again`] needs.
    pub(crate) fn span(&self) -> ((usize, usize), bool) {
        ((self.at, self.at + self.text.len()), self.spaced)
    }

    /// The list kept, with the white space SWS allows around ';' and '=' normalized away
    /// (quoted values untouched).
    pub(crate) fn into_params(self) -> Params {
        let text = self.text;
        if !self.spaced && !text.bytes().any(crate::text::is_ws) {
            return Params(text.into());
        }
        let mut out = String::with_capacity(text.len());
        let mut in_q = false;
        let mut esc = false;
        for ch in text.chars() {
            if in_q {
                out.push(ch);
                if esc {
                    esc = false;
                } else if ch == '\\' {
                    esc = true;
                } else if ch == '"' {
                    in_q = false;
                }
            } else if ch == '"' {
                in_q = true;
                out.push(ch);
            } else if !matches!(ch, ' ' | '\t' | '\r' | '\n') {
                out.push(ch);
            }
        }
        Params(out.into())
    }
}

impl Params {
    pub fn new() -> Self {
        Params(Box::from(""))
    }

    /// Parses `*( SEMI generic-param )` at the cursor; stops at the first character that cannot
    /// continue the list (the caller decides whether that is an error).
    pub(crate) fn parse(c: &mut Cursor<'_>) -> Result<Params, &'static str> {
        Params::scan(c, |_, _| {}).map(ParamsText::into_params)
    }

    /// Checks `*( SEMI generic-param )` at the cursor like [`Params::parse`], without building
    /// anything. `seen` gets each parameter's name and the range of its value in the cursor's
    /// text (quotes included), in order: the same pairs [`Params::iter`] would give.
    pub(crate) fn scan<'a>(
        c: &mut Cursor<'a>,
        mut seen: impl FnMut(&'a str, Option<(usize, usize)>),
    ) -> Result<ParamsText<'a>, &'static str> {
        let begin = c.pos;
        let mut spaced = false;
        while c.eat_sep(b';') {
            let name = c.token().ok_or("empty parameter")?;
            let before = c.pos;
            let mut value = None;
            if c.eat_sep(b'=') {
                spaced |= c.pos - before > 1;
                let start = c.pos;
                if c.peek() == Some(b'"') {
                    c.quoted().ok_or("unterminated quoted parameter")?;
                } else if c.take_while(crate::text::is_param_value).is_empty() {
                    return Err("empty parameter value");
                }
                value = Some((start, c.pos));
            }
            seen(name, value);
        }
        Ok(ParamsText {
            text: c.s.get(begin..c.pos).unwrap_or(""),
            at: begin,
            spaced,
        })
    }

    /// The parameters as written: `;name=value` for each, or empty.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn iter(&self) -> impl Iterator<Item = (&str, Option<&str>)> {
        Iter { s: &self.0, pos: 0 }
    }
    /// The raw value of a parameter by case-insensitive name; `Some(None)` for a flag.
    pub fn get(&self, name: &str) -> Option<Option<&str>> {
        self.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
    /// The value with quotes removed.
    pub fn get_unquoted(&self, name: &str) -> Option<Cow<'_, str>> {
        self.get(name).flatten().map(unquote)
    }
    pub fn contains(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
    /// Sets (replacing in place) a parameter; `value` is written as given (quote it yourself).
    pub fn set(&mut self, name: &str, value: Option<&str>) {
        let mut out =
            String::with_capacity(self.0.len() + name.len() + value.map_or(0, str::len) + 2);
        let mut done = false;
        for (n, v) in self.iter() {
            out.push(';');
            if !done && n.eq_ignore_ascii_case(name) {
                done = true;
                out.push_str(name);
                if let Some(v) = value {
                    out.push('=');
                    out.push_str(v);
                }
            } else {
                out.push_str(n);
                if let Some(v) = v {
                    out.push('=');
                    out.push_str(v);
                }
            }
        }
        if !done {
            out.push(';');
            out.push_str(name);
            if let Some(v) = value {
                out.push('=');
                out.push_str(v);
            }
        }
        self.0 = out.into();
    }
    pub fn remove(&mut self, name: &str) {
        let mut out = String::with_capacity(self.0.len());
        for (n, v) in self.iter().filter(|(n, _)| !n.eq_ignore_ascii_case(name)) {
            out.push(';');
            out.push_str(n);
            if let Some(v) = v {
                out.push('=');
                out.push_str(v);
            }
        }
        self.0 = out.into();
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for Params {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Params {
        let mut c = Cursor::new(s);
        Params::parse(&mut c).unwrap()
    }

    #[test]
    fn normalizes_and_reads() {
        let x = p(" ; tag = 98asjd8 ;lr; q=0.33;text=\"a; b = c\"");
        assert_eq!(x.to_string(), ";tag=98asjd8;lr;q=0.33;text=\"a; b = c\"");
        assert_eq!(x.get("TAG"), Some(Some("98asjd8")));
        assert_eq!(x.get("lr"), Some(None));
        assert_eq!(x.get_unquoted("text").as_deref(), Some("a; b = c"));
        let mut y = x.clone();
        y.set("tag", Some("new"));
        y.remove("lr");
        assert_eq!(y.to_string(), ";tag=new;q=0.33;text=\"a; b = c\"");
        y.set("received", Some("[2001:db8::1]"));
        assert_eq!(y.get("received"), Some(Some("[2001:db8::1]")));
    }
}
