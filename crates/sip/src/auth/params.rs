//! The auth-param list grammar shared by challenges and credentials (RFC 3261 §25.1, §22):
//! `scheme LWS name EQUAL (token / quoted-string) *(COMMA name EQUAL value)`.
//!
//! Parsing is lenient (LWS and line folds around `=` and `,`, empty list elements, any name
//! case, unquoted values where a quoted string is due, quoted values where a token is due) but
//! never panics and never guesses: a duplicate name, a missing `=`, an unterminated quoted
//! string or a bare CR/LF is [`AuthError::Malformed`]. This file must not interpret parameter
//! meanings; that is [`super::challenge`]'s and [`super::credentials`]'s job.

use super::AuthError;

/// One `name=value` auth-param. `value` is unescaped (no surrounding quotes, no backslashes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthParam {
    /// The parameter name as received (compare case-insensitively).
    pub name: String,
    /// The unescaped value.
    pub value: String,
    /// Whether the value was (or, for an unknown parameter, should be) sent as a quoted string.
    pub quoted: bool,
}

impl AuthParam {
    /// A parameter that will be serialized as a quoted string.
    pub fn quoted(name: impl Into<String>, value: impl Into<String>) -> Self {
        AuthParam {
            name: name.into(),
            value: value.into(),
            quoted: true,
        }
    }

    /// A parameter that will be serialized as a token (quoted anyway if it is not a token).
    pub fn token(name: impl Into<String>, value: impl Into<String>) -> Self {
        AuthParam {
            name: name.into(),
            value: value.into(),
            quoted: false,
        }
    }
}

/// A parsed header value: the scheme as received and its parameters in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuth {
    /// The auth scheme, e.g. `Digest` (as received; compare case-insensitively).
    pub scheme: String,
    /// The parameters in the order received.
    pub params: Vec<AuthParam>,
}

impl ParsedAuth {
    /// The value of the parameter named `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|p| p.name.eq_ignore_ascii_case(name))
            .map(|p| p.value.as_str())
    }
}

/// RFC 3261 `token` characters.
pub fn is_token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-.!%*_+`'~".contains(c)
}

/// True if `s` is a non-empty RFC 3261 token.
pub fn is_token(s: &str) -> bool {
    !s.is_empty() && s.chars().all(is_token_char)
}

/// Characters accepted in an unquoted value: tokens, plus what real peers put there unquoted
/// (`/`, `=`, `:`, `@`, base64, non-ASCII). Never whitespace, controls, `"` or `,`.
fn is_lenient_value_char(c: char) -> bool {
    !(c.is_whitespace() || c.is_control() || c == '"' || c == ',')
}

struct Cursor<'a> {
    rest: &'a str,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<char> {
        self.rest.chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let mut it = self.rest.chars();
        let c = it.next()?;
        self.rest = it.as_str();
        Some(c)
    }

    /// Skips SP, HTAB and line folds (CRLF or LF followed by SP/HTAB). Returns whether any
    /// whitespace was skipped.
    fn skip_lws(&mut self) -> bool {
        let start = self.rest.len();
        loop {
            let r = self.rest;
            if let Some(after) = r.strip_prefix([' ', '\t']) {
                self.rest = after;
            } else if let Some(after) = r.strip_prefix("\r\n").or_else(|| r.strip_prefix('\n')) {
                if after.starts_with([' ', '\t']) {
                    self.rest = after;
                } else {
                    break;
                }
            } else {
                break;
            }
        }
        self.rest.len() != start
    }

    fn take_while(&mut self, pred: impl Fn(char) -> bool) -> &'a str {
        let end = self
            .rest
            .char_indices()
            .find(|&(_, c)| !pred(c))
            .map_or(self.rest.len(), |(i, _)| i);
        let (head, tail) = self.rest.split_at_checked(end).unwrap_or((self.rest, ""));
        self.rest = tail;
        head
    }

    /// Parses a quoted string; the opening `"` is the next character.
    fn quoted_string(&mut self) -> Result<String, AuthError> {
        self.bump(); // the opening quote
        let mut out = String::new();
        loop {
            match self.bump() {
                None => {
                    return Err(AuthError::Malformed {
                        reason: "unterminated quoted string",
                    })
                }
                Some('"') => return Ok(out),
                Some('\\') => match self.bump() {
                    Some(c) if c != '\r' && c != '\n' => out.push(c),
                    _ => {
                        return Err(AuthError::Malformed {
                            reason: "bad escape in quoted string",
                        })
                    }
                },
                Some('\r') | Some('\n') => {
                    // Only a line fold (CRLF + WSP) is allowed; it stands for one space.
                    if self.rest.starts_with('\n') {
                        self.bump();
                    }
                    if self.skip_lws_after_fold() {
                        out.push(' ');
                    } else {
                        return Err(AuthError::Malformed {
                            reason: "line break in quoted string",
                        });
                    }
                }
                Some(c) if c.is_ascii_control() && c != '\t' => {
                    return Err(AuthError::Malformed {
                        reason: "control character in quoted string",
                    })
                }
                Some(c) => out.push(c),
            }
        }
    }

    fn skip_lws_after_fold(&mut self) -> bool {
        let start = self.rest.len();
        self.rest = self.rest.trim_start_matches([' ', '\t']);
        self.rest.len() != start
    }
}

