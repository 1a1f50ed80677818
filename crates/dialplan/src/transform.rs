//! Called- and calling-party transformations attached to a pattern: discard the PreDot digits,
//! apply a mask, add a prefix — in that order, as CUCM does.
//!
//! A mask is right-aligned with the number. Where the mask has `X` the number's character at
//! that position is kept; any other mask character replaces it. A number longer than the mask
//! loses its leading characters (`91000` masked by `XXXX` is `1000`); a mask longer than the
//! number contributes its leading characters (`1000` masked by `408555XXXX` is `4085551000`),
//! and a leading `X` with no character under it contributes nothing.

use crate::error::{TransformError, TransformField};
use crate::pattern::PatternMatch;
use serde::{Deserialize, Serialize};

/// One party's transformation. The default leaves the number unchanged.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Transform {
    /// Drop the digits matched before the pattern's `.`.
    pub discard_predot: bool,
    /// Prepended last.
    pub prefix: String,
    /// Applied after the PreDot discard, before the prefix.
    pub mask: Option<String>,
}

impl Transform {
    /// Transforms `dialed`, which `m` matched. Characters are handled as `char`s, so a calling
    /// number that is a SIP user name passes through a mask without panicking.
    pub fn apply(&self, dialed: &str, m: &PatternMatch) -> String {
        let kept = if self.discard_predot {
            m.strip_predot(dialed)
        } else {
            dialed
        };
        let mut out = String::with_capacity(
            self.prefix.len() + self.mask.as_ref().map_or(kept.len(), String::len),
        );
        out.push_str(&self.prefix);
        match &self.mask {
            None => out.push_str(kept),
            Some(mask) => apply_mask(mask, kept, &mut out),
        }
        out
    }

    /// Prefix: only `0`–`9`, `*`, `#`, `+`; mask: those and `X`, and not empty.
    pub fn validate(&self) -> Result<(), TransformError> {
        check_chars(&self.prefix, TransformField::Prefix, |_| false)?;
        if let Some(mask) = &self.mask {
            if mask.is_empty() {
                return Err(TransformError::EmptyMask);
            }
            check_chars(mask, TransformField::Mask, |c| c == 'X')?;
        }
        Ok(())
    }

    /// Whether applying this transformation can change a number.
    pub fn is_identity(&self) -> bool {
        !self.discard_predot && self.prefix.is_empty() && self.mask.is_none()
    }
}

fn check_chars(
    s: &str,
    field: TransformField,
    also: impl Fn(char) -> bool,
) -> Result<(), TransformError> {
    match s
        .chars()
        .enumerate()
        .find(|&(_, c)| crate::alphabet::symbol(c).is_none() && !also(c))
    {
        Some((position, character)) => Err(TransformError::InvalidCharacter {
            field,
            character,
            position,
        }),
        None => Ok(()),
    }
}

fn apply_mask(mask: &str, number: &str, out: &mut String) {
    let mask: Vec<char> = mask.chars().collect();
    let number: Vec<char> = number.chars().collect();
    // Index into `number` of the character under mask position 0 (negative: mask overhangs).
    let offset = number.len() as isize - mask.len() as isize;
    for (i, &mc) in mask.iter().enumerate() {
        let under = usize::try_from(offset + i as isize)
            .ok()
            .and_then(|j| number.get(j));
        match (mc, under) {
            ('X', Some(&c)) => out.push(c),
            ('X', None) => {}
            (other, _) => out.push(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Pattern;

    fn t(discard: bool, prefix: &str, mask: Option<&str>) -> Transform {
        Transform {
            discard_predot: discard,
            prefix: prefix.into(),
            mask: mask.map(Into::into),
        }
    }

    fn run(tr: &Transform, pattern: &str, dialed: &str) -> String {
        let m = Pattern::parse(pattern).unwrap().matches(dialed).unwrap();
        tr.apply(dialed, &m)
    }

    #[test]
    fn default_is_identity() {
        assert_eq!(run(&Transform::default(), "9.XXXX", "91000"), "91000");
        assert!(Transform::default().is_identity());
    }

    #[test]
    fn discard_predot() {
        assert_eq!(run(&t(true, "", None), "9.XXXX", "91000"), "1000");
        assert_eq!(
            run(&t(true, "", None), "9.1!", "914085551234"),
            "14085551234"
        );
        assert_eq!(run(&t(true, "", None), "2XXX", "2000"), "2000", "no dot");
    }

    #[test]
    fn order_is_discard_mask_prefix() {
        // Discard "9" -> "14085551234"; mask keeps the last 10 -> "4085551234"; prefix "+1".
        assert_eq!(
            run(&t(true, "+1", Some("XXXXXXXXXX")), "9.1!", "914085551234"),
            "+14085551234"
        );
    }

    #[test]
    fn masks_are_right_aligned() {
        let p = "XXXX";
        assert_eq!(
            run(&t(false, "", Some("408555XXXX")), p, "1000"),
            "4085551000"
        );
        assert_eq!(run(&t(false, "", Some("XX")), p, "1234"), "34");
        assert_eq!(run(&t(false, "", Some("X0X0")), p, "1234"), "1030");
        assert_eq!(run(&t(false, "", Some("XXXXXX")), p, "1234"), "1234");
        assert_eq!(run(&t(false, "", Some("5XXXXX")), p, "1234"), "51234");
    }

    #[test]
    fn mask_handles_any_text() {
        let tr = t(false, "", Some("XXX"));
        assert_eq!(tr.apply("alicé", &PatternMatch { predot: 0 }), "icé");
        // A split beyond the string (a different string than the matched one) does not panic.
        assert_eq!(
            t(true, "", None).apply("12", &PatternMatch { predot: 5 }),
            ""
        );
        assert_eq!(
            t(true, "", None).apply("é1", &PatternMatch { predot: 1 }),
            ""
        );
    }

    #[test]
    fn validation() {
        assert_eq!(t(true, "+1*#", Some("X1*#+")).validate(), Ok(()));
        assert_eq!(
            t(false, "9a", None).validate(),
            Err(TransformError::InvalidCharacter {
                field: TransformField::Prefix,
                character: 'a',
                position: 1
            })
        );
        assert_eq!(
            t(false, "X", None).validate().map_err(|e| e.to_string()),
            Err(
                "invalid character 'X' at position 0 in the prefix: only 0-9, *, #, + are allowed"
                    .into()
            )
        );
        assert_eq!(
            t(false, "", Some("")).validate(),
            Err(TransformError::EmptyMask)
        );
        assert!(t(false, "", Some("XX-X")).validate().is_err());
    }
}
