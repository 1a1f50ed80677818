//! The sixteen DTMF keys and the hook flash: their RFC 4733 event codes, their characters and their
//! ITU-T Q.23 frequency pairs. Every other DTMF room speaks in these types.

use std::fmt;

/// One of the sixteen DTMF keys (RFC 4733 event codes 0–15).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Digit {
    Zero,
    One,
    Two,
    Three,
    Four,
    Five,
    Six,
    Seven,
    Eight,
    Nine,
    Star,
    Pound,
    A,
    B,
    C,
    D,
}

/// Q.23 low-group (row) frequencies in Hz: 697, 770, 852, 941.
pub const ROW_HZ: [f64; 4] = [697.0, 770.0, 852.0, 941.0];
/// Q.23 high-group (column) frequencies in Hz: 1209, 1336, 1477, 1633.
pub const COL_HZ: [f64; 4] = [1209.0, 1336.0, 1477.0, 1633.0];

/// The keypad as Q.23 lays it out: `KEYPAD[row][col]`.
const KEYPAD: [[Digit; 4]; 4] = [
    [Digit::One, Digit::Two, Digit::Three, Digit::A],
    [Digit::Four, Digit::Five, Digit::Six, Digit::B],
    [Digit::Seven, Digit::Eight, Digit::Nine, Digit::C],
    [Digit::Star, Digit::Zero, Digit::Pound, Digit::D],
];

impl Digit {
    /// All sixteen keys in event-code order.
    pub const ALL: [Digit; 16] = [
        Digit::Zero,
        Digit::One,
        Digit::Two,
        Digit::Three,
        Digit::Four,
        Digit::Five,
        Digit::Six,
        Digit::Seven,
        Digit::Eight,
        Digit::Nine,
        Digit::Star,
        Digit::Pound,
        Digit::A,
        Digit::B,
        Digit::C,
        Digit::D,
    ];

    /// The key of an RFC 4733 event code; `None` for codes outside 0–15.
    pub fn from_event(code: u8) -> Option<Digit> {
        Digit::ALL.get(usize::from(code)).copied()
    }

    /// The RFC 4733 event code (0–15).
    pub fn event(self) -> u8 {
        self as u8
    }

    /// The key a character names: `0-9 * # A-D`, letters in either case.
    pub fn from_char(c: char) -> Option<Digit> {
        Some(match c {
            '0'..='9' => Digit::ALL[c as usize - '0' as usize],
            '*' => Digit::Star,
            '#' => Digit::Pound,
            'A' | 'a' => Digit::A,
            'B' | 'b' => Digit::B,
            'C' | 'c' => Digit::C,
            'D' | 'd' => Digit::D,
            _ => return None,
        })
    }

    /// The key's character (`0-9 * # A-D`).
    pub fn to_char(self) -> char {
        b"0123456789*#ABCD"[self as usize] as char
    }

    /// Row (low group) index 0–3 into [`ROW_HZ`].
    pub fn row(self) -> usize {
        self.position().0
    }

    /// Column (high group) index 0–3 into [`COL_HZ`].
    pub fn col(self) -> usize {
        self.position().1
    }

    /// The Q.23 frequency pair, low then high, in Hz.
    pub fn frequencies(self) -> (f64, f64) {
        let (r, c) = self.position();
        (ROW_HZ[r], COL_HZ[c])
    }

    /// The key at a row and column of the keypad; `None` outside 0–3.
    pub fn at(row: usize, col: usize) -> Option<Digit> {
        KEYPAD.get(row).and_then(|r| r.get(col)).copied()
    }

    fn position(self) -> (usize, usize) {
        match self {
            Digit::One => (0, 0),
            Digit::Two => (0, 1),
            Digit::Three => (0, 2),
            Digit::A => (0, 3),
            Digit::Four => (1, 0),
            Digit::Five => (1, 1),
            Digit::Six => (1, 2),
            Digit::B => (1, 3),
            Digit::Seven => (2, 0),
            Digit::Eight => (2, 1),
            Digit::Nine => (2, 2),
            Digit::C => (2, 3),
            Digit::Star => (3, 0),
            Digit::Zero => (3, 1),
            Digit::Pound => (3, 2),
            Digit::D => (3, 3),
        }
    }
}

impl fmt::Display for Digit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_char())
    }
}

impl TryFrom<char> for Digit {
    type Error = DigitError;

    fn try_from(c: char) -> Result<Digit, DigitError> {
        Digit::from_char(c).ok_or(DigitError::NotADtmfKey(c))
    }
}

/// A key or the hook flash: what RFC 4733 (event 16, carried over from RFC 2833) and SIP INFO
/// bodies can signal beyond the sixteen keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    Digit(Digit),
    Flash,
}

/// RFC 2833 event code of the hook flash; RFC 4733 marks 16 reserved but peers still send it.
pub const FLASH_EVENT: u8 = 16;

/// A string that is not made of DTMF keys.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DigitError {
    /// The caller passed a character that is no DTMF key.
    NotADtmfKey(char),
}

impl fmt::Display for DigitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DigitError::NotADtmfKey(c) => write!(f, "{c:?} is not a DTMF key (0-9 * # A-D)"),
        }
    }
}

impl std::error::Error for DigitError {}

/// Parses a string of keys such as `"123*#"`.
pub fn parse_digits(s: &str) -> Result<Vec<Digit>, DigitError> {
    s.chars().map(Digit::try_from).collect()
}

/// Writes keys as a string.
pub fn digits_to_string(digits: &[Digit]) -> String {
    digits.iter().map(|d| d.to_char()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_codes_characters_and_keypad_agree() {
        for (code, d) in Digit::ALL.iter().enumerate() {
            assert_eq!(d.event() as usize, code);
            assert_eq!(Digit::from_event(code as u8), Some(*d));
            assert_eq!(Digit::from_char(d.to_char()), Some(*d));
            assert_eq!(Digit::from_char(d.to_char().to_ascii_lowercase()), Some(*d));
            assert_eq!(Digit::at(d.row(), d.col()), Some(*d));
        }
        assert_eq!(Digit::from_event(16), None);
        assert_eq!(Digit::from_char('e'), None);
        assert_eq!(Digit::Five.frequencies(), (770.0, 1336.0));
        assert_eq!(Digit::Zero.frequencies(), (941.0, 1336.0));
        assert_eq!(Digit::D.frequencies(), (941.0, 1633.0));
        assert_eq!(
            digits_to_string(&parse_digits("0123456789*#abcd").unwrap()),
            "0123456789*#ABCD"
        );
        assert_eq!(parse_digits("12x"), Err(DigitError::NotADtmfKey('x')));
        assert_eq!(Digit::at(4, 0), None);
    }
}