fn malformed(reason: &'static str) -> AuthError {
    AuthError::Malformed { reason }
}

/// Parses a `Digest` header value into its parameters. Any other scheme is
/// [`AuthError::UnsupportedScheme`] whatever follows it (a token68 such as `Basic`'s or
/// `Bearer`'s is not an auth-param list). Never panics.
pub fn parse_digest(input: &str) -> Result<Vec<AuthParam>, AuthError> {
    let mut cur = Cursor { rest: input };
    cur.skip_lws();
    let scheme = cur.take_while(is_token_char);
    if scheme.is_empty() {
        return Err(malformed("missing auth scheme"));
    }
    if !scheme.eq_ignore_ascii_case("Digest") {
        return Err(AuthError::UnsupportedScheme {
            scheme: scheme.to_owned(),
        });
    }
    parse(input).map(|p| p.params)
}

/// Parses `scheme [LWS param *(COMMA param)]`. Any scheme is accepted here; checking that it
/// is `Digest` is the caller's job. Never panics.
pub fn parse(input: &str) -> Result<ParsedAuth, AuthError> {
    let mut cur = Cursor { rest: input };
    cur.skip_lws();
    let scheme = cur.take_while(is_token_char);
    if scheme.is_empty() {
        return Err(malformed("missing auth scheme"));
    }
    let mut parsed = ParsedAuth {
        scheme: scheme.to_owned(),
        params: Vec::new(),
    };
    let had_space = cur.skip_lws();
    if cur.peek().is_none() {
        return Ok(parsed);
    }
    if !had_space {
        return Err(malformed("auth scheme not followed by whitespace"));
    }
    loop {
        cur.skip_lws();
        match cur.peek() {
            None => break,
            Some(',') => {
                cur.bump();
                continue;
            }
            Some(_) => {}
        }
        let name = cur.take_while(is_token_char);
        if name.is_empty() {
            return Err(malformed("expected a parameter name"));
        }
        cur.skip_lws();
        if cur.bump() != Some('=') {
            return Err(malformed("expected `=` after parameter name"));
        }
        cur.skip_lws();
        let (value, quoted) = if cur.peek() == Some('"') {
            (cur.quoted_string()?, true)
        } else {
            let v = cur.take_while(is_lenient_value_char);
            if v.is_empty() {
                return Err(malformed("empty parameter value"));
            }
            (v.to_owned(), false)
        };
        if parsed
            .params
            .iter()
            .any(|p| p.name.eq_ignore_ascii_case(name))
        {
            return Err(malformed("duplicate parameter"));
        }
        parsed.params.push(AuthParam {
            name: name.to_owned(),
            value,
            quoted,
        });
        cur.skip_lws();
        match cur.bump() {
            None => break,
            Some(',') => {}
            Some(_) => return Err(malformed("expected `,` between parameters")),
        }
    }
    Ok(parsed)
}

