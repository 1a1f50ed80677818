//! RFC 4475 torture messages against their expected outcome.
//!
//! Walks `../shared/conformance/rfc4475/` (or `TETHER_CONFORMANCE_DIR`), and for every row of
//! MANIFEST.tsv parses the message, runs UAS admission on requests, and compares the outcome with
//! the expectation below. Valid messages must parse and their typed accessors must return what the
//! RFC says. With `CI` set, a missing corpus fails the test instead of skipping it.

// One arm per file, each a list of checks, reads better than match guards.
#![allow(clippy::collapsible_match)]

use std::collections::HashMap;
use std::path::PathBuf;
use tether_sip::admission::UasPolicy;
use tether_sip::headers::ContactValue;
use tether_sip::{HeaderName, Message, Method, Scheme, Uri};

#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    /// Parsed; a request passed admission (or it is a response).
    Accepted,
    /// Answered with this status (parse error or admission refusal).
    Rejected(u16),
    /// Dropped silently (malformed response).
    Dropped,
}

fn corpus_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("TETHER_CONFORMANCE_DIR") {
        Some(d) => PathBuf::from(d),
        None => {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/rfc4475")
        }
    };
    if dir.join("MANIFEST.tsv").is_file() {
        Some(dir)
    } else {
        assert!(
            std::env::var_os("CI").is_none(),
            "conformance corpus missing at {} (CI is set)",
            dir.display()
        );
        eprintln!(
            "skipping: conformance corpus not found at {}",
            dir.display()
        );
        None
    }
}

fn outcome(bytes: &[u8]) -> (Outcome, Option<Message>) {
    match Message::parse(bytes.to_vec()) {
        Err(e) => match e.response_status() {
            Some((code, _)) => (Outcome::Rejected(code), None),
            None => (Outcome::Dropped, None),
        },
        Ok(m) if m.is_response() => (Outcome::Accepted, Some(m)),
        Ok(m) => match UasPolicy::default().check(&m) {
            Ok(()) => (Outcome::Accepted, Some(m)),
            Err(r) => (Outcome::Rejected(r.status().0), Some(m)),
        },
    }
}

/// Acceptable outcomes per file (the first is what the RFC prefers).
fn expectations() -> HashMap<&'static str, Vec<Outcome>> {
    use Outcome::*;
    let mut m = HashMap::new();
    for f in [
        "wsinv.dat",
        "esc01.dat",
        "escnull.dat",
        "lwsdisp.dat",
        "longreq.dat",
        "dblreq.dat",
        "semiuri.dat",
        "transports.dat",
        "mpart01.dat",
        "unreason.dat",
        "noreason.dat",
        "badbranch.dat",
        "unksm2.dat",
        "regaut01.dat",
        "bcast.dat",
        "zeromf.dat",
        "cparam01.dat",
        "cparam02.dat",
        "regescrt.dat",
        "inv2543.dat",
    ] {
        m.insert(f, vec![Accepted]);
    }
    for (f, code) in [
        ("intmeth.dat", 501),
        ("esc02.dat", 501),
        ("unkscm.dat", 416),
        ("novelsc.dat", 416),
        ("bext01.dat", 420),
        ("invut.dat", 415),
        ("badinv01.dat", 400),
        ("clerr.dat", 400),
        ("ncl.dat", 400),
        ("scalar02.dat", 400),
        ("quotbal.dat", 400),
        ("ltgtruri.dat", 400),
        ("lwsruri.dat", 400),
        ("lwsstart.dat", 400),
        ("trws.dat", 400),
        ("escruri.dat", 400),
        ("regbadct.dat", 400),
        ("badaspec.dat", 400),
        ("baddn.dat", 400),
        ("badvers.dat", 505),
        ("mismatch01.dat", 400),
        ("insuf.dat", 400),
        ("multi01.dat", 400),
        ("mcl01.dat", 400),
    ] {
        m.insert(f, vec![Rejected(code)]);
    }
    m.insert("sdp01.dat", vec![Rejected(406), Rejected(400)]);
    m.insert("mismatch02.dat", vec![Rejected(501), Rejected(400)]);
    // The Date header does not matter to Tether, so it is ignored (the RFC allows either).
    m.insert("baddate.dat", vec![Accepted, Rejected(400)]);
    m.insert("scalarlg.dat", vec![Dropped]);
    m.insert("bigcode.dat", vec![Dropped]);
    m.insert("test.dat", vec![Rejected(400), Dropped]);
    m
}

