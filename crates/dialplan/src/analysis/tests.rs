//! Analysis: closest match, partition order, translations, routes, blocks and errors.

use super::*;
use crate::plan::tests::{entry, line, names, route};
use crate::{DialPlanBuilder, Entry, RouteList, Transform};

fn discard() -> Transform {
    Transform {
        discard_predot: true,
        ..Transform::default()
    }
}

fn plan(partitions: &[&str], css: &[(&str, &[&str])], entries: Vec<Entry>) -> DialPlan {
    let mut b = DialPlanBuilder::new();
    for p in partitions {
        b.partition(p);
    }
    for (name, members) in css {
        b.css(name, names(members));
    }
    b.route_group(RouteGroup {
        name: "pri".into(),
        trunks: names(&["pri-1", "pri-2"]),
    })
    .route_group(RouteGroup {
        name: "sip".into(),
        trunks: names(&["sip-a"]),
    })
    .route_list(RouteList {
        name: "pstn".into(),
        groups: names(&["sip", "pri"]),
    });
    for e in entries {
        b.entry(e);
    }
    b.build().unwrap_or_else(|e| panic!("{e}"))
}

fn winner(p: &DialPlan, css: &str, digits: &str) -> String {
    match p.analyze(css, "2000", digits) {
        Ok(a) => format!("{}@{}", a.pattern, a.partition),
        Err(e) => format!("error: {e}"),
    }
}

#[test]
fn seed_vectors_verify_by_pattern() {
    let with_9 = plan(
        &["pstn"],
        &[("reroute", &["pstn"])],
        vec![Entry {
            called: discard(),
            ..entry("9.XXXX", "pstn", route("pstn"))
        }],
    );
    let a = with_9.analyze("reroute", "2000", "91000").unwrap();
    assert_eq!(a.called, "1000", "the 9 is stripped");
    assert!(
        with_9.analyze("reroute", "2000", "91100").is_ok(),
        "a typo is accepted"
    );
    assert!(with_9.analyze("reroute", "2000", "92000").is_ok());

    let with_8 = plan(
        &["pstn"],
        &[("reroute", &["pstn"])],
        vec![entry("8.XXXX", "pstn", route("pstn"))],
    );
    assert_eq!(
        with_8.analyze("reroute", "2000", "91000"),
        Err(AnalysisError::NoMatch {
            css: "reroute".into(),
            digits: "91000".into()
        })
    );
}

#[test]
fn closest_match_literal_then_fewest_strings() {
    let p = plan(
        &["dn", "pstn"],
        &[("all", &["dn", "pstn"])],
        vec![
            entry("2000", "dn", line("alice")),
            entry("2XXX", "pstn", route("pstn")),
            entry("20XX", "pstn", route("pstn")),
            entry("2!", "pstn", route("pstn")),
        ],
    );
    assert_eq!(winner(&p, "all", "2000"), "2000@dn");
    assert_eq!(winner(&p, "all", "2001"), "20XX@pstn");
    assert_eq!(winner(&p, "all", "2100"), "2XXX@pstn");
    assert_eq!(winner(&p, "all", "21000"), "2!@pstn");
    assert_eq!(
        winner(&p, "all", "2"),
        "error: no pattern in the partitions of calling search space \"all\" matches \"2\""
    );
    let a = p.analyze("all", "2000", "2000").unwrap();
    assert_eq!(a.target, line("alice"));
    assert_eq!(a.route, None);
}

#[test]
fn a_closer_match_in_a_later_partition_beats_order() {
    let p = plan(
        &["first", "second"],
        &[("fs", &["first", "second"])],
        vec![
            entry("2XXX", "first", route("pstn")),
            entry("20XX", "second", route("pstn")),
            entry("9.!", "first", route("pstn")),
            entry("9.XXXX", "second", route("pstn")),
        ],
    );
    assert_eq!(winner(&p, "fs", "2001"), "20XX@second");
    assert_eq!(
        winner(&p, "fs", "91000"),
        "9.XXXX@second",
        "finite beats infinite"
    );
    assert_eq!(winner(&p, "fs", "910000"), "9.!@first");
}