/// Appends `value` as a quoted string. `"` and `\` are escaped, other controls are escaped as
/// quoted-pairs; CR and LF cannot be carried by a quoted string (and would let a value inject
/// a header), so each becomes a space.
pub fn write_quoted(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '\r' | '\n' => out.push(' '),
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_ascii_control() && c != '\t' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Appends `, name=value` (or `name=value` for the first parameter after the scheme).
/// Unquoted values that are not tokens are quoted; parameters whose name is not a token are
/// skipped, as they cannot be written without breaking the grammar.
pub fn write_param(out: &mut String, first: &mut bool, name: &str, value: &str, quoted: bool) {
    if !is_token(name) {
        return;
    }
    out.push_str(if *first { " " } else { ", " });
    *first = false;
    out.push_str(name);
    out.push('=');
    if quoted || !is_token(value) {
        write_quoted(out, value);
    } else {
        out.push_str(value);
    }
}

/// Serializes `scheme` and `params` (the inverse of [`parse`]).
pub fn serialize(scheme: &str, params: &[AuthParam]) -> String {
    let mut out = String::from(scheme);
    let mut first = true;
    for p in params {
        write_param(&mut out, &mut first, &p.name, &p.value, p.quoted);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_odd_but_legal_forms() {
        let p = parse(
            "  digest realm = \"a\\\"b\\\\c\" ,\r\n  nonce=abc,, ,unknown-x=\"y, z\"\t,\tstale=TRUE",
        )
        .expect("parses");
        assert_eq!(p.scheme, "digest");
        assert_eq!(p.get("REALM"), Some("a\"b\\c"));
        assert_eq!(p.get("nonce"), Some("abc"));
        assert_eq!(p.get("unknown-x"), Some("y, z"));
        assert_eq!(p.get("stale"), Some("TRUE"));
        assert_eq!(p.params.len(), 4);
    }

    #[test]
    fn other_schemes_are_refused_before_their_body_is_read() {
        for (value, scheme) in [
            ("Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", "Basic"),
            ("Bearer abc.def", "Bearer"),
            (
                "NoOneKnowsThisScheme opaque-data=here",
                "NoOneKnowsThisScheme",
            ),
            ("Digestive realm=x", "Digestive"),
        ] {
            assert_eq!(
                parse_digest(value),
                Err(AuthError::UnsupportedScheme {
                    scheme: scheme.into()
                })
            );
        }
        assert!(parse_digest("DIGEST realm=x").is_ok());
    }

    #[test]
    fn folded_quoted_string_is_one_space() {
        let p = parse("Digest realm=\"a\r\n b\"").expect("parses");
        assert_eq!(p.get("realm"), Some("a b"));
    }

    #[test]
    fn rejects_broken_forms() {
        for bad in [
            "",
            "   ",
            "Digest realm",
            "Digest realm=",
            "Digest realm=\"abc",
            "Digest realm=\"a\rb\"",
            "Digest realm=a nonce=b",
            "Digest realm=a, realm=b",
            "Digest realm=a, Realm=b",
            "Digest,realm=a",
            "Digest =a",
            "Digest realm=\"a\\",
            "Digest realm=a\r\nnonce=b",
        ] {
            assert!(
                matches!(parse(bad), Err(AuthError::Malformed { .. })),
                "{bad:?} should be malformed, got {:?}",
                parse(bad)
            );
        }
    }

    #[test]
    fn serialize_escapes_and_neutralizes_crlf() {
        let s = serialize(
            "Digest",
            &[
                AuthParam::quoted("realm", "a\"b\\c\r\nX-Evil: 1"),
                AuthParam::token("algorithm", "MD5"),
                AuthParam::token("odd", "not a token"),
                AuthParam::token("bad name", "x"),
            ],
        );
        assert_eq!(
            s,
            "Digest realm=\"a\\\"b\\\\c  X-Evil: 1\", algorithm=MD5, odd=\"not a token\""
        );
    }

    fn token_strategy() -> impl Strategy<Value = String> {
        "[A-Za-z0-9!%*_+`'~.-]{1,12}"
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC*") {
            let _ = parse(&s);
            let _ = parse_digest(&s);
        }

        #[test]
        fn parse_never_panics_on_grammar_soup(s in "[A-Za-z =,\"\\\\\r\n\t\\x00é]{0,64}") {
            let _ = parse(&s);
        }

        #[test]
        fn serialize_parse_round_trips(
            params in proptest::collection::vec(
                (token_strategy(), "[^\r\n]{0,16}", any::<bool>()), 0..8)
        ) {
            let mut seen = std::collections::HashSet::new();
            let params: Vec<AuthParam> = params
                .into_iter()
                .filter(|(n, _, _)| seen.insert(n.to_ascii_lowercase()))
                // An empty value can only be written quoted.
                .map(|(name, value, quoted)| AuthParam { quoted: quoted || !is_token(&value), name, value })
                .collect();
            let text = serialize("Digest", &params);
            let back = parse(&text).map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?;
            prop_assert_eq!(back.scheme, "Digest");
            prop_assert_eq!(back.params, params);
        }
    }
}
