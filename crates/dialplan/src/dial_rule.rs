//! Application dial rules: rewrite a remote-destination number before it is verified and before
//! it is dialed (CUCM "Application Dial Rules").
//!
//! A rule matches a number that begins with `begins_with` and, when `num_digits` is set, is
//! exactly that many characters long. Of the matching rules, the one with the lowest `priority`
//! value wins (equal priorities: the one listed first). The result is `prefix` followed by the
//! number without its first `digits_to_remove` characters. No matching rule leaves the number
//! unchanged. Rules work on the number as given: strip visual separators first
//! ([`crate::strip_separators`]).

use crate::error::{DialRuleError, DialRuleField};
use serde::{Deserialize, Serialize};

/// One application dial rule.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DialRule {
    pub name: String,
    /// Leading characters a number must have (empty: any).
    pub begins_with: String,
    /// Exact length a number must have (`None`: any).
    pub num_digits: Option<u32>,
    pub digits_to_remove: u32,
    pub prefix: String,
    /// Lower values win.
    pub priority: u32,
}

impl DialRule {
    /// Whether this rule applies to `number`.
    pub fn matches(&self, number: &str) -> bool {
        number.starts_with(&self.begins_with)
            && self
                .num_digits
                .is_none_or(|n| number.chars().count() == n as usize)
    }

    /// Rewrites `number` (whether or not the rule matches it).
    pub fn rewrite(&self, number: &str) -> String {
        let mut out = self.prefix.clone();
        out.extend(number.chars().skip(self.digits_to_remove as usize));
        out
    }

    /// A rule needs a name; `begins_with` and `prefix` hold only `0`–`9`, `*`, `#`, `+`;
    /// `digits_to_remove` is at most the longer of `begins_with` and `num_digits`; and
    /// `num_digits` is not shorter than `begins_with`.
    pub fn validate(&self) -> Result<(), DialRuleError> {
        if self.name.trim().is_empty() {
            return Err(DialRuleError::EmptyName);
        }
        for (field, value) in [
            (DialRuleField::BeginsWith, &self.begins_with),
            (DialRuleField::Prefix, &self.prefix),
        ] {
            if let Some((position, character)) = value
                .chars()
                .enumerate()
                .find(|&(_, c)| crate::alphabet::symbol(c).is_none())
            {
                return Err(DialRuleError::InvalidCharacter {
                    field,
                    character,
                    position,
                });
            }
        }
        let begins_with_len = self.begins_with.chars().count() as u32;
        if let Some(n) = self.num_digits {
            if n < begins_with_len {
                return Err(DialRuleError::NeverMatches {
                    num_digits: n,
                    begins_with_len,
                });
            }
        }
        let limit = begins_with_len.max(self.num_digits.unwrap_or(0));
        if self.digits_to_remove > limit {
            return Err(DialRuleError::RemovesTooMany {
                digits_to_remove: self.digits_to_remove,
                limit,
            });
        }
        Ok(())
    }
}

/// The rule that applies to `number`: the lowest priority value among the matching ones, the
/// first listed on a tie.
pub fn select_dial_rule<'a>(rules: &'a [DialRule], number: &str) -> Option<&'a DialRule> {
    rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.matches(number))
        .min_by_key(|&(i, r)| (r.priority, i))
        .map(|(_, r)| r)
}

/// Applies the winning rule to `number`, or returns it unchanged when none matches.
pub fn apply_dial_rules(rules: &[DialRule], number: &str) -> String {
    match select_dial_rule(rules, number) {
        Some(rule) => rule.rewrite(number),
        None => number.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(
        name: &str,
        begins: &str,
        n: Option<u32>,
        remove: u32,
        prefix: &str,
        prio: u32,
    ) -> DialRule {
        DialRule {
            name: name.into(),
            begins_with: begins.into(),
            num_digits: n,
            digits_to_remove: remove,
            prefix: prefix.into(),
            priority: prio,
        }
    }

    #[test]
    fn ten_digit_numbers_get_the_outside_line_prefix() {
        let rules = [rule("nanp", "", Some(10), 0, "91", 1)];
        assert_eq!(apply_dial_rules(&rules, "4085555555"), "914085555555");
        assert_eq!(apply_dial_rules(&rules, "91000"), "91000", "no match");
        assert_eq!(apply_dial_rules(&[], "4085555555"), "4085555555");
    }

    #[test]
    fn plus_numbers_become_international_dialing() {
        let rules = [
            rule("nanp", "+1", Some(12), 2, "91", 1),
            rule("intl", "+", None, 1, "9011", 2),
        ];
        assert_eq!(apply_dial_rules(&rules, "+14085555555"), "914085555555");
        assert_eq!(
            apply_dial_rules(&rules, "+442071234567"),
            "9011442071234567"
        );
    }

    #[test]
    fn lowest_priority_value_wins_then_list_order() {
        let rules = [
            rule("late", "408", None, 0, "A", 5),
            rule("first", "408", None, 0, "9", 1),
            rule("tie", "4", None, 0, "8", 1),
        ];
        assert_eq!(apply_dial_rules(&rules, "4085555555"), "94085555555");
        assert_eq!(
            select_dial_rule(&rules, "4185555555").map(|r| r.name.as_str()),
            Some("tie")
        );
        let tied = [
            rule("a", "4", None, 0, "1", 3),
            rule("b", "4", None, 0, "2", 3),
        ];
        assert_eq!(apply_dial_rules(&tied, "4"), "14");
    }

    #[test]
    fn removal_counts_characters() {
        let r = rule("strip", "00", None, 2, "+", 1);
        assert_eq!(
            apply_dial_rules(std::slice::from_ref(&r), "00441234"),
            "+441234"
        );
        // Removing past the end leaves only the prefix.
        assert_eq!(rule("x", "", None, 9, "7", 1).rewrite("12"), "7");
    }

    #[test]
    fn validation() {
        assert_eq!(rule("ok", "9", Some(12), 1, "+1", 1).validate(), Ok(()));
        assert_eq!(rule("ok", "", Some(10), 10, "", 1).validate(), Ok(()));
        assert_eq!(
            rule(" ", "9", None, 0, "", 1).validate(),
            Err(DialRuleError::EmptyName)
        );
        assert_eq!(
            rule("r", "9-1", None, 0, "", 1).validate(),
            Err(DialRuleError::InvalidCharacter {
                field: DialRuleField::BeginsWith,
                character: '-',
                position: 1
            })
        );
        let e = rule("r", "9", None, 0, "9a", 1).validate().unwrap_err();
        assert!(e.to_string().contains("'a'"), "{e}");
        assert_eq!(
            rule("r", "91", None, 3, "", 1).validate(),
            Err(DialRuleError::RemovesTooMany {
                digits_to_remove: 3,
                limit: 2
            })
        );
        assert_eq!(
            rule("r", "9123", Some(3), 0, "", 1).validate(),
            Err(DialRuleError::NeverMatches {
                num_digits: 3,
                begins_with_len: 4
            })
        );
    }
}