#[test]
fn equal_matches_go_to_the_earlier_partition() {
    let entries = || {
        vec![
            entry("2XXX", "a", route("pstn")),
            entry("2XXX", "b", route("pstn")),
            entry("3000", "a", line("a")),
            entry("3000", "b", line("b")),
            entry(r"\+1!", "a", route("pstn")),
            entry(r"\+1!", "b", route("pstn")),
        ]
    };
    let p = plan(
        &["a", "b"],
        &[("ab", &["a", "b"]), ("ba", &["b", "a"])],
        entries(),
    );
    for (css, first) in [("ab", "a"), ("ba", "b")] {
        assert_eq!(winner(&p, css, "2000"), format!("2XXX@{first}"));
        assert_eq!(winner(&p, css, "3000"), format!("3000@{first}"));
        assert_eq!(winner(&p, css, "+14085551234"), format!(r"\+1!@{first}"));
    }
}

#[test]
fn partition_order_decides_before_pattern_text() {
    // Equally specific (200 strings each); the text order would pick b's pattern.
    let p = plan(
        &["a", "b"],
        &[("ab", &["a", "b"]), ("ba", &["b", "a"])],
        vec![
            entry("2[01]XX", "a", route("pstn")),
            entry("2X[01]X", "b", route("pstn")),
        ],
    );
    assert_eq!(winner(&p, "ab", "2000"), "2[01]XX@a");
    assert_eq!(winner(&p, "ba", "2000"), "2X[01]X@b");
}

#[test]
fn equal_matches_in_one_partition_go_to_the_first_text() {
    // Both match 200 strings; the result must not depend on insertion order.
    for order in [["2X[01]X", "2[01]XX"], ["2[01]XX", "2X[01]X"]] {
        let p = plan(
            &["a"],
            &[("a", &["a"])],
            order.iter().map(|t| entry(t, "a", route("pstn"))).collect(),
        );
        assert_eq!(winner(&p, "a", "2000"), "2X[01]X@a");
    }
}

#[test]
fn partitions_outside_the_css_are_invisible() {
    let p = plan(
        &["dn", "hidden", "pstn"],
        &[("phones", &["dn", "pstn"]), ("lobby", &["dn"])],
        vec![
            entry("2000", "hidden", line("secret")),
            entry("2XXX", "pstn", route("pstn")),
            entry("9.!", "hidden", route("pstn")),
            entry("2001", "dn", line("bob")),
        ],
    );
    assert_eq!(winner(&p, "phones", "2000"), "2XXX@pstn");
    assert!(winner(&p, "phones", "91000").starts_with("error: no pattern"));
    assert!(winner(&p, "lobby", "2000").starts_with("error: no pattern"));
    assert_eq!(winner(&p, "lobby", "2001"), "2001@dn");
    assert_eq!(
        p.analyze("nope", "2000", "2001"),
        Err(AnalysisError::UnknownCss("nope".into()))
    );
}

#[test]
fn infinite_patterns_compare_strings_of_the_dialed_length() {
    let p = plan(
        &["e164"],
        &[("c", &["e164"])],
        vec![
            entry(r"\+!", "e164", route("pstn")),
            entry(r"\+1!", "e164", route("pstn")),
            entry(r"\+44!", "e164", route("pstn")),
        ],
    );
    assert_eq!(winner(&p, "c", "+14085551234"), r"\+1!@e164");
    assert_eq!(winner(&p, "c", "+442071234567"), r"\+44!@e164");
    assert_eq!(winner(&p, "c", "+33123456789"), r"\+!@e164");
}

#[test]
fn predot_variable_length_and_repeats() {
    let p = plan(
        &["p"],
        &[("c", &["p"])],
        vec![
            Entry {
                called: discard(),
                ..entry("9.1!", "p", route("pstn"))
            },
            Entry {
                called: discard(),
                ..entry(r"\+.1!", "p", route("pstn"))
            },
            entry("*?69", "p", line("callback")),
            entry("5[1-3]+#", "p", line("hunt")),
        ],
    );
    let a = p.analyze("c", "2000", "914085551234").unwrap();
    assert_eq!(
        (a.pattern.as_str(), a.called.as_str()),
        ("9.1!", "14085551234")
    );
    let a = p.analyze("c", "2000", "+14085551234").unwrap();
    assert_eq!(a.called, "14085551234");
    // A pattern whose first element is optional is found whichever way the digits start.
    assert_eq!(winner(&p, "c", "69"), "*?69@p");
    assert_eq!(winner(&p, "c", "**69"), "*?69@p");
    assert_eq!(winner(&p, "c", "51231#"), "5[1-3]+#@p");
    assert!(winner(&p, "c", "5#").starts_with("error"));
}

