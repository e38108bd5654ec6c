//! `runbom admin user create NAME`: a dashboard user, written straight to the store. The password
//! is read from stdin (never an argument, which `ps` and shell history would keep) and stored as
//! an argon2id hash.

use std::io::BufRead;

use anyhow::Context;

use crate::cli::UserCreateArgs;
use crate::commands::{ExitStatus, open_store};

pub fn create(args: &UserCreateArgs) -> anyhow::Result<ExitStatus> {
    let mut password = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut password)
        .context("cannot read the password from stdin")?;
    let password = password.trim_end_matches(['\n', '\r']);
    let (runtime, store) = open_store(&args.store)?;
    let created = runtime.block_on(runbom_server::create_user(
        &store, &args.name, password, args.admin, &args.team,
    ));
    runtime.block_on(store.close());
    match created {
        Ok(()) => {
            let reach = if args.admin {
                "every application (admin)".to_owned()
            } else if args.team.is_empty() {
                "no application yet (no team)".to_owned()
            } else {
                format!("the applications of {}", args.team.join(", "))
            };
            eprintln!("created user {}, who sees {reach}", args.name);
            Ok(ExitStatus::Success)
        }
        Err(runbom_server::UserError::Store(err)) => Err(err.into()),
        Err(err) => {
            eprintln!("error: {err}");
            Ok(ExitStatus::Error)
        }
    }
}
