use super::*;

fn parse(text: &str) -> Result<Config, ConfigError> {
    Config::parse(Path::new("t.toml"), text)
}

#[test]
fn empty_file_is_all_defaults() {
    let c = parse("").expect("empty");
    assert_eq!(c, Config::default());
    assert_eq!(c.database.url, "sqlite://tether.db");
    assert_eq!(c.http.listen.to_string(), "127.0.0.1:8080");
    assert!(c.demo.seed);
    assert_eq!(c.numbering.plan(), NumberingPlan::north_american());
    assert_eq!(
        c.sip.listen_udp,
        vec!["0.0.0.0:5060".parse().expect("addr")]
    );
    assert_eq!(c.sip.listen_tcp, c.sip.listen_udp);
    assert_eq!(c.sip.drain_seconds, 30);
    assert_eq!(c.sip.max_transactions, 1_000_000);
    assert!(c.pstn.enabled);
    assert_eq!(c.pstn.listen.to_string(), "127.0.0.1:5070");
    assert_eq!(c.log.format, LogFormat::Human);
}

#[test]
fn sip_pstn_and_log_sections() {
    let c = parse(
        "[sip]\nlisten_udp = [\"10.0.0.1:5060\", \"[::1]:5060\"]\nlisten_tcp = []\n\
         advertised = \"192.0.2.1:5060\"\ndomain = \"pbx.example.com\"\ndrain_seconds = 5\n\
         max_transactions = 5000\n\
         [pstn]\nenabled = false\nlisten = \"127.0.0.1:6070\"\n[log]\nformat = \"json\"\n",
    )
    .expect("sections");
    assert_eq!(c.sip.listen_udp.len(), 2);
    assert!(c.sip.listen_tcp.is_empty());
    assert_eq!(c.sip.domain.as_deref(), Some("pbx.example.com"));
    assert_eq!(c.sip.drain_seconds, 5);
    assert_eq!(c.sip.max_transactions, 5000);
    assert!(!c.pstn.enabled);
    assert_eq!(c.pstn.listen.port(), 6070);
    assert_eq!(c.log.format, LogFormat::Json);
    let s = parse("[log]\nformat = \"xml\"\n").unwrap_err().to_string();
    assert!(s.contains("line 2") && s.contains("log.format"), "{s}");
    let s = parse("[sip]\nlisten_udp = \"0.0.0.0:5060\"\n")
        .unwrap_err()
        .to_string();
    assert!(s.contains("sip.listen_udp"), "{s}");
}

#[test]
fn pstn_dial_plan() {
    let c = parse(
        "[pstn]\nfirst_rtp_port = 30000\notherwise = { kind = \"reject\", status = 404 }\n\
         no_answer_ms = 60000\n\
         [[pstn.rules]]\npattern = \"12xx\"\nbehavior = { kind = \"answer\", after_ms = 250 }\n\
         hangup_after_ms = 5000\n",
    )
    .expect("plan");
    assert_eq!(c.pstn.rules.len(), 1);
    assert_eq!(c.pstn.plan().first_rtp_port, 30000);
    assert_eq!(c.pstn.plan().no_answer_ms, Some(60000));
    assert_eq!(
        c.pstn.otherwise,
        pstn::Behavior::Reject {
            status: 404,
            cause: None
        }
    );
    // The simulator's default plan, and the demo's 08xx after it.
    let plan = Config::default().pstn.plan();
    let sim = pstn::PstnConfig::default();
    assert_eq!(plan.rules[..sim.rules.len()], sim.rules[..]);
    assert_eq!(plan.rules.len(), sim.rules.len() + 1);
    assert_eq!(plan.rules[sim.rules.len()].pattern, "08xx");
    assert_eq!(plan.rules[sim.rules.len()].hangup_after_ms, Some(2000));
    assert_eq!(
        (plan.otherwise, plan.first_rtp_port, plan.no_answer_ms),
        (sim.otherwise, sim.first_rtp_port, sim.no_answer_ms)
    );
    assert_eq!(parse("[pstn]\n").expect("empty").pstn, Pstn::default());
    let s = parse("[pstn]\n\n[[pstn.rules]]\npattern = \"12zz\"\nbehavior = { kind = \"ring\" }\n")
        .unwrap_err()
        .to_string();
    assert!(s.contains("line 4") && s.contains("key pstn.rules"), "{s}");
    let s = parse("[pstn]\nfirst_rtp_port = 3\n")
        .unwrap_err()
        .to_string();
    assert!(
        s.contains("line 2") && s.contains("pstn.first_rtp_port"),
        "{s}"
    );
    let s = parse("[pstn]\notherwise = { kind = \"ring\", after_ms = 1 }\n")
        .unwrap_err()
        .to_string();
    assert!(s.contains("line 2") && s.contains("pstn.otherwise"), "{s}");
}

