//! `tether ctl rd`: remote destinations through a device, the way self-care clients and
//! administrators think of them (`/api/v1/devices/{device}/remote-destinations`). `activate`
//! is several PUTs in a row, since the API has no batch endpoint.

use serde_json::{json, Value};
use tether_store::Kind;

use super::args::RdCommand;
use super::error::CtlError;
use super::{emit, table, Ctx};
use crate::api::{encode_segment, BASE};

pub fn run(ctx: &Ctx, command: &RdCommand) -> Result<(), CtlError> {
    match command {
        RdCommand::Add {
            device,
            name,
            number,
            active,
        } => {
            let mut body = json!({"name": name, "number": number});
            if *active {
                body["active"] = Value::Bool(true);
            }
            let v = ctx.client.send_json("POST", &device_path(device), &body)?;
            show(ctx, std::slice::from_ref(&v), &v);
            Ok(())
        }
        RdCommand::Activate { device, name } => activate(ctx, device, name),
    }
}

fn device_path(device: &str) -> String {
    format!(
        "{BASE}/devices/{}/remote-destinations",
        encode_segment(device)
    )
}

fn item_path(device: &str, name: &str) -> String {
    format!("{}/{}", device_path(device), encode_segment(name))
}

/// Active on `name` first (so the device never has no active RD), then inactive on every
/// other active one.
fn activate(ctx: &Ctx, device: &str, name: &str) -> Result<(), CtlError> {
    let target = ctx.client.get(&item_path(device, name))?;
    let page = ctx
        .client
        .get(&format!("{}?limit=1000", device_path(device)))?;
    let others: Vec<Value> = page
        .get("items")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|rd| rd.get("name").and_then(Value::as_str) != Some(name))
        .filter(|rd| rd.get("active").and_then(Value::as_bool) == Some(true))
        .cloned()
        .collect();
    let mut steps: Vec<(Value, bool)> = Vec::new();
    if target.get("active").and_then(Value::as_bool) != Some(true) {
        steps.push((target, true));
    }
    steps.extend(others.into_iter().map(|rd| (rd, false)));
    let mut done: Vec<String> = Vec::new();
    for (mut rd, active) in steps {
        let rd_name = rd
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        rd["active"] = Value::Bool(active);
        if let Err(e) = ctx
            .client
            .send_json("PUT", &item_path(device, &rd_name), &rd)
        {
            if done.is_empty() {
                eprintln!("note: nothing was changed");
            } else {
                eprintln!("note: already changed: {}", done.join(", "));
            }
            return Err(e);
        }
        done.push(format!("{rd_name} active={active}"));
    }
    let after = ctx
        .client
        .get(&format!("{}?limit=1000", device_path(device)))?;
    let items = after
        .get("items")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    show(ctx, &items, &after);
    Ok(())
}

/// Remote destinations as a table, or `raw` as JSON.
fn show(ctx: &Ctx, items: &[Value], raw: &Value) {
    if ctx.json {
        emit(&format!("{raw:#}\n"));
    } else {
        emit(&table::objects(Kind::RemoteDestination, items).render());
    }
}
