//! Plain-text tables for `tether ctl`: aligned columns with a header row, the columns chosen
//! per object kind, and the two-column FIELD VALUE view of one object. Rendering only.

use serde_json::Value;
use tether_store::Kind;

/// Rows of cells under optional headers.
#[derive(Debug, Default)]
pub struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new<S: Into<String>>(headers: impl IntoIterator<Item = S>) -> Table {
        Table {
            headers: headers.into_iter().map(Into::into).collect(),
            rows: Vec::new(),
        }
    }

    /// A table without a header row (FIELD VALUE views).
    pub fn bare() -> Table {
        Table::default()
    }

    pub fn push<S: Into<String>>(&mut self, row: impl IntoIterator<Item = S>) {
        self.rows
            .push(row.into_iter().map(|c| clean(&c.into())).collect());
    }

    /// Columns padded to their widest cell and separated by two spaces; no trailing spaces.
    pub fn render(&self) -> String {
        let lines: Vec<&Vec<String>> = std::iter::once(&self.headers)
            .filter(|h| !h.is_empty())
            .chain(&self.rows)
            .collect();
        let columns = lines.iter().map(|l| l.len()).max().unwrap_or(0);
        let mut widths = vec![0usize; columns];
        for line in &lines {
            for (w, cell) in widths.iter_mut().zip(line.iter()) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out = String::new();
        for line in lines {
            let mut text = String::new();
            for (i, cell) in line.iter().enumerate() {
                if i > 0 {
                    text.push_str("  ");
                }
                text.push_str(cell);
                let pad = widths.get(i).copied().unwrap_or(0);
                text.extend(std::iter::repeat_n(
                    ' ',
                    pad.saturating_sub(cell.chars().count()),
                ));
            }
            out.push_str(text.trim_end());
            out.push('\n');
        }
        out
    }
}

/// Control characters (a newline in a description) would break the layout: shown escaped.
fn clean(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_owned();
    }
    s.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().collect()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// One JSON value as a cell: strings as they are, null and "" as `-`, lists joined by commas,
/// nested objects as compact JSON.
pub fn cell(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "-".into(),
        Some(Value::String(s)) if s.is_empty() => "-".into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Array(a)) if a.is_empty() => "-".into(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| match x {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .collect::<Vec<_>>()
            .join(","),
        Some(o @ Value::Object(_)) => o.to_string(),
    }
}

/// The list columns of each kind: (header, field).
pub fn columns(kind: Kind) -> &'static [(&'static str, &'static str)] {
    match kind {
        Kind::User => &[
            ("ID", "id"),
            ("NAME", "name"),
            ("MOBILITY", "mobility_enabled"),
            ("CTI", "cti_enabled"),
            ("MAX_RDS", "max_remote_destinations"),
            ("ADMIN", "admin"),
        ],
        Kind::Partition => &[("NAME", "name"), ("DESCRIPTION", "description")],
        Kind::Css => &[
            ("NAME", "name"),
            ("PARTITIONS", "partitions"),
            ("DESCRIPTION", "description"),
        ],
        Kind::Device => &[
            ("NAME", "name"),
            ("KIND", "kind"),
            ("OWNER", "owner"),
            ("CSS", "css"),
            ("REROUTE_CSS", "reroute_css"),
            ("DESCRIPTION", "description"),
        ],
        Kind::Line => &[
            ("PARTITION", "partition"),
            ("DN", "dn"),
            ("DEVICE", "device"),
            ("POS", "position"),
            ("E164", "e164"),
            ("DISPLAY_NAME", "display_name"),
        ],
        Kind::RemoteDestination => &[
            ("DEVICE", "device"),
            ("NAME", "name"),
            ("NUMBER", "number"),
            ("ACTIVE", "active"),
        ],
        Kind::Trunk => &[
            ("NAME", "name"),
            ("KIND", "kind"),
            ("PEER", "peer"),
            ("CHANNELS", "channels"),
            ("HUNTING", "hunting"),
            ("DID", "did"),
            ("INBOUND_CSS", "inbound_css"),
        ],
        Kind::RouteGroup => &[
            ("NAME", "name"),
            ("DISTRIBUTION", "distribution"),
            ("TRUNKS", "trunks"),
        ],
        Kind::RouteList => &[
            ("NAME", "name"),
            ("GROUPS", "groups"),
            ("DESCRIPTION", "description"),
        ],
        Kind::Pattern => &[
            ("PARTITION", "partition"),
            ("PATTERN", "pattern"),
            ("KIND", "kind"),
            ("ROUTE_LIST", "route_list"),
            ("CSS", "css"),
            ("DESCRIPTION", "description"),
        ],
        Kind::DialRule => &[
            ("NAME", "name"),
            ("BEGINS_WITH", "begins_with"),
            ("DIGITS", "num_digits"),
            ("REMOVE", "digits_to_remove"),
            ("PREFIX", "prefix"),
            ("PRIORITY", "priority"),
        ],
        Kind::Announcement => &[("ID", "id"), ("NAME", "name"), ("FILE", "file")],
    }
}

