//! Byte-level grammar helpers shared by the message, URI and header parsers.
//!
//! This room knows the RFC 3261 §25 character classes and the small productions every header uses
//! (LWS, tokens, quoted strings, comma lists, generic parameters). It must not know any header's
//! meaning and must never panic on input: every index is checked.

use std::borrow::Cow;

const fn class_table(extra: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric();
        c += 1;
    }
    let mut i = 0;
    while i < extra.len() {
        t[extra[i] as usize] = true;
        i += 1;
    }
    t
}

static TOKEN: [bool; 256] = class_table(b"-.!%*_+`'~");
static WORD: [bool; 256] = class_table(b"-.!%*_+`'~()<>:\\\"/[]?{}");
/// A generic-param value that is not quoted: token, host (IPv6 references included).
static PARAM_VALUE: [bool; 256] = class_table(b"-.!%*_+`'~:[]");
/// A Via sent-by host that is not an IPv6 reference.
static VIA_HOST: [bool; 256] = class_table(b"-._");

/// RFC 3261 `token` characters.
#[inline]
pub(crate) fn is_token(c: u8) -> bool {
    TOKEN[c as usize]
}

/// RFC 3261 `word` characters (Call-ID).
#[inline]
pub(crate) fn is_word(c: u8) -> bool {
    WORD[c as usize]
}

/// Characters of an unquoted generic-param value.
#[inline]
pub(crate) fn is_param_value(c: u8) -> bool {
    PARAM_VALUE[c as usize]
}

/// Characters of a Via host name or IPv4 address.
#[inline]
pub(crate) fn is_via_host(c: u8) -> bool {
    VIA_HOST[c as usize]
}

#[inline]
pub(crate) fn is_ws(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\n')
}

/// Replaces header folding (CRLF followed by white space) by plain white space, borrowing when
/// the value is not folded (the common case).
#[inline]
pub(crate) fn unfold(value: &str) -> Cow<'_, str> {
    if find_byte(value.as_bytes(), b'\n').is_none() {
        return Cow::Borrowed(value);
    }
    Cow::Owned(value.replace("\r\n", " ").replace('\n', " "))
}

pub(crate) fn is_token_str(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_token)
}

/// Splits a header value at commas that are outside quoted strings and angle brackets.
/// Empty elements are kept so callers can reject `a,,b`.
pub(crate) fn split_commas(value: &str) -> CommaSplit<'_> {
    CommaSplit {
        s: value,
        pos: 0,
        done: false,
    }
}

pub(crate) struct CommaSplit<'a> {
    s: &'a str,
    pos: usize,
    done: bool,
}

impl<'a> Iterator for CommaSplit<'a> {
    type Item = &'a str;
    fn next(&mut self) -> Option<&'a str> {
        if self.done {
            return None;
        }
        let bytes = self.s.as_bytes();
        let start = self.pos;
        let mut i = start;
        let mut in_quotes = false;
        let mut in_angle = false;
        loop {
            // Jump to the next byte that matters in the current state.
            let rest = bytes.get(i..).unwrap_or(&[]);
            let next = if in_quotes {
                memchr::memchr2(b'\\', b'"', rest)
            } else if in_angle {
                memchr::memchr2(b'"', b'>', rest)
            } else {
                memchr::memchr3(b',', b'"', b'<', rest)
            };
            let Some(at) = next else {
                break;
            };
            i += at;
            match bytes[i] {
                // Only looked for inside quotes: the next byte is escaped.
                b'\\' => i += 1,
                b'"' => in_quotes = !in_quotes,
                b'<' => in_angle = true,
                b'>' => in_angle = false,
                // Only looked for outside quotes and angle brackets.
                _ => {
                    self.pos = i + 1;
                    return self.s.get(start..i);
                }
            }
            i += 1;
        }
        self.done = true;
        self.s.get(start..)
    }
}

/// A forward-only cursor over one header value.
pub(crate) struct Cursor<'a> {
    pub(crate) s: &'a str,
    pub(crate) pos: usize,
}

