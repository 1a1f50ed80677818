//! Remote-destination number equivalence under a national numbering plan: numbers that differ
//! only by dialing prefixes and visual separators get the same [`NumberKey`], so the store can
//! enforce "an RD number is unique in the cluster" and "a DN is never an RD".
//!
//! The rule, in order:
//!
//! 1. Remove visual separators: `-`, space, `.`, `(`, `)`. What remains must be `0`–`9`, `*`,
//!    `#`, with an optional `+` first; anything else is a [`NumberError`] naming the character.
//! 2. A number starting with `+` is already international: it is its own key.
//! 3. A number that is exactly a national number (10 digits) is national: `+`, the country
//!    code, the number. This comes first because a national number may begin with the
//!    outside-line digit (area code 914) or even spell it and the international prefix
//!    (901-1…); a national-length string is read as national.
//! 4. If the number starts with the outside-line prefix (`9`) and the rest is recognisable
//!    (step 5), the rest's key is the key.
//! 5. Recognisable forms, tried in this order:
//!    - exactly a national number → `+`, the country code, the number;
//!    - the international prefix (`011`) followed by 1 to 15 digits → `+` and those digits;
//!    - the trunk prefix (`1`) followed by exactly a national number →
//!      `+`, the country code, the national number.
//! 6. Anything else — short extensions such as `91000` or `2000`, feature codes with `*` or
//!    `#` — keeps its characters as they are; the outside-line prefix is **not** stripped from a
//!    number the rest of which is not recognisable.
//!
//! So under [`NumberingPlan::north_american`], `91-4085555555`, `914085555555`,
//! `+1-408-555-5555`, `+14085555555`, `14085555555`, `4085555555` and `9011 1 4085555555` all
//! have the key `+14085555555`. An empty prefix in the plan disables the step that uses it.

use crate::error::NumberError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest international number (E.164): digits after the `+`.
const MAX_INTERNATIONAL_DIGITS: usize = 15;

/// The dialing conventions of one country, as seen from inside the enterprise.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct NumberingPlan {
    /// `1` for the North American Numbering Plan.
    pub country_code: String,
    /// Dialed before a national number for a long-distance call (`1`).
    pub trunk_prefix: String,
    /// Dialed to reach an outside line from the PBX (`9`).
    pub outside_line_prefix: String,
    /// Dialed before a country code (`011`).
    pub international_prefix: String,
    /// Digits in a national number without the trunk prefix (10).
    pub national_number_length: usize,
}

/// The canonical form of a number: equal keys mean the same destination.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct NumberKey(String);

impl NumberKey {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NumberKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl NumberingPlan {
    /// Country code `1`, trunk prefix `1`, outside line `9`, international `011`, 10 digits.
    pub fn north_american() -> Self {
        NumberingPlan {
            country_code: "1".into(),
            trunk_prefix: "1".into(),
            outside_line_prefix: "9".into(),
            international_prefix: "011".into(),
            national_number_length: 10,
        }
    }

    /// The equivalence key of `number` (see the module documentation for the rule).
    pub fn equivalence_key(&self, number: &str) -> Result<NumberKey, NumberError> {
        let digits = strip_separators(number)?;
        if digits.starts_with('+') {
            return Ok(NumberKey(digits));
        }
        let national = self.national(&digits);
        let outside = || {
            non_empty(&self.outside_line_prefix)
                .and_then(|p| digits.strip_prefix(p))
                .and_then(|rest| self.recognise(rest))
        };
        let key = national
            .or_else(outside)
            .or_else(|| self.recognise(&digits))
            .unwrap_or(digits);
        Ok(NumberKey(key))
    }

    /// `+`, the country code and `d`, if `d` is exactly a national number.
    fn national(&self, d: &str) -> Option<String> {
        (d.len() == self.national_number_length && d.bytes().all(|b| b.is_ascii_digit()))
            .then(|| format!("+{}{d}", self.country_code))
    }