/// A list of objects of `kind` under its columns.
pub fn objects<'a>(kind: Kind, items: impl IntoIterator<Item = &'a Value>) -> Table {
    let cols = columns(kind);
    let mut t = Table::new(cols.iter().map(|(h, _)| *h));
    for item in items {
        t.push(cols.iter().map(|(_, f)| cell(item.get(*f))));
    }
    t
}

/// One object as FIELD VALUE lines: the key fields first, then the others by name.
pub fn object(kind: Kind, v: &Value) -> Table {
    let mut t = Table::bare();
    let Some(map) = v.as_object() else {
        t.push([cell(Some(v))]);
        return t;
    };
    let keys = kind.key_fields();
    for k in keys {
        t.push([(*k).to_owned(), cell(map.get(*k))]);
    }
    for (k, value) in map {
        if !keys.contains(&k.as_str()) {
            t.push([k.clone(), cell(Some(value))]);
        }
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn aligned_without_trailing_spaces() {
        let mut t = Table::new(["DEVICE", "NAME", "NUMBER", "ACTIVE"]);
        t.push(["CTRIDalice", "JabberRD", "+14157777777", "true"]);
        t.push(["CTRIDalice", "Mobile", "+14155550100", "false"]);
        assert_eq!(
            t.render(),
            "DEVICE      NAME      NUMBER        ACTIVE\n\
             CTRIDalice  JabberRD  +14157777777  true\n\
             CTRIDalice  Mobile    +14155550100  false\n"
        );
        let mut t = Table::new(["A", "B"]);
        t.push(["x", ""]);
        assert_eq!(t.render(), "A  B\nx\n");
    }

    #[test]
    fn cells() {
        assert_eq!(cell(None), "-");
        assert_eq!(cell(Some(&json!(null))), "-");
        assert_eq!(cell(Some(&json!(""))), "-");
        assert_eq!(cell(Some(&json!(["Internal", "PSTN"]))), "Internal,PSTN");
        assert_eq!(cell(Some(&json!(23))), "23");
        assert_eq!(cell(Some(&json!({"prefix": ""}))), r#"{"prefix":""}"#);
        let mut t = Table::bare();
        t.push(["a\nb", "ü"]);
        assert_eq!(t.render(), "a\\nb  ü\n");
    }

    #[test]
    fn columns_name_real_fields() {
        for kind in Kind::ALL {
            let fields = crate::api::objects::fields(kind);
            for (h, f) in columns(kind) {
                assert!(fields.iter().any(|x| x == f), "{kind:?} {h} {f}");
            }
            for k in kind.key_fields() {
                assert!(
                    columns(kind).iter().any(|(_, f)| f == k),
                    "{kind:?} key {k}"
                );
            }
        }
    }

    #[test]
    fn one_object_key_first() {
        let v = json!({"active": true, "device": "D", "name": "N", "number": "1"});
        assert_eq!(
            object(Kind::RemoteDestination, &v).render(),
            "device  D\nname    N\nactive  true\nnumber  1\n"
        );
    }
}
