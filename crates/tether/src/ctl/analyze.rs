//! `tether ctl analyze`: the Dialed Number Analyzer (`POST /api/v1/analyze`) with its answer as
//! FIELD VALUE lines: what matched, the numbers after each transformation, and the route list,
//! groups and trunks in hunt order — or why nothing matched.

use serde_json::{json, Value};

use super::args::AnalyzeArgs;
use super::error::CtlError;
use super::table::{cell, Table};
use super::{emit, Ctx};
use crate::api::BASE;

pub fn run(ctx: &Ctx, a: &AnalyzeArgs) -> Result<(), CtlError> {
    let mut body = json!({"digits": a.digits, "reroute": a.reroute});
    if let Some(css) = &a.css {
        body["css"] = json!(css);
    }
    if let Some(device) = &a.device {
        body["device"] = json!(device);
    }
    if let Some(calling) = &a.calling {
        body["calling"] = json!(calling);
    }
    let v = ctx
        .client
        .send_json("POST", &format!("{BASE}/analyze"), &body)?;
    if ctx.json {
        emit(&format!("{v:#}\n"));
    } else {
        emit(&render(&v).render());
    }
    Ok(())
}

fn render(v: &Value) -> Table {
    let s = |k: &str| cell(v.get(k));
    let mut t = Table::bare();
    if v.get("device").is_some_and(|d| !d.is_null()) {
        t.push(["device".to_owned(), s("device")]);
    }
    t.push(["css".to_owned(), s("css")]);
    if v.get("reroute").and_then(Value::as_bool) == Some(true) {
        t.push(["reroute".into(), "true (dial rules applied)".to_owned()]);
    }
    t.push(["dialed".to_owned(), s("dialed")]);
    if v.get("digits") != v.get("dialed") {
        t.push(["digits".to_owned(), s("digits")]);
    }
    if v.get("matched").and_then(Value::as_bool) != Some(true) {
        t.push(["matched".into(), "no".to_owned()]);
        t.push(["reason".to_owned(), s("message")]);
        return t;
    }
    t.push(["matched".into(), "yes".to_owned()]);
    t.push(["pattern".to_owned(), s("pattern")]);
    t.push(["partition".to_owned(), s("partition")]);
    t.push(["target".to_owned(), target(v.get("target"))]);
    for step in v
        .get("translations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let g = |k: &str| cell(step.get(k));
        t.push([
            "translation".to_owned(),
            format!(
                "{} in {}: {} -> {}, then through {}",
                g("pattern"),
                g("partition"),
                g("called_before"),
                g("called_after"),
                g("css")
            ),
        ]);
    }
    t.push(["called".to_owned(), s("called")]);
    t.push([
        "calling".to_owned(),
        format!("{} -> {}", s("calling_before"), s("calling")),
    ]);
    if let Some(route) = v.get("route").filter(|r| !r.is_null()) {
        t.push(["route list".to_owned(), cell(route.get("route_list"))]);
        for g in route
            .get("groups")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            t.push([
                "route group".to_owned(),
                format!("{} ({})", cell(g.get("name")), cell(g.get("trunks"))),
            ]);
        }
    }
    t.push(["trunks".to_owned(), s("trunks")]);
    t.push(["reachable".to_owned(), s("reachable")]);
    t
}

/// `route PSTN-RL`, `line on CTRIDalice`, `block`.
fn target(t: Option<&Value>) -> String {
    let Some(t) = t else {
        return "-".into();
    };
    let kind = cell(t.get("kind"));
    let detail: Vec<String> = t
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| *k != "kind")
        .map(|(k, v)| format!("{k} {}", cell(Some(v))))
        .collect();
    if detail.is_empty() {
        kind
    } else {
        format!("{kind}: {}", detail.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_match_names_pattern_route_and_trunks() {
        let v = json!({"matched": true, "reachable": true, "css": "Internal-CSS",
            "device": "CTRIDalice", "dialed": "91234", "digits": "91234",
            "calling_before": "2000", "reroute": false, "pattern": "9.!", "partition": "PSTN",
            "target": {"kind": "route", "route_list": "PSTN-RL"}, "called": "1234",
            "calling": "2000", "translations": [],
            "route": {"route_list": "PSTN-RL", "groups": [{"name": "PSTN-RG", "trunks": ["pstn-sim-out"]}]},
            "trunks": ["pstn-sim-out"]});
        assert_eq!(
            render(&v).render(),
            "device       CTRIDalice\n\
             css          Internal-CSS\n\
             dialed       91234\n\
             matched      yes\n\
             pattern      9.!\n\
             partition    PSTN\n\
             target       route: route_list PSTN-RL\n\
             called       1234\n\
             calling      2000 -> 2000\n\
             route list   PSTN-RL\n\
             route group  PSTN-RG (pstn-sim-out)\n\
             trunks       pstn-sim-out\n\
             reachable    true\n"
        );
    }

    #[test]
    fn no_match_gives_the_reason() {
        let v = json!({"matched": false, "reachable": false, "css": "Reroute-CSS",
            "dialed": "2000", "digits": "2000", "reroute": false, "device": null,
            "reason": {"error": "no_match"}, "message": "no pattern matches \"2000\""});
        let out = render(&v).render();
        assert!(out.contains("matched  no\n"), "{out}");
        assert!(
            out.contains("reason   no pattern matches \"2000\""),
            "{out}"
        );
        assert!(!out.contains("device"), "{out}");
    }
}