#[test]
fn advertised_address() {
    let bound: Vec<SocketAddr> = vec!["0.0.0.0:5062".parse().expect("a")];
    let sip = Sip::default();
    assert_eq!(
        sip.advertised_or(&bound).map(|a| a.to_string()).as_deref(),
        Some("127.0.0.1:5062")
    );
    let v6: Vec<SocketAddr> = vec!["[::]:5060".parse().expect("a")];
    assert_eq!(
        sip.advertised_or(&v6).map(|a| a.to_string()).as_deref(),
        Some("[::1]:5060")
    );
    let fixed = Sip {
        advertised: Some("192.0.2.7:5060".parse().expect("a")),
        ..Sip::default()
    };
    assert_eq!(fixed.advertised_or(&bound), fixed.advertised);
    assert_eq!(sip.advertised_or(&[]), None);
}

/// The annotated example at the repository root stays valid and documents every section.
#[test]
fn example_file_parses() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tether.example.toml");
    let text = std::fs::read_to_string(&path).expect("tether.example.toml at the repo root");
    let c = Config::parse(&path, &text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(c.sip.drain_seconds, 30);
    for section in [
        "[database]",
        "[http]",
        "[admin]",
        "[numbering]",
        "[demo]",
        "[sip]",
        "[pstn]",
        "[media]",
        "[cti]",
        "[log]",
    ] {
        assert!(text.contains(section), "{section} is documented");
    }
}

#[test]
fn every_key() {
    let c = parse(
        "[database]\nurl = \"postgres://x/y\"\n[http]\nlisten = \"0.0.0.0:9000\"\n\
         [admin]\ntoken = \"0123456789abcdef\"\n[numbering]\ncountry_code = \"44\"\n\
         national_number_length = 9\n[demo]\nseed = false\n",
    )
    .expect("full");
    assert_eq!(c.database.url, "postgres://x/y");
    assert_eq!(c.http.listen.port(), 9000);
    assert_eq!(
        c.admin.token.as_ref().map(AdminToken::as_str),
        Some("0123456789abcdef")
    );
    assert_eq!(c.numbering.country_code, "44");
    assert_eq!(c.numbering.trunk_prefix, "1");
    assert_eq!(c.numbering.national_number_length, 9);
    assert!(!c.demo.seed);
}

#[test]
fn unknown_key_names_line_and_key() {
    let e = parse("[http]\n\nlisen = \"127.0.0.1:1\"\n").unwrap_err();
    let s = e.to_string();
    assert!(s.contains("t.toml"), "{s}");
    assert!(s.contains("line 3"), "{s}");
    assert!(s.contains("key http.lisen"), "{s}");
}

#[test]
fn bad_value_names_line_and_key() {
    let e = parse("[demo]\nseed = true\n[http]\nlisten = \"nowhere\"\n").unwrap_err();
    let s = e.to_string();
    assert!(s.contains("line 4"), "{s}");
    assert!(s.contains("key http.listen"), "{s}");
    let e = parse("[admin]\ntoken = \"short\"\n").unwrap_err();
    let s = e.to_string();
    assert!(s.contains("line 2") && s.contains("admin.token"), "{s}");
    assert!(s.contains("at least 16"), "{s}");
}

#[test]
fn unknown_table_and_syntax_error() {
    let s = parse("[htp]\nlisten = 1\n").unwrap_err().to_string();
    assert!(s.contains("line 1") && s.contains("key htp"), "{s}");
    let s = parse("[http]\nlisten = \n").unwrap_err().to_string();
    assert!(s.contains("line 2"), "{s}");
}

#[test]
fn columns_count_characters() {
    assert_eq!(line_column("ab\nc€d", 7), (2, 3));
    assert_eq!(line_column("x", 99), (1, 2));
}

#[test]
fn cti_heartbeat_is_checked_with_its_line() {
    let c = parse("[cti]\nheartbeat_seconds = 5\n").expect("cti");
    assert_eq!(c.cti.heartbeat_seconds, 5);
    assert_eq!(Config::default().cti.heartbeat_seconds, 15);
    let s = parse("[demo]\nseed = true\n[cti]\nheartbeat_seconds = 0\n")
        .unwrap_err()
        .to_string();
    assert!(
        s.contains("line 4") && s.contains("cti.heartbeat_seconds"),
        "{s}"
    );
}
