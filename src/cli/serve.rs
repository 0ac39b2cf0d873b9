//! `rulec serve`: run the rules against a live Attio workspace (docs/serve.md).

use std::path::PathBuf;
use std::process::ExitCode;

use super::{checked_program, CliResult, Global, Inputs};
use crate::serve::config::Settings;
use crate::workspace::Config;

#[derive(clap::Args, Debug)]
pub(super) struct ServeArgs {
    #[command(flatten)]
    inputs: Inputs,
    /// The runtime's settings (`[serve]`, `[attio]`, `[slack]`); defaults to the rule
    /// files' `rulec.toml`.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Where to listen (overrides `[serve] listen`), e.g. `127.0.0.1:8787`.
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
}

pub(super) fn serve(args: ServeArgs, global: Global) -> CliResult {
    let program = match checked_program(&args.inputs, "served", global)? {
        Ok(program) => program,
        Err(code) => return Ok(code),
    };
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    let config = match args.config {
        Some(path) => Some(path),
        None => {
            let paths = if args.inputs.paths.is_empty() {
                vec![PathBuf::from(".")]
            } else {
                args.inputs.paths.clone()
            };
            Config::find_for(&paths, &cwd)?
        }
    };
    let settings = Settings::load(config.as_deref(), |name| std::env::var(name).ok())?;
    let listen = args
        .listen
        .unwrap_or_else(|| settings.file.serve.listen.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(crate::serve::run(program, settings, &listen))?;
    Ok(ExitCode::SUCCESS)
}
