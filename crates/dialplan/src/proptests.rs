//! Property tests against independent reference definitions: random patterns built from
//! elements match exactly the strings a backtracking reference matcher accepts (with the same
//! shortest PreDot split), closest-match counts agree with brute-force enumeration, nothing
//! panics on arbitrary input, and number keys ignore separators and dialing prefixes.

use crate::{
    apply_dial_rules, DialPlanBuilder, DialRule, Entry, NumberingPlan, Pattern, PatternMatch,
    Target, Transform,
};
use proptest::prelude::*;

const ALPHABET: [u8; 13] = *b"0123456789*#+";

/// One generated element: its spelling and, independently, the symbols it accepts.
#[derive(Clone, Debug)]
struct Elem {
    text: String,
    /// Indexes into `ALPHABET`.
    class: Vec<u8>,
    /// 0 once, 1 zero-or-more, 2 one-or-more.
    rep: u8,
}

fn atom() -> impl Strategy<Value = (String, Vec<u8>)> {
    prop_oneof![
        (0u8..13).prop_map(|s| {
            let text = match s {
                12 => r"\+".to_owned(),
                _ => char::from(ALPHABET[usize::from(s)]).to_string(),
            };
            (text, vec![s])
        }),
        Just(("X".to_owned(), (0..10).collect())),
        (prop::collection::btree_set(0u8..10, 1..=4), any::<bool>()).prop_filter_map(
            "a negated bracket must leave a digit",
            |(listed, negate)| {
                let digits: String = listed.iter().map(|d| char::from(b'0' + d)).collect();
                let class: Vec<u8> = (0..10).filter(|d| listed.contains(d) != negate).collect();
                (!class.is_empty()).then(|| {
                    (
                        format!("[{}{digits}]", if negate { "^" } else { "" }),
                        class,
                    )
                })
            }
        ),
    ]
}

fn elem() -> impl Strategy<Value = Elem> {
    prop_oneof![
        4 => (atom(), 0u8..3).prop_map(|((text, class), rep)| {
            let text = match rep {
                0 => text,
                1 => format!("{text}?"),
                _ => format!("{text}+"),
            };
            Elem { text, class, rep }
        }),
        1 => Just(Elem { text: "!".into(), class: (0..10).collect(), rep: 2 }),
    ]
}

/// Elements, the dot position (element index), and per-element choices for a matching string.
fn pattern_case() -> impl Strategy<Value = (Vec<Elem>, Option<usize>, Vec<Vec<usize>>)> {
    prop::collection::vec(elem(), 1..=7).prop_flat_map(|elems| {
        let n = elems.len();
        (
            Just(elems),
            prop::option::of(0..=n),
            prop::collection::vec(prop::collection::vec(any::<usize>(), 0..=3), n),
        )
    })
}

fn text_of(elems: &[Elem], dot: Option<usize>) -> String {
    let mut text = String::new();
    for (i, e) in elems.iter().enumerate() {
        if dot == Some(i) {
            text.push('.');
        }
        text.push_str(&e.text);
    }
    if dot == Some(elems.len()) {
        text.push('.');
    }
    text
}

/// Reference matcher: plain backtracking over the element definitions.
fn reference(elems: &[Elem], s: &[u8]) -> bool {
    let Some((e, rest)) = elems.split_first() else {
        return s.is_empty();
    };
    let in_class = |c: &u8| {
        ALPHABET
            .iter()
            .position(|a| a == c)
            .is_some_and(|i| e.class.contains(&(i as u8)))
    };
    let min = if e.rep == 1 { 0 } else { 1 };
    let max = if e.rep == 0 { 1 } else { s.len() };
    (min..=max.min(s.len()))
        .take_while(|&k| k == 0 || in_class(&s[k - 1]))
        .any(|k| reference(rest, &s[k..]))
}

/// Reference PreDot split: the shortest prefix the elements before the dot match in full while
/// the rest matches the elements after it.
fn reference_split(elems: &[Elem], dot: Option<usize>, s: &[u8]) -> Option<usize> {
    match dot {
        None => reference(elems, s).then_some(0),
        Some(d) => (0..=s.len())
            .find(|&k| reference(&elems[..d], &s[..k]) && reference(&elems[d..], &s[k..])),
    }
}

