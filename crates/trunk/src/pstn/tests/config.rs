//! The dial plan: the default table, patterns, TOML, bad plans, dialed numbers.

use super::*;
use crate::pstn::plan::{Plan, Script};

fn script(plan: &Plan, number: &str) -> Script {
    plan.lookup(number).script.clone()
}

#[test]
fn default_plan_table() {
    let plan = Plan::new(&PstnConfig::default()).unwrap();
    let answer = |ms_: u64, kind| Script::Answer {
        after: ms(ms_),
        kind,
    };
    assert_eq!(script(&plan, "14085550101"), answer(0, CallKind::Normal));
    assert_eq!(script(&plan, "14085550299"), answer(2000, CallKind::Normal));
    assert!(
        matches!(script(&plan, "0300"), Script::Reject(r) if r.status == 486 && r.reason.cause.value() == 17)
    );
    assert_eq!(script(&plan, "5550400"), Script::Ring);
    assert!(
        matches!(script(&plan, "0599"), Script::Reject(r) if r.status == 404 && r.reason.cause.value() == 1)
    );
    assert_eq!(script(&plan, "0600"), answer(500, CallKind::Voicemail));
    assert_eq!(script(&plan, "0700"), answer(0, CallKind::Echo));
    assert!(
        matches!(script(&plan, "0999"), Script::Reject(r) if r.status == 503 && r.reason.cause.value() == 34)
    );
    assert_eq!(script(&plan, "0800"), answer(1000, CallKind::Normal));
    // The pattern is on the last digits: 0101 in the middle does not count.
    assert_eq!(script(&plan, "01015"), answer(1000, CallKind::Normal));
    // x is a digit, not * or #.
    assert_eq!(script(&plan, "01*#"), answer(1000, CallKind::Normal));
    assert_eq!(plan.lookup("0101").pattern.as_deref(), Some("01xx"));
    assert_eq!(plan.lookup("1234").pattern, None);
}

#[test]
fn a_plan_in_toml() {
    let text = r#"
        first_rtp_port = 30000
        otherwise = { kind = "reject", status = 404 }

        [[rules]]
        pattern = "4085550100"
        behavior = { kind = "answer", after_ms = 3000 }
        hangup_after_ms = 60000

        [[rules]]
        pattern = "*x#"
        behavior = { kind = "reject", status = 480 }

        [[rules]]
        pattern = "X"
        behavior = { kind = "ring" }
    "#;
    let cfg: PstnConfig = toml::from_str(text).unwrap();
    assert_eq!(cfg.rules.len(), 3);
    assert_eq!(cfg.rules[0].hangup_after_ms, Some(60_000));
    let plan = Plan::new(&cfg).unwrap();
    assert_eq!(plan.first_rtp_port, 30000);
    let a = plan.lookup("14085550100");
    assert_eq!(
        a.script,
        Script::Answer {
            after: ms(3000),
            kind: CallKind::Normal
        }
    );
    assert_eq!(a.hangup_after, Some(ms(60_000)));
    // No cause given: the RFC 3398 cause of 480 (18).
    assert!(
        matches!(script(&plan, "12*5#"), Script::Reject(r) if r.status == 480 && r.reason.cause.value() == 18)
    );
    assert_eq!(script(&plan, "77"), Script::Ring);
    assert!(matches!(script(&plan, "7#"), Script::Reject(r) if r.status == 404));

    // An empty file is the default plan.
    let cfg: PstnConfig = toml::from_str("").unwrap();
    assert_eq!(cfg, PstnConfig::default());
    // The default plan survives a TOML round trip.
    let back: PstnConfig = toml::from_str(&toml::to_string(&cfg).unwrap()).unwrap();
    assert_eq!(back, cfg);
}

#[test]
fn bad_plans_are_refused() {
    assert!(toml::from_str::<PstnConfig>("colour = 1").is_err());
    let unknown_kind = "[[rules]]\npattern = \"1\"\nbehavior = { kind = \"explode\" }";
    assert!(toml::from_str::<PstnConfig>(unknown_kind).is_err());
    for behavior in [
        "{ kind = \"ring\", after_ms = 5 }",
        "{ kind = \"echo\", status = 5 }",
        "{ kind = \"answer\", after = 5 }",
        "{ kind = \"reject\", status = 486, casue = 17 }",
    ] {
        let text = format!("[[rules]]\npattern = \"1\"\nbehavior = {behavior}");
        assert!(toml::from_str::<PstnConfig>(&text).is_err(), "{behavior}");
    }

    let with_rule = |pattern: &str, behavior: Behavior| PstnConfig {
        rules: vec![Rule::new(pattern, behavior)],
        ..PstnConfig::default()
    };
    let err = |cfg: PstnConfig| PstnSimulator::new(cfg, local(), 1).unwrap_err();
    assert!(matches!(
        err(with_rule("", Behavior::Ring {})),
        PstnConfigError::BadPattern { .. }
    ));
    assert!(matches!(
        err(with_rule("01y", Behavior::Ring {})),
        PstnConfigError::BadPattern { .. }
    ));
    assert_eq!(
        err(with_rule(
            "1",
            Behavior::Reject {
                status: 200,
                cause: None
            }
        )),
        PstnConfigError::BadStatus {
            pattern: "1".into(),
            status: 200
        }
    );
    assert_eq!(
        err(with_rule(
            "1",
            Behavior::Reject {
                status: 486,
                cause: Some(0)
            }
        )),
        PstnConfigError::BadCause {
            pattern: "1".into(),
            cause: 0
        }
    );
    let odd = PstnConfig {
        first_rtp_port: 20001,
        ..PstnConfig::default()
    };
    assert_eq!(err(odd), PstnConfigError::BadRtpPort(20001));
}

#[test]
fn dialed_numbers() {
    let n = |s: &str| dialed_number(&tether_sip::Uri::parse(s).unwrap());
    assert_eq!(n("sip:+14085550101@gw").as_deref(), Some("14085550101"));
    assert_eq!(n("sips:5550101@gw:5061").as_deref(), Some("5550101"));
    assert_eq!(n("tel:+1-408-555-0101").as_deref(), Some("14085550101"));
    assert_eq!(
        n("tel:5550101;phone-context=example.com").as_deref(),
        Some("5550101")
    );
    assert_eq!(n("sip:%2B4085550101@gw").as_deref(), Some("4085550101"));
    assert_eq!(n("sip:*67%23@gw").as_deref(), Some("*67#"));
    assert_eq!(n("sip:alice@gw"), None);
    assert_eq!(n("sip:gw"), None);
    assert_eq!(n("sip:+@gw"), None);
    assert_eq!(n("sip:12a4@gw"), None);
    assert_eq!(n("urn:service:sos"), None);
}
