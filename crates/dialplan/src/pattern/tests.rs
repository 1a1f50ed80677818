//! Parsing: accepted syntax, and rejected patterns with messages that name the bad character.

use super::*;

fn err(p: &str) -> PatternError {
    match Pattern::parse(p) {
        Ok(_) => panic!("{p:?} should be rejected"),
        Err(e) => e,
    }
}

#[test]
fn accepts_the_cucm_syntax() {
    for p in [
        "2000",
        "9.XXXX",
        "9.1[2-9]XX[2-9]XXXXXX",
        "9.011!",
        "9.011!#",
        r"\+1!",
        r"\+.1!",
        "[^0]XX",
        "[129]",
        "[0-35-9]X",
        "*69",
        "#",
        "X?",
        "1+",
        "[1-3]+#",
        r"\++1",
        "XX.",
        ".2XXX",
        r"9.\+!",
    ] {
        let parsed = Pattern::parse(p).unwrap_or_else(|e| panic!("{p}: {e}"));
        assert_eq!(parsed.as_str(), p);
        assert_eq!(parsed.to_string(), p);
    }
}

#[test]
fn literal_patterns() {
    assert!(Pattern::parse("2000").unwrap().is_literal());
    assert!(Pattern::parse("9.1000").unwrap().is_literal());
    assert!(Pattern::parse(r"\+14085551234").unwrap().is_literal());
    assert!(Pattern::parse("[5]00").unwrap().is_literal());
    assert!(Pattern::parse("*69#").unwrap().is_literal());
    for p in ["2XXX", "2!", "20?", "2+", "[56]00", "[^0]"] {
        assert!(!Pattern::parse(p).unwrap().is_literal(), "{p}");
    }
    let (digits, m) = Pattern::parse("9.1000").unwrap().literal_digits().unwrap();
    assert_eq!((digits.as_str(), m.predot), ("91000", 1));
    assert_eq!(
        Pattern::parse("[5]00").unwrap().literal_digits().unwrap().0,
        "500"
    );
}

#[test]
fn invalid_character_is_named_with_its_position() {
    let e = err("9.@");
    assert_eq!(
        (e.kind, e.position, e.character),
        (PatternErrorKind::InvalidCharacter, 2, Some('@'))
    );
    assert_eq!(
        e.to_string(),
        r#"invalid character '@' at position 2 in pattern "9.@""#
    );
    assert_eq!(err("2xxx").character, Some('x'), "X is upper case");
    assert_eq!(err("20 00").character, Some(' '));
    assert_eq!(err("]").kind, PatternErrorKind::InvalidCharacter);
    assert_eq!(err("[1[2]]").position, 2);
    assert_eq!(err("[X]").character, Some('X'));
    assert_eq!(err("[*]").character, Some('*'), "brackets hold digits only");
    let e = err(r"\9");
    assert_eq!((e.position, e.character), (0, Some('\\')));
    assert!(e.to_string().contains(r"only \+ may be escaped"), "{e}");
    assert_eq!(err("9\\").kind, PatternErrorKind::InvalidCharacter);
    assert_eq!(
        err("9é").position,
        1,
        "positions count characters, not bytes"
    );
}

#[test]
fn unclosed_bracket() {
    let e = err("[5-");
    assert_eq!(
        (e.kind, e.position, e.character),
        (PatternErrorKind::UnclosedBracket, 0, Some('['))
    );
    assert_eq!(
        e.to_string(),
        r#"unclosed '[' at position 0 in pattern "[5-""#
    );
    assert_eq!(err("9[12").kind, PatternErrorKind::UnclosedBracket);
    assert_eq!(err("9[12").position, 1);
    assert_eq!(err("[^").kind, PatternErrorKind::UnclosedBracket);
}

#[test]
fn bad_and_empty_ranges() {
    let e = err("[9-1]");
    assert_eq!(
        (e.kind, e.position, e.character),
        (PatternErrorKind::BadRange, 3, Some('1'))
    );
    assert_eq!(
        e.to_string(),
        r#"bad range: '1' at position 3 in pattern "[9-1]" is below the start of its range"#
    );
    let e = err("[5-]");
    assert_eq!(
        (e.kind, e.character),
        (PatternErrorKind::BadRange, Some('-'))
    );
    assert!(e.to_string().contains("'-' at position 2"), "{e}");
    assert_eq!(err("[-5]").kind, PatternErrorKind::BadRange);
    assert_eq!(err("[1-X]").kind, PatternErrorKind::BadRange);
    assert_eq!(err("[]").kind, PatternErrorKind::EmptyRange);
    assert_eq!(err("[^]").kind, PatternErrorKind::EmptyRange);
    let e = err("1[^0-9]");
    assert_eq!((e.kind, e.position), (PatternErrorKind::EmptyRange, 1));
    assert!(
        e.to_string().contains("empty digit range at position 1"),
        "{e}"
    );
}

#[test]
fn dangling_repeats() {
    let e = err("?");
    assert_eq!(
        (e.kind, e.position, e.character),
        (PatternErrorKind::DanglingRepeat, 0, Some('?'))
    );
    assert!(e.to_string().starts_with("'?' at position 0"), "{e}");
    let e = err("+14085551234");
    assert_eq!(e.kind, PatternErrorKind::DanglingRepeat);
    assert!(
        e.to_string().contains(r"write \+ for a literal plus"),
        "{e}"
    );
    assert_eq!(err("1??").position, 2, "a repeat cannot be repeated");
    assert_eq!(err("1?+").position, 2);
    assert_eq!(err("!?").position, 1, "! already repeats");
    assert_eq!(err("9.?").position, 2, "nothing after the dot to repeat");
}

#[test]
fn multiple_dots_empty_and_too_long() {
    let e = err("..");
    assert_eq!(
        (e.kind, e.position, e.character),
        (PatternErrorKind::MultipleDots, 1, Some('.'))
    );
    assert!(e.to_string().contains("second '.' at position 1"), "{e}");
    assert_eq!(err("9.1.1").position, 3);
    assert_eq!(err("").kind, PatternErrorKind::Empty);
    assert_eq!(err("").character, None);
    assert_eq!(err(".").kind, PatternErrorKind::Empty);
    assert!(Pattern::parse(&"X".repeat(MAX_PATTERN_LEN)).is_ok());
    let e = err(&"X".repeat(MAX_PATTERN_LEN + 1));
    assert_eq!((e.kind, e.position), (PatternErrorKind::TooLong, 64));
    assert!(e.to_string().contains("65 characters long"), "{e}");
}

#[test]
fn serde_uses_the_text() {
    let p = Pattern::parse("9.XXXX").unwrap();
    assert_eq!(serde_json::to_string(&p).unwrap(), r#""9.XXXX""#);
    let back: Pattern = serde_json::from_str(r#""9.XXXX""#).unwrap();
    assert_eq!(back, p);
    let bad = serde_json::from_str::<Pattern>(r#""9.@""#).unwrap_err();
    assert!(bad.to_string().contains("'@'"), "{bad}");
}