/// A string the elements match by construction, and the length of its PreDot part.
fn build_match(elems: &[Elem], dot: Option<usize>, picks: &[Vec<usize>]) -> (String, usize) {
    let mut s = String::new();
    let mut split = 0;
    for (i, (e, pick)) in elems.iter().zip(picks).enumerate() {
        if dot == Some(i) {
            split = s.len();
        }
        let count = match e.rep {
            0 => 1,
            1 => pick.len(),
            _ => pick.len().max(1),
        };
        for k in 0..count {
            let choice = pick.get(k).copied().unwrap_or(0) % e.class.len();
            s.push(char::from(ALPHABET[usize::from(e.class[choice])]));
        }
    }
    if dot == Some(elems.len()) {
        split = s.len();
    }
    (s, split)
}

fn all_strings(len: usize) -> Vec<Vec<u8>> {
    (0..len).fold(vec![Vec::new()], |acc, _| {
        acc.iter()
            .flat_map(|prefix| {
                ALPHABET.iter().map(move |&c| {
                    let mut s = prefix.clone();
                    s.push(c);
                    s
                })
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn generated_patterns_match_their_strings((elems, dot, picks) in pattern_case()) {
        let text = text_of(&elems, dot);
        let p = Pattern::parse(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(p.as_str(), text.as_str());
        let (s, split) = build_match(&elems, dot, &picks);
        if s.is_empty() {
            // Nothing dialed never matches, even a pattern that admits the empty string.
            prop_assert!(p.matches(&s).is_none());
            return Ok(());
        }
        let m = p.matches(&s);
        prop_assert!(m.is_some(), "{} should match {:?}", text, s);
        let predot = m.map(|m| m.predot).unwrap_or(0);
        prop_assert_eq!(Some(predot), reference_split(&elems, dot, s.as_bytes()));
        prop_assert!(dot.is_none() || predot <= split, "the shortest split is taken");
    }

    #[test]
    fn mutated_strings_agree_with_the_reference(
        (elems, dot, picks) in pattern_case(),
        at in any::<usize>(),
        sym in 0usize..13,
        kind in 0u8..3,
    ) {
        let text = text_of(&elems, dot);
        let p = Pattern::parse(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let (s, _) = build_match(&elems, dot, &picks);
        let mut bytes = s.into_bytes();
        let c = ALPHABET[sym];
        match kind {
            0 if !bytes.is_empty() => { let i = at % bytes.len(); bytes[i] = c; }
            1 => { let i = at % (bytes.len() + 1); bytes.insert(i, c); }
            _ if !bytes.is_empty() => { bytes.remove(at % bytes.len()); }
            _ => bytes.push(c),
        }
        let mutated = String::from_utf8(bytes.clone()).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let ours = p.matches(&mutated).map(|m| m.predot);
        let expected = match bytes.is_empty() {
            true => None,
            false => reference_split(&elems, dot, &bytes),
        };
        prop_assert_eq!(ours, expected, "{} vs {:?}", text, mutated);
    }

    #[test]
    fn finite_patterns_reject_a_symbol_outside_the_class(
        elems in prop::collection::vec(atom(), 1..=8),
        at in any::<usize>(),
        picks in prop::collection::vec(any::<usize>(), 8),
    ) {
        let text: String = elems.iter().map(|(t, _)| t.as_str()).collect();
        let p = Pattern::parse(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut s: Vec<u8> = elems
            .iter()
            .zip(&picks)
            .map(|((_, class), pick)| ALPHABET[usize::from(class[pick % class.len()])])
            .collect();
        prop_assert!(p.matches(std::str::from_utf8(&s).unwrap_or("")).is_some());
        let i = at % s.len();
        let outside = (0u8..13).find(|x| !elems[i].1.contains(x));
        prop_assert!(outside.is_some(), "no class holds the whole alphabet");
        s[i] = ALPHABET[usize::from(outside.unwrap_or(0))];
        prop_assert!(p.matches(std::str::from_utf8(&s).unwrap_or("")).is_none(), "{} vs {:?}", text, s);
        // Any other length never matches a finite pattern.
        s.push(b'1');
        prop_assert!(p.matches(std::str::from_utf8(&s).unwrap_or("")).is_none());
    }

    #[test]
    fn the_fixed_length_shortcut_agrees_with_the_nfa(
        elems in prop::collection::vec(atom(), 1..=8),
        dot in any::<prop::sample::Index>(),
        dialed in "[0-9*#+]{1,9}",
    ) {
        let dot = dot.index(elems.len() + 1);
        let mut text: String = elems.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>().join("");
        let offset: usize = elems[..dot].iter().map(|(t, _)| t.len()).sum();
        text.insert(offset, '.');
        let p = Pattern::parse(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let input = crate::matcher::Input::new(&dialed);
        prop_assert!(input.is_some());
        if let Some(input) = input {
            prop_assert_eq!(
                p.match_input(&input),
                crate::matcher::match_elements(p.elements(), p.dot(), &input),
                "{} vs {}", text, dialed
            );
        }
    }

    #[test]
    fn finite_counts_agree_with_enumeration(elems in prop::collection::vec(atom(), 1..=4)) {
        let text: String = elems.iter().map(|(t, _)| t.as_str()).collect();
        let p = Pattern::parse(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let spec = p.specificity(elems.len());
        prop_assert!(spec.is_finite());
        let brute = all_strings(elems.len())
            .iter()
            .filter(|s| p.matches(std::str::from_utf8(s).unwrap_or("")).is_some())
            .count() as u128;
        prop_assert_eq!(spec.count(), brute, "{}", text);
    }

    #[test]
    fn counts_of_each_length_agree_with_enumeration(elems in prop::collection::vec(elem(), 1..=4)) {
        let text = text_of(&elems, None);
        let p = Pattern::parse(&text).map_err(|e| TestCaseError::fail(e.to_string()))?;
        for len in 0..=3 {
            let brute = all_strings(len)
                .iter()
                .filter(|s| reference(&elems, s))
                .count() as u128;
            let spec = p.specificity(len);
            if spec.is_finite() {
                let finite_len = elems.len();
                prop_assert_eq!(spec.count() > 0 && len == finite_len, brute > 0);
                if len == finite_len {
                    prop_assert_eq!(spec.count(), brute, "{} at {}", text, len);
                }
            } else {
                prop_assert_eq!(spec.count(), brute, "{} at {}", text, len);
            }
        }
    }

    #[test]
    fn the_index_finds_what_a_linear_scan_finds(
        cases in prop::collection::vec((pattern_case(), 0usize..3), 1..12),
        css in prop::sample::subsequence(vec![0usize, 1, 2], 0..=3).prop_shuffle(),
        probe in any::<prop::sample::Index>(),
        noise in "[0-9*#+]{1,8}",
    ) {
        let parts = ["p0", "p1", "p2"];
        let mut b = DialPlanBuilder::new();
        for p in parts {
            b.partition(p);
        }
        b.css("c", css.iter().map(|&i| parts[i].to_owned()).collect());
        let mut entries = Vec::new();
        for ((elems, dot, picks), part) in &cases {
            let pattern = Pattern::parse(&text_of(elems, *dot)).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let e = Entry {
                pattern,
                partition: parts[*part].to_owned(),
                target: Target::Line { device: "d".into() },
                called: Transform::default(),
                calling: Transform::default(),
            };
            b.entry(e.clone());
            entries.push((e, build_match(elems, *dot, picks).0));
        }
        // Colliding patterns in one partition are refused; those cases say nothing here.
        let plan = b.build();
        prop_assume!(plan.is_ok());
        let plan = plan.map_err(|e| TestCaseError::fail(e.to_string()))?;
        for dialed in [entries[probe.index(entries.len())].1.clone(), noise] {
            let len = dialed.len();
            let expected = css
                .iter()
                .enumerate()
                .flat_map(|(pos, &part)| {
                    entries.iter().filter(move |(e, _)| e.partition == parts[part]).map(move |(e, _)| (pos, e))
                })
                .filter(|(_, e)| e.pattern.matches(&dialed).is_some())
                .min_by(|(pa, a), (pb, b)| {
                    (a.pattern.specificity(len), pa, a.pattern.as_str())
                        .cmp(&(b.pattern.specificity(len), pb, b.pattern.as_str()))
                })
                .map(|(_, e)| format!("{}@{}", e.pattern.as_str(), e.partition));
            let got = plan
                .analyze("c", "x", &dialed)
                .ok()
                .map(|a| format!("{}@{}", a.pattern, a.partition));
            prop_assert_eq!(got, expected, "{:?}", dialed);
        }
    }

    #[test]
    fn parsing_never_panics(s in r"[0-9X\[\]\^\-!?+.\\*#@ xé]{0,70}") {
        if let Ok(p) = Pattern::parse(&s) {
            prop_assert_eq!(p.as_str(), s.as_str());
            let _ = p.specificity(5);
        } else if let Err(e) = Pattern::parse(&s) {
            prop_assert!(!e.to_string().is_empty());
            prop_assert_eq!(e.character, s.chars().nth(e.position));
        }
    }

    #[test]
    fn matching_never_panics(p in r"[0-9X\[\]\^\-!?+.\\*#]{1,30}", dialed in r"\PC{0,140}") {
        if let Ok(p) = Pattern::parse(&p) {
            if let Some(m) = p.matches(&dialed) {
                prop_assert!(m.predot <= dialed.len());
                let _ = Transform { discard_predot: true, prefix: "1".into(), mask: Some("X9X".into()) }
                    .apply(&dialed, &m);
            }
        }
    }

    #[test]
    fn all_x_masks_keep_the_last_digits(number in "[0-9]{0,20}", len in 1usize..20) {
        let t = Transform { mask: Some("X".repeat(len)), ..Transform::default() };
        let out = t.apply(&number, &PatternMatch { predot: 0 });
        prop_assert_eq!(out.as_str(), &number[number.len().saturating_sub(len)..]);
    }

    #[test]
    fn keys_ignore_separators_and_prefixes(
        national in "[2-9][0-9]{9}",
        seps in prop::collection::vec(prop::sample::select(vec!["", "-", " ", ".", "(", ")"]), 12),
    ) {
        let plan = NumberingPlan::north_american();
        let expected = format!("+1{national}");
        let sprinkle = |s: &str| -> String {
            s.chars().zip(seps.iter().cycle()).map(|(c, sep)| format!("{sep}{c}")).collect()
        };
        for form in [
            national.clone(),
            format!("1{national}"),
            format!("9{national}"),
            format!("91{national}"),
            format!("+1{national}"),
            format!("9011 1{national}"),
            format!("0111{national}"),
        ] {
            let key = plan.equivalence_key(&sprinkle(&form)).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(key.as_str(), expected.as_str(), "{}", form);
        }
    }

    #[test]
    fn dial_rules_follow_the_reference(
        rules in prop::collection::vec(
            ("[0-9]{0,2}", prop::option::of(0u32..6), 0u32..4, "[0-9+]{0,2}", 0u32..3),
            0..5,
        ),
        number in "[0-9]{0,6}",
    ) {
        let rules: Vec<DialRule> = rules
            .into_iter()
            .enumerate()
            .map(|(i, (begins_with, num_digits, digits_to_remove, prefix, priority))| DialRule {
                name: format!("r{i}"), begins_with, num_digits, digits_to_remove, prefix, priority,
            })
            .collect();
        let mut by_priority: Vec<&DialRule> = rules.iter().collect();
        by_priority.sort_by_key(|r| r.priority); // stable: list order breaks ties
        let expected = match by_priority.iter().find(|r| {
            number.starts_with(&r.begins_with) && r.num_digits.is_none_or(|n| number.len() == n as usize)
        }) {
            Some(r) => format!("{}{}", r.prefix, number.get(r.digits_to_remove as usize..).unwrap_or("")),
            None => number.clone(),
        };
        prop_assert_eq!(apply_dial_rules(&rules, &number), expected);
    }
}