#[test]
fn rfc4475_manifest() {
    let Some(dir) = corpus_dir() else { return };
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).expect("manifest readable");
    let expect = expectations();
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in manifest.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (file, class) = (cols[0], cols[1]);
        let bytes = std::fs::read(dir.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let (got, msg) = outcome(&bytes);
        let Some(ok) = expect.get(file) else {
            failures.push(format!(
                "{file}: no expectation in the test for a {class} message (got {got:?})"
            ));
            continue;
        };
        if !ok.contains(&got) {
            failures.push(format!(
                "{file} ({class}): got {got:?}, expected one of {ok:?}"
            ));
        }
        if class == "valid" && msg.is_none() {
            failures.push(format!("{file}: valid message did not parse"));
        }
        if class == "invalid" && got == Outcome::Accepted && file != "baddate.dat" {
            failures.push(format!("{file}: invalid message accepted"));
        }
        if let Some(m) = &msg {
            if let Err(e) = check_accessors(file, m) {
                failures.push(format!("{file}: {e}"));
            }
        }
        checked += 1;
    }
    assert!(
        failures.is_empty(),
        "conformance failures:\n{}",
        failures.join("\n")
    );
    assert!(checked >= 50, "only {checked} messages checked");
}

fn user(u: &Uri) -> Vec<u8> {
    u.user_decoded().map(|c| c.into_owned()).unwrap_or_default()
}

fn contact_list(m: &Message) -> Vec<tether_sip::headers::NameAddr> {
    match m.contacts() {
        Ok(Some(ContactValue::List(l))) => l,
        other => panic!("contacts: {other:?}"),
    }
}

