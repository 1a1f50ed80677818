//! `tether ctl`: the command-line client of a running Tether's admin REST API. Every command
//! is one or a few HTTP requests; the answer is printed as an aligned table (or, with
//! `--json`, as the server's JSON), and errors as `error: CODE: message (field: x)` with an
//! exit code that says whose fault it was (see [`error`]).
//!
//! This room holds no provisioning rules: the server checks everything, the client only
//! builds requests and renders answers.

pub mod analyze;
pub mod args;
pub mod bulk;
pub mod client;
pub mod cti;
pub mod error;
pub mod objects;
pub mod rd;
pub mod set;
pub mod table;

use std::io::Write;
use std::process::ExitCode;

use self::args::{CtlArgs, CtlCommand};
use self::client::{Client, Credentials};
use self::error::CtlError;
use self::table::{cell, Table};
use crate::api::BASE;

/// What every command needs: the client and the output form.
pub struct Ctx {
    pub client: Client,
    pub json: bool,
}

pub fn run(args: CtlArgs) -> ExitCode {
    match dispatch(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

fn dispatch(args: &CtlArgs) -> Result<(), CtlError> {
    let credentials = match args.command {
        CtlCommand::Health => Credentials::Anonymous,
        // The console can log in later, by hand.
        CtlCommand::Cti => Credentials::resolve(&args.connection).unwrap_or(Credentials::Anonymous),
        _ => Credentials::resolve(&args.connection)?,
    };
    if let CtlCommand::Cti = args.command {
        return cti::run(&args.connection, &credentials);
    }
    let ctx = Ctx {
        client: Client::new(&args.connection.url, credentials)?,
        json: args.json,
    };
    if let Some((kind, verb)) = args.command.object() {
        return objects::run(&ctx, kind, verb);
    }
    match &args.command {
        CtlCommand::Rd(c) => rd::run(&ctx, c),
        CtlCommand::Analyze(a) => analyze::run(&ctx, a),
        CtlCommand::Import(a) => bulk::import(&ctx, a),
        CtlCommand::Export(a) => bulk::export(&ctx, a),
        CtlCommand::Health => health(&ctx),
        // The object collections were handled above.
        _ => Err(CtlError::Usage("unknown command".into())),
    }
}

fn health(ctx: &Ctx) -> Result<(), CtlError> {
    let v = ctx.client.get(&format!("{BASE}/health"))?;
    if ctx.json {
        emit(&format!("{v:#}\n"));
        return Ok(());
    }
    let mut t = Table::bare();
    t.push(["url".to_owned(), ctx.client.base().to_owned()]);
    for k in ["status", "version", "database", "snapshot_version"] {
        t.push([k.to_owned(), cell(v.get(k))]);
    }
    emit(&t.render());
    Ok(())
}

/// Writes to standard output; a closed pipe (`| head`) is not an error.
pub fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}