impl<'a> Cursor<'a> {
    #[inline]
    pub(crate) fn new(s: &'a str) -> Self {
        Cursor { s, pos: 0 }
    }
    #[inline]
    pub(crate) fn peek(&self) -> Option<u8> {
        self.s.as_bytes().get(self.pos).copied()
    }
    #[inline]
    pub(crate) fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }
    #[inline]
    pub(crate) fn rest(&self) -> &'a str {
        self.s.get(self.pos..).unwrap_or("")
    }
    /// Skips linear white space (folding included). Returns whether any was skipped.
    #[inline]
    pub(crate) fn skip_ws(&mut self) -> bool {
        let rest = self.s.as_bytes().get(self.pos..).unwrap_or(&[]);
        let n = rest.iter().position(|&b| !is_ws(b)).unwrap_or(rest.len());
        self.pos += n;
        n > 0
    }
    #[inline]
    pub(crate) fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }
    /// `SWS c SWS`: the separators of RFC 3261 §25.1.
    #[inline]
    pub(crate) fn eat_sep(&mut self, c: u8) -> bool {
        let save = self.pos;
        self.skip_ws();
        if self.eat(c) {
            self.skip_ws();
            true
        } else {
            self.pos = save;
            false
        }
    }
    #[inline]
    pub(crate) fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a str {
        let start = self.pos;
        let rest = self.s.as_bytes().get(start..).unwrap_or(&[]);
        self.pos = start + rest.iter().position(|&b| !f(b)).unwrap_or(rest.len());
        // Only ASCII predicates are used, so the boundaries are char boundaries; `get` keeps
        // this panic-free even if a predicate ever accepted a UTF-8 continuation byte.
        self.s.get(start..self.pos).unwrap_or("")
    }
    #[inline]
    pub(crate) fn token(&mut self) -> Option<&'a str> {
        let t = self.take_while(is_token);
        (!t.is_empty()).then_some(t)
    }
    /// A quoted string, returned with its quotes, escapes untouched.
    pub(crate) fn quoted(&mut self) -> Option<&'a str> {
        let bytes = self.s.as_bytes();
        let start = self.pos;
        if bytes.get(start) != Some(&b'"') {
            return None;
        }
        let mut i = start + 1;
        while i < bytes.len() {
            match bytes[i] {
                b'\\' => i += 2,
                b'"' => {
                    self.pos = i + 1;
                    return self.s.get(start..=i);
                }
                _ => i += 1,
            }
        }
        None
    }
}

/// One header field of a raw header section: its name (trimmed) and its whole text from the
/// start of the name to the end of its last continuation line (CR/LF inside, final CRLF not).
pub(crate) struct RawHeaderLine<'a> {
    pub(crate) name: &'a [u8],
    pub(crate) raw: &'a [u8],
    /// Offset in `raw` of the first byte after the colon.
    pub(crate) value_start: usize,
}

/// Walks the header lines of a raw header section (start line first, which is skipped), joining
/// continuation lines to their header and skipping lines without a colon. Used where a message
/// cannot be parsed whole: stream framing and error responses to broken requests.
pub(crate) fn raw_header_lines(head: &[u8]) -> impl Iterator<Item = RawHeaderLine<'_>> {
    let mut pos = memchr::memchr(b'\n', head).map_or(head.len(), |i| i + 1);
    std::iter::from_fn(move || loop {
        if pos >= head.len() {
            return None;
        }
        let start = pos;
        let line_end = memchr::memchr(b'\n', &head[pos..]).map_or(head.len(), |i| pos + i);
        let mut end = line_end;
        pos = line_end + 1;
        // Absorb continuation lines.
        while pos < head.len() && matches!(head[pos], b' ' | b'\t') {
            end = memchr::memchr(b'\n', &head[pos..]).map_or(head.len(), |i| pos + i);
            pos = end + 1;
        }
        let raw = &head[start..end];
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if raw.is_empty() || matches!(raw[0], b' ' | b'\t') {
            continue;
        }
        let Some(colon) = memchr::memchr(b':', raw) else {
            continue;
        };
        let name = raw[..colon].trim_ascii();
        return Some(RawHeaderLine {
            name,
            raw,
            value_start: colon + 1,
        });
    })
}

