//! The dialing alphabet: the thirteen symbols a dialed string may hold (`0`–`9`, `*`, `#`, `+`)
//! and sets of them. Patterns, the matcher and the specificity counter all speak in symbol
//! indexes and [`Class`] bit sets so that no other module compares characters.

/// Symbols in index order: digits 0–9 are indexes 0–9, then `*`, `#`, `+`.
pub(crate) const SYMBOLS: [char; 13] = [
    '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '*', '#', '+',
];

/// Number of symbols in the alphabet.
pub(crate) const SYMBOL_COUNT: usize = SYMBOLS.len();

/// The index of a dialable character, or `None` for anything else.
pub(crate) fn symbol(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        '+' => Some(12),
        _ => None,
    }
}

/// Symbol index of each byte, `u8::MAX` for bytes outside the alphabet.
static BYTE_SYMBOLS: [u8; 256] = {
    let mut table = [u8::MAX; 256];
    let mut i = 0;
    while i < SYMBOL_COUNT {
        table[SYMBOLS[i] as usize] = i as u8;
        i += 1;
    }
    table
};

/// [`symbol`] for one byte of a string (non-ASCII bytes are never symbols).
pub(crate) fn byte_symbol(b: u8) -> Option<u8> {
    let s = BYTE_SYMBOLS[usize::from(b)];
    (s != u8::MAX).then_some(s)
}

/// A set of symbols that one pattern element accepts at one position.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Class(u16);

impl Class {
    /// Every digit 0–9 (`X` and `!`).
    pub(crate) const DIGITS: Class = Class(0x3ff);
    /// No symbol at all.
    pub(crate) const EMPTY: Class = Class(0);

    pub(crate) fn single(sym: u8) -> Class {
        Class(1 << sym)
    }

    pub(crate) fn with(self, sym: u8) -> Class {
        Class(self.0 | (1 << sym))
    }

    pub(crate) fn union(self, other: Class) -> Class {
        Class(self.0 | other.0)
    }

    /// The digits 0–9 that are not in `self`.
    pub(crate) fn digit_complement(self) -> Class {
        Class(!self.0 & Class::DIGITS.0)
    }

    /// Whether every symbol of the class is a digit.
    pub(crate) fn is_digits_only(self) -> bool {
        self.0 & !Class::DIGITS.0 == 0
    }

    pub(crate) fn contains(self, sym: u8) -> bool {
        self.0 & (1 << sym) != 0
    }

    pub(crate) fn len(self) -> u32 {
        self.0.count_ones()
    }

    pub(crate) fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The only symbol of a one-symbol class.
    pub(crate) fn only(self) -> Option<u8> {
        (self.len() == 1).then(|| self.0.trailing_zeros() as u8)
    }

    /// The symbols in index order.
    pub(crate) fn symbols(self) -> impl Iterator<Item = u8> {
        let mut bits = self.0;
        std::iter::from_fn(move || {
            let s = bits.trailing_zeros() as u8;
            bits &= bits.wrapping_sub(1);
            (usize::from(s) < SYMBOL_COUNT).then_some(s)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_symbol_round_trips() {
        for (i, &c) in SYMBOLS.iter().enumerate() {
            assert_eq!(symbol(c), Some(i as u8));
        }
        for c in ['X', 'a', ' ', '-', '\\', 'é'] {
            assert_eq!(symbol(c), None, "{c:?}");
        }
        for b in 0..=255u8 {
            assert_eq!(byte_symbol(b), symbol(char::from(b)), "{b}");
        }
    }

    #[test]
    fn classes_count_and_complement() {
        assert_eq!(Class::DIGITS.len(), 10);
        let zero = Class::single(0);
        assert_eq!(zero.digit_complement().len(), 9);
        assert!(!zero.digit_complement().contains(0));
        assert!(
            !zero.digit_complement().contains(10),
            "complement stays in 0-9"
        );
        assert_eq!(zero.only(), Some(0));
        assert_eq!(Class::DIGITS.only(), None);
        assert!(Class::EMPTY.is_empty());
        assert!(Class::DIGITS.is_digits_only() && !Class::single(10).is_digits_only());
        assert_eq!(
            Class::single(3).with(5).symbols().collect::<Vec<_>>(),
            [3, 5]
        );
    }
}