#[test]
fn routes_resolve_to_groups_and_trunks_in_order() {
    let p = plan(
        &["p"],
        &[("c", &["p"])],
        vec![entry("9.!", "p", route("pstn"))],
    );
    let a = p.analyze("c", "2000", "914085551234").unwrap();
    let r = a.route.unwrap();
    assert_eq!(r.route_list, "pstn");
    assert_eq!(
        r.groups.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(),
        ["sip", "pri"]
    );
    assert_eq!(r.trunks().collect::<Vec<_>>(), ["sip-a", "pri-1", "pri-2"]);
}

#[test]
fn blocking_patterns() {
    let p = plan(
        &["p"],
        &[("c", &["p"])],
        vec![
            entry("9.1!", "p", route("pstn")),
            entry("9.1900XXXXXXX", "p", Target::Block),
            entry("9.011!", "p", Target::Block),
        ],
    );
    let e = p.analyze("c", "2000", "919005551234").unwrap_err();
    assert_eq!(
        e,
        AnalysisError::Blocked {
            pattern: "9.1900XXXXXXX".into(),
            partition: "p".into()
        }
    );
    assert!(e.to_string().contains("blocking pattern"), "{e}");
    assert!(p.analyze("c", "2000", "914085551234").is_ok());
    assert!(p.analyze("c", "2000", "9011441234").is_err());
}