/// Removes the quotes and backslash escapes of a quoted string; other text is returned as is.
pub fn unquote(s: &str) -> Cow<'_, str> {
    let Some(inner) = s.strip_prefix('"').and_then(|x| x.strip_suffix('"')) else {
        return Cow::Borrowed(s);
    };
    if !inner.contains('\\') {
        return Cow::Borrowed(inner);
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Quotes a string for use as a quoted-string, escaping `"` and `\`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Decodes `%HH` escapes once (never recursively). Invalid escapes are kept literally.
pub fn percent_decode(s: &str) -> Cow<'_, [u8]> {
    if !s.contains('%') {
        return Cow::Borrowed(s.as_bytes());
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if let (Some(h), Some(l)) = (
                b.get(i + 1).and_then(|c| hex_val(*c)),
                b.get(i + 2).and_then(|c| hex_val(*c)),
            ) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    Cow::Owned(out)
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// Parses an unsigned decimal that must fit in `u32` (leading zeros allowed).
pub(crate) fn parse_u32(s: &str) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for &c in s.as_bytes() {
        let d = c.wrapping_sub(b'0');
        if d > 9 {
            return None;
        }
        // Stays below 2^64: v <= u32::MAX before each step.
        v = v * 10 + u64::from(d);
        if v > u64::from(u32::MAX) {
            return None;
        }
    }
    u32::try_from(v).ok()
}

/// The first `c` in `hay`: a plain loop for the short texts most searches here cover, where
/// setting up a vector search costs more than it saves.
#[inline]
pub(crate) fn find_byte(hay: &[u8], c: u8) -> Option<usize> {
    if hay.len() <= 24 {
        hay.iter().position(|&b| b == c)
    } else {
        memchr::memchr(c, hay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commas_respect_quotes_and_brackets() {
        let v: Vec<_> = split_commas(r#""a,b" <sip:x@y;p=1,2>, <sip:z>,"#).collect();
        assert_eq!(v, vec![r#""a,b" <sip:x@y;p=1,2>"#, " <sip:z>", ""]);
    }

    /// The byte-at-a-time statement of what `split_commas` does.
    fn split_commas_oracle(s: &str) -> Vec<&str> {
        let b = s.as_bytes();
        let (mut out, mut start, mut i) = (Vec::new(), 0, 0);
        let (mut in_quotes, mut in_angle) = (false, false);
        while i < b.len() {
            match b[i] {
                b'\\' if in_quotes => i += 1,
                b'"' => in_quotes = !in_quotes,
                b'<' if !in_quotes => in_angle = true,
                b'>' if !in_quotes => in_angle = false,
                b',' if !in_quotes && !in_angle => {
                    out.push(&s[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
            i += 1;
        }
        out.push(&s[start..]);
        out
    }

    proptest::proptest! {
        #[test]
        fn split_commas_matches_its_statement(s in "[a,<>\"\\\\ ;é]{0,24}") {
            let got: Vec<_> = split_commas(&s).collect();
            proptest::prop_assert_eq!(got, split_commas_oracle(&s));
        }
    }

    #[test]
    fn class_tables_match_their_grammar() {
        for c in 0..=255u8 {
            assert_eq!(
                is_param_value(c),
                is_token(c) || matches!(c, b':' | b'[' | b']')
            );
            assert_eq!(
                is_via_host(c),
                c.is_ascii_alphanumeric() || c == b'-' || c == b'.' || c == b'_'
            );
        }
    }

    #[test]
    fn find_byte_short_and_long() {
        for len in [0, 1, 23, 24, 25, 100] {
            let mut hay = vec![b'a'; len];
            assert_eq!(find_byte(&hay, b'@'), None);
            if len > 0 {
                hay[len - 1] = b'@';
                assert_eq!(find_byte(&hay, b'@'), Some(len - 1));
                hay[0] = b'@';
                assert_eq!(find_byte(&hay, b'@'), Some(0));
            }
        }
    }

    #[test]
    fn unquote_handles_escapes() {
        assert_eq!(unquote(r#""J Rosenberg \\\"""#), r#"J Rosenberg \""#);
        assert_eq!(unquote("plain"), "plain");
        assert_eq!(quote(r#"a"b\"#), r#""a\"b\\""#);
    }

    #[test]
    fn percent_decode_is_single_pass() {
        assert_eq!(&*percent_decode("v%61lue%25%34%31"), b"value%41");
        assert_eq!(&*percent_decode("null-%00-null"), b"null-\0-null");
        assert_eq!(&*percent_decode("%ZK%4"), b"%ZK%4");
    }

    #[test]
    fn raw_lines_join_continuations() {
        let head = b"INVITE x SIP/2.0\r\nVia: a\r\n  b\r\nbogus\r\nl : 5\r\n\r\n";
        let v: Vec<_> = raw_header_lines(head)
            .map(|h| (h.name, h.raw, &h.raw[h.value_start..]))
            .collect();
        assert_eq!(
            v[0],
            (&b"Via"[..], &b"Via: a\r\n  b"[..], &b" a\r\n  b"[..])
        );
        assert_eq!(v[1], (&b"l"[..], &b"l : 5"[..], &b" 5"[..]));
        assert_eq!(v.len(), 2);
    }

    #[test]
    fn u32_bounds() {
        assert_eq!(parse_u32("0009"), Some(9));
        assert_eq!(parse_u32("4294967295"), Some(u32::MAX));
        assert_eq!(parse_u32("4294967296"), None);
        assert_eq!(parse_u32("-1"), None);
        assert_eq!(parse_u32("000000000000000001"), Some(1));
        assert_eq!(parse_u32("0000000000004294967295"), Some(u32::MAX));
        assert_eq!(parse_u32("99999999999999999999999"), None);
        assert_eq!(parse_u32(""), None);
        assert_eq!(parse_u32("0"), Some(0));
        assert_eq!(parse_u32("00"), Some(0));
        assert_eq!(parse_u32("1 "), None);
        assert_eq!(parse_u32("+1"), None);
        assert_eq!(parse_u32("\u{661}"), None);
    }
}