    /// The international form of a number dialed without the outside-line prefix, if it is
    /// recognisably national or international.
    fn recognise(&self, d: &str) -> Option<String> {
        let international = || {
            non_empty(&self.international_prefix)
                .and_then(|p| d.strip_prefix(p))
                .filter(|rest| {
                    (1..=MAX_INTERNATIONAL_DIGITS).contains(&rest.len())
                        && rest.bytes().all(|b| b.is_ascii_digit())
                })
                .map(|rest| format!("+{rest}"))
        };
        let with_trunk = || {
            non_empty(&self.trunk_prefix)
                .and_then(|p| d.strip_prefix(p))
                .and_then(|rest| self.national(rest))
        };
        self.national(d).or_else(international).or_else(with_trunk)
    }
}

fn non_empty(s: &str) -> Option<&str> {
    Some(s).filter(|s| !s.is_empty())
}

/// Removes visual separators (`-`, space, `.`, `(`, `)`) and checks that what remains is a
/// dialable number: `0`–`9`, `*`, `#`, and an optional `+` first.
pub fn strip_separators(number: &str) -> Result<String, NumberError> {
    let mut out = String::with_capacity(number.len());
    for (position, c) in number.chars().enumerate() {
        match c {
            '-' | ' ' | '.' | '(' | ')' => {}
            '0'..='9' | '*' | '#' => out.push(c),
            '+' if out.is_empty() => out.push(c),
            '+' => {
                return Err(NumberError::MisplacedPlus {
                    number: number.to_owned(),
                    position,
                })
            }
            _ => {
                return Err(NumberError::InvalidCharacter {
                    number: number.to_owned(),
                    character: c,
                    position,
                })
            }
        }
    }
    match out.as_str() {
        "" => Err(NumberError::Empty),
        "+" => Err(NumberError::NoDigitsAfterPlus {
            number: number.to_owned(),
        }),
        _ => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: &str) -> String {
        NumberingPlan::north_american()
            .equivalence_key(n)
            .unwrap()
            .as_str()
            .to_owned()
    }

    #[test]
    fn every_spelling_of_one_number_has_one_key() {
        for n in [
            "91-4085555555",
            "914085555555",
            "+1-408-555-5555",
            "+14085555555",
            "14085555555",
            "4085555555",
            "9011 1 4085555555",
            "+1 (408) 555.5555",
            "011 1 408 555 5555",
            "9 408 555 5555",
        ] {
            assert_eq!(key(n), "+14085555555", "{n}");
        }
    }

    #[test]
    fn international_numbers() {
        assert_eq!(key("9011442071234567"), "+442071234567");
        assert_eq!(key("+44 20 7123 4567"), "+442071234567");
        assert_ne!(key("9011442071234567"), key("+14085555555"));
    }

    #[test]
    fn short_numbers_keep_their_digits() {
        assert_eq!(key("91000"), "91000", "the outside-line prefix stays");
        assert_eq!(key("91-000"), "91000");
        assert_eq!(key("2000"), "2000");
        assert_eq!(key("*69"), "*69");
        assert_eq!(key("9011"), "9011");
        assert_ne!(key("91000"), key("1000"));
    }

    #[test]
    fn national_numbers_starting_with_the_outside_line_digit() {
        // 914 is an area code: a 10-digit number starting with 9 is national, not 9 + 9 digits.
        assert_eq!(key("9145551234"), "+19145551234");
        assert_eq!(key("919145551234"), "+19145551234");
        assert_eq!(key("99145551234"), "+19145551234");
        // 901 is an area code too: ten digits are national even when they start "9011".
        assert_eq!(key("9011234567"), "+19011234567");
        assert_eq!(key("99011234567"), "+19011234567");
        assert_eq!(key("19011234567"), "+19011234567");
    }

    #[test]
    fn rejects_non_numbers_naming_the_character() {
        let plan = NumberingPlan::north_american();
        let e = plan.equivalence_key("408-555-CALL").unwrap_err();
        assert_eq!(
            e,
            NumberError::InvalidCharacter {
                number: "408-555-CALL".into(),
                character: 'C',
                position: 8
            }
        );
        assert!(e.to_string().contains("'C'"), "{e}");
        assert_eq!(plan.equivalence_key(""), Err(NumberError::Empty));
        assert_eq!(plan.equivalence_key(" - "), Err(NumberError::Empty));
        assert!(matches!(
            plan.equivalence_key("1+2"),
            Err(NumberError::MisplacedPlus { position: 1, .. })
        ));
        assert!(matches!(
            plan.equivalence_key("(+)"),
            Err(NumberError::NoDigitsAfterPlus { .. })
        ));
        assert_eq!(
            key(" +1408 5555555"),
            "+14085555555",
            "plus after a separator"
        );
    }

    #[test]
    fn another_plan() {
        // A UK-like plan: outside line 9, trunk prefix 0, international 00, 10-digit numbers.
        let uk = NumberingPlan {
            country_code: "44".into(),
            trunk_prefix: "0".into(),
            outside_line_prefix: "9".into(),
            international_prefix: "00".into(),
            national_number_length: 10,
        };
        let k = |n: &str| uk.equivalence_key(n).unwrap().as_str().to_owned();
        assert_eq!(k("902071234567"), "+442071234567");
        assert_eq!(k("02071234567"), "+442071234567");
        assert_eq!(k("9001 408 555 5555"), "+14085555555");
        // No outside-line prefix configured: the 9 is part of the number.
        let direct = NumberingPlan {
            outside_line_prefix: String::new(),
            ..NumberingPlan::north_american()
        };
        assert_eq!(
            direct.equivalence_key("94085555555").unwrap().as_str(),
            "94085555555"
        );
    }
}