#[test]
fn translations_chain_through_their_own_css() {
    let mut to_nine = entry(
        "8.XXXX",
        "xlate",
        Target::Translation {
            css: "outside".into(),
        },
    );
    to_nine.called = Transform {
        discard_predot: true,
        prefix: "9".into(),
        mask: None,
    };
    to_nine.calling = Transform {
        mask: Some("408555XXXX".into()),
        ..Transform::default()
    };
    let mut to_e164 = entry("9.XXXX", "norm", Target::Translation { css: "e164".into() });
    to_e164.called = Transform {
        discard_predot: true,
        prefix: r"+1408555".into(),
        mask: None,
    };
    to_e164.calling = Transform {
        prefix: "+1".into(),
        ..Transform::default()
    };
    let mut out = entry(r"\+1!", "route", route("pstn"));
    out.called = Transform {
        mask: Some("XXXXXXXXXX".into()),
        ..Transform::default()
    };
    let p = plan(
        &["xlate", "norm", "route"],
        &[
            ("phones", &["xlate"]),
            ("outside", &["norm"]),
            ("e164", &["route"]),
        ],
        vec![to_nine, to_e164, out],
    );
    let a = p.analyze("phones", "2000", "81234").unwrap();
    assert_eq!(a.pattern, r"\+1!");
    assert_eq!(a.partition, "route");
    assert_eq!(a.called, "4085551234");
    assert_eq!(a.calling, "+14085552000");
    let steps: Vec<_> = a
        .translations
        .iter()
        .map(|s| {
            (
                s.pattern.as_str(),
                s.partition.as_str(),
                s.css.as_str(),
                s.called_before.as_str(),
                s.called_after.as_str(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("8.XXXX", "xlate", "outside", "81234", "91234"),
            ("9.XXXX", "norm", "e164", "91234", "+14085551234"),
        ]
    );
    // The translation's CSS decides what is visible next: "phones" alone cannot reach the route.
    assert!(p.analyze("phones", "2000", "+14085551234").is_err());
    let no_route = p.analyze("outside", "2000", "812").unwrap_err();
    assert!(matches!(no_route, AnalysisError::NoMatch { .. }));
}

/// A chain `1 -> 2 -> ... -> n` of translations, each masking its digit to the next.
fn chain(n: u8) -> DialPlan {
    let mut entries: Vec<Entry> = (1..=n)
        .map(|d| {
            let mut e = entry(&d.to_string(), "p", Target::Translation { css: "c".into() });
            e.called.mask = Some(((d + 1) % 10).to_string());
            e
        })
        .collect();
    entries.push(entry(&((n + 1) % 10).to_string(), "p", line("end")));
    plan(&["p"], &[("c", &["p"])], entries)
}

#[test]
fn at_most_eight_translations() {
    let eight = chain(8).analyze("c", "x", "1").unwrap();
    assert_eq!(eight.translations.len(), MAX_TRANSLATIONS);
    assert_eq!(eight.called, "9");
    assert_eq!(eight.target, line("end"));
    assert_eq!(
        chain(9).analyze("c", "x", "1"),
        Err(AnalysisError::TranslationLoop {
            pattern: "9".into()
        })
    );
}

#[test]
fn translation_loops_are_stopped() {
    let mut ping = entry("1000", "p", Target::Translation { css: "c".into() });
    ping.called.mask = Some("2000".into());
    let mut pong = entry("2XXX", "p", Target::Translation { css: "c".into() });
    pong.called.mask = Some("1000".into());
    let p = plan(&["p"], &[("c", &["p"])], vec![ping, pong]);
    let e = p.analyze("c", "x", "1000").unwrap_err();
    assert_eq!(
        e,
        AnalysisError::TranslationLoop {
            pattern: "1000".into()
        }
    );
    assert!(e.to_string().starts_with("translation loop"), "{e}");

    let selfish = entry("!", "p", Target::Translation { css: "c".into() });
    let p = plan(&["p"], &[("c", &["p"])], vec![selfish]);
    assert!(matches!(
        p.analyze("c", "x", "5"),
        Err(AnalysisError::TranslationLoop { .. })
    ));
}

#[test]
fn invalid_digits() {
    let p = plan(&["p"], &[("c", &["p"])], vec![entry("!", "p", line("d"))]);
    for bad in ["", "12a", "1 2", "２", &"1".repeat(MAX_DIALED_LEN_PLUS_ONE)] {
        assert_eq!(
            p.analyze("c", "x", bad),
            Err(AnalysisError::InvalidDigits(bad.to_owned())),
            "{bad:?}"
        );
    }
    assert!(p
        .analyze("c", "x", &"1".repeat(crate::MAX_DIALED_LEN))
        .is_ok());
    // A translation that produces nothing dialable reports the digits it produced.
    let mut to_nothing = entry("9.", "p", Target::Translation { css: "c".into() });
    to_nothing.called = discard();
    let p = plan(&["p"], &[("c", &["p"])], vec![to_nothing]);
    assert_eq!(
        p.analyze("c", "x", "9"),
        Err(AnalysisError::InvalidDigits(String::new()))
    );
}

const MAX_DIALED_LEN_PLUS_ONE: usize = crate::MAX_DIALED_LEN + 1;

#[test]
fn results_serialize_for_the_dialed_number_analyzer() {
    let p = plan(
        &["p"],
        &[("c", &["p"])],
        vec![Entry {
            called: discard(),
            ..entry("9.XXXX", "p", route("pstn"))
        }],
    );
    let a = p.analyze("c", "2000", "91000").unwrap();
    let json = serde_json::to_value(&a).unwrap();
    assert_eq!(json["pattern"], "9.XXXX");
    assert_eq!(json["target"]["kind"], "route");
    assert_eq!(json["called"], "1000");
    assert_eq!(json["route"]["groups"][0]["trunks"][0], "sip-a");
    assert_eq!(json["translations"], serde_json::json!([]));
    let e = p.analyze("c", "2000", "81000").unwrap_err();
    assert_eq!(
        serde_json::to_value(&e).unwrap(),
        serde_json::json!({"error": "no_match", "detail": {"css": "c", "digits": "81000"}})
    );
    assert_eq!(
        serde_json::to_value(AnalysisError::UnknownCss("x".into())).unwrap(),
        serde_json::json!({"error": "unknown_css", "detail": "x"})
    );
}
