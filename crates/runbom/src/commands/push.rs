//! `runbom push --expected FILE --app NAME --release V`: reads an expected inventory with
//! runbom-sources and uploads it to a server.

use anyhow::Context;

use crate::cli::PushArgs;
use crate::commands::ExitStatus;

pub fn run(args: &PushArgs) -> anyhow::Result<ExitStatus> {
    let inventory = super::expected::read(&args.expected)
        .with_context(|| format!("cannot read `{}`", args.expected.display()))?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(runbom_server::client::push_expected(
        &args.server,
        &args.token,
        &args.app,
        &args.release,
        &inventory,
    ))?;
    eprintln!(
        "pushed {} expected components of {} release {} to {}",
        inventory.components.len(),
        args.app,
        args.release,
        args.server
    );
    Ok(ExitStatus::Success)
}