/// What RFC 4475 says each valid message means.
fn check_accessors(file: &str, m: &Message) -> Result<(), String> {
    let fail = |what: &str| Err(format!("accessor check failed: {what}"));
    match file {
        "wsinv.dat" => {
            if m.to_tag() != Some("1918181833n") || m.from_tag() != Some("98asjd8") {
                return fail("tags");
            }
            if m.from_hdr().and_then(|f| f.display_name()).as_deref() != Some("J Rosenberg \\\"") {
                return fail("display name");
            }
            if m.max_forwards() != Ok(Some(68))
                || m.cseq().map(|c| (c.seq, c.method.clone())) != Some((9, Method::Invite))
            {
                return fail("Max-Forwards / CSeq");
            }
            let vias = m.vias().map_err(|e| e.to_string())?;
            let branches: Vec<_> = vias.iter().map(|v| v.branch().unwrap_or("")).collect();
            if branches != ["390skdjuw", "z9hG4bK9ikj8", "z9hG4bK30239"] {
                return fail("vias");
            }
            let c = contact_list(m);
            if c.len() != 1
                || c[0].params.get("q") != Some(Some("0.33"))
                || c[0].params.get("newparam") != Some(Some("newvalue"))
            {
                return fail("contact params");
            }
            if m.routes().map(|r| r[0].uri.param("lr").is_some()) != Ok(true)
                || m.body().len() != 150
            {
                return fail("route / body");
            }
            if m.header_value(&HeaderName::from_wire("NewFangledHeader"))
                != Some("newfangled value\r\n continued newfangled value")
            {
                return fail("folded unknown header");
            }
        }
        "intmeth.dat" => {
            if m.method().map(|x| x.as_str()) != Some("!interesting-Method0123456789_*+`.%indeed'~")
            {
                return fail("extension method");
            }
            if m.call_id() != Some("intmeth.word%ZK-!.*_+'@word`~)(><:\\/\"][?}{") {
                return fail("call-id");
            }
        }
        "esc01.dat" => {
            if user(m.request_uri().unwrap()) != b"sips:user@example.com" {
                return fail("request-uri user");
            }
            if user(&m.to_hdr().unwrap().uri) != b"user"
                || user(&m.from_hdr().unwrap().uri) != b"I have spaces"
            {
                return fail("To/From users");
            }
            let c = &contact_list(m)[0].uri;
            let same = Uri::parse("sip:caller@host5.example.net;lr;name=value%2541").unwrap();
            let not_same = Uri::parse("sip:caller@host5.example.net;lr;name=valueA").unwrap();
            if !c.equivalent(&same) || c.equivalent(&not_same) {
                return fail("escape equivalence");
            }
        }
        "escnull.dat" => {
            let c = contact_list(m);
            if c.len() != 2
                || user(&c[0].uri) != b"\0"
                || user(&c[1].uri) != b"\0\0"
                || c[0].uri.equivalent(&c[1].uri)
            {
                return fail("two distinct contacts");
            }
            if user(&m.to_hdr().unwrap().uri) != b"null-\0-null" {
                return fail("escaped null kept");
            }
        }
        "esc02.dat" => {
            if m.method() == Some(&Method::Register) || contact_list(m).len() != 2 {
                return fail("RE%47IST%45R is not REGISTER; two contacts");
            }
        }
        "lwsdisp.dat" => {
            if m.from_hdr().and_then(|f| f.display_name()).as_deref() != Some("caller") {
                return fail("display name without LWS");
            }
        }
        "longreq.dat" => {
            if m.vias().map(|v| v.len()) != Ok(34) || m.from_tag().map(str::len) != Some(155) {
                return fail("long values");
            }
        }
        "dblreq.dat" => {
            if m.method() != Some(&Method::Register) || !m.body().is_empty() {
                return fail("REGISTER without body");
            }
            if String::from_utf8_lossy(&m.to_bytes()).contains("INVITE") {
                return fail("trailing octets forwarded");
            }
        }
        "semiuri.dat" => {
            let u = m.request_uri().unwrap();
            if user(u) != b"user;par=u@example.net" || u.host() != Some("example.com") {
                return fail("user part with semicolon");
            }
        }
        "transports.dat" => {
            let t: Vec<String> = m
                .vias()
                .unwrap()
                .iter()
                .map(|v| v.transport.to_string())
                .collect();
            if t != ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"] {
                return fail("transports");
            }
        }
        "mpart01.dat" => {
            let b = m.body();
            let declared: usize = m
                .header_value(&HeaderName::ContentLength)
                .unwrap()
                .parse()
                .unwrap();
            let bare_cr = b.windows(2).any(|w| w[0] == b'\r' && w[1] != b'\n');
            let bare_lf = b.windows(2).any(|w| w[0] != b'\r' && w[1] == b'\n');
            if b.len() != declared || !b.contains(&0) || !(bare_cr || bare_lf) {
                return fail("binary body kept");
            }
            if !m.content_type().unwrap().unwrap().is("multipart", "mixed") {
                return fail("content type");
            }
        }
        "unreason.dat" => {
            if m.status() != Some(200)
                || !m
                    .reason_phrase()
                    .is_some_and(|r| r.contains("기") || !r.is_ascii())
            {
                return fail("UTF-8 reason phrase");
            }
        }
        "noreason.dat" => {
            if m.status() != Some(100) || m.reason_phrase() != Some("") {
                return fail("empty reason phrase");
            }
        }
        "badbranch.dat" => {
            if m.top_via().and_then(|v| v.branch()) != Some("z9hG4bK") {
                return fail("bare cookie branch");
            }
        }
        "unkscm.dat" | "novelsc.dat" => {
            if m.request_uri().map(Uri::scheme) != Some(Scheme::Other) {
                return fail("unknown scheme kept");
            }
        }
        "unksm2.dat" => {
            if m.to_hdr().unwrap().uri.scheme() != Scheme::Other
                || m.to_hdr().unwrap().uri.as_str() != "isbn:2983792873"
            {
                return fail("isbn To");
            }
        }
        "bext01.dat" => {
            let refusal = UasPolicy::default().check(m).unwrap_err();
            let r = refusal.response(m, Some("x"));
            if r.header_value(&HeaderName::Unsupported)
                != Some("nothingSupportsThis, nothingSupportsThisEither")
            {
                return fail("Unsupported lists the tags");
            }
        }
        "invut.dat" => {
            let r = UasPolicy::default()
                .check(m)
                .unwrap_err()
                .response(m, Some("x"));
            if r.header(&HeaderName::Accept).is_none() {
                return fail("415 carries Accept");
            }
        }
        "regaut01.dat" => {
            let v = m
                .header_value(&HeaderName::Authorization)
                .ok_or("no Authorization")?;
            if !matches!(
                tether_sip::auth::Credentials::parse(v),
                Err(tether_sip::auth::AuthError::UnsupportedScheme { .. })
            ) {
                return fail("unknown auth scheme");
            }
        }
        "bcast.dat" => {
            if m.vias().unwrap().len() != 2 {
                return fail("two vias");
            }
        }
        "zeromf.dat" => {
            if m.max_forwards() != Ok(Some(0)) {
                return fail("max-forwards 0");
            }
        }
        "cparam01.dat" => {
            let c = &contact_list(m)[0];
            if !c.params.contains("unknownparam") || c.uri.param("unknownparam").is_some() {
                return fail("contact-param, not url-param");
            }
        }
        "cparam02.dat" => {
            let c = &contact_list(m)[0];
            if c.params.contains("unknownparam") || c.uri.param("unknownparam").is_none() {
                return fail("url-param kept");
            }
        }
        "regescrt.dat" => {
            let c = &contact_list(m)[0];
            if c.uri.headers().collect::<Vec<_>>() != [("Route", "%3Csip:sip.example.com%3E")] {
                return fail("escaped Route kept in contact URI");
            }
        }
        "inv2543.dat" => {
            if m.top_via().unwrap().branch().is_some()
                || m.from_tag().is_some()
                || m.body().is_empty()
            {
                return fail("RFC 2543 INVITE");
            }
        }
        _ => {}
    }
    // Every valid message re-serializes to what was parsed.
    let again = Message::parse(m.to_bytes()).map_err(|e| format!("re-parse: {e}"))?;
    if again != *m {
        return Err("re-parse differs".into());
    }
    Ok(())
}
