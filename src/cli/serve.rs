//! `rulec serve`: run the rules against a live Attio workspace (docs/serve.md).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use super::{checked_program, CliResult, Global, Inputs};
use crate::serve::attio::Attio;
use crate::serve::config::{File, Settings};
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
    /// Make Attio's webhook subscriptions exactly the record events the rules need,
    /// creating the webhook (its secret written to `rulec-webhook.env`) if none
    /// targets `[serve] public_url`.
    #[arg(long)]
    sync_webhooks: bool,
}

pub(super) fn serve(args: ServeArgs, global: Global) -> CliResult {
    let program = match checked_program(&args.inputs, "served", global)? {
        Ok(program) => program,
        Err(code) => return Ok(code),
    };
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    let config = config_for(args.config, &args.inputs.paths, &cwd)?;
    let settings = Settings::load(config.as_deref(), |name| std::env::var(name).ok())?;
    let listen = args
        .listen
        .unwrap_or_else(|| settings.file.serve.listen.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    runtime.block_on(crate::serve::run(
        program,
        settings,
        &listen,
        args.sync_webhooks,
    ))?;
    Ok(ExitCode::SUCCESS)
}

/// `--config`, or the `rulec.toml` that governs `paths` (the current directory's when
/// none are given).
fn config_for(
    given: Option<PathBuf>,
    paths: &[PathBuf],
    cwd: &Path,
) -> Result<Option<PathBuf>, String> {
    match given {
        Some(path) => Ok(Some(path)),
        None if paths.is_empty() => Config::find_for(&[PathBuf::from(".")], cwd),
        None => Config::find_for(paths, cwd),
    }
}

#[derive(clap::Subcommand, Debug)]
pub(super) enum SchemaCommand {
    /// Read the workspace's objects, attributes, options, statuses, lists and members
    /// from Attio and write them as declarations `rulec check` uses.
    Pull(PullArgs),
}

#[derive(clap::Args, Debug)]
pub(super) struct PullArgs {
    /// The runtime's settings (`[attio]`); defaults to the current directory's
    /// `rulec.toml`.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Where to write the declarations [default: `schema/workspace.rules` beside
    /// rulec.toml].
    #[arg(short, long)]
    output: Option<PathBuf>,
}

pub(super) fn schema(command: SchemaCommand, global: Global) -> CliResult {
    let SchemaCommand::Pull(args) = command;
    let cwd =
        std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    let config = config_for(args.config, &[], &cwd)?;
    let (file, root) = File::read(config.as_deref())?;
    let token = file.attio_token(|name| std::env::var(name).ok())?;
    let attio = Attio::new(
        &file.attio.api_url,
        token,
        Duration::from_millis(file.serve.timeout_ms),
    );
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the runtime: {e}"))?;
    let pulled = runtime
        .block_on(crate::serve::pull::pull(&attio, &file.attio.api_url))
        .map_err(|e| format!("cannot read the workspace from Attio: {}", e.message))?;
    let output = args
        .output
        .unwrap_or_else(|| root.join("schema").join("workspace.rules"));
    if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
    }
    std::fs::write(&output, &pulled.text).map_err(|e| format!("{}: {e}", output.display()))?;
    for skipped in &pulled.skipped {
        eprintln!("warning: not declared: {skipped}");
    }
    if !global.quiet {
        println!(
            "wrote {}: {} objects, {} attributes, {} lists, {} members",
            output.display(),
            pulled.objects,
            pulled.attributes,
            pulled.lists,
            pulled.members
        );
        let named = config.as_deref().and_then(|path| {
            let text = std::fs::read_to_string(path).ok()?;
            let table: toml::Table = toml::from_str(&text).ok()?;
            let schema = table.get("schema")?.as_str()?.to_string();
            Some(root.join(schema))
        });
        let same = |a: &Path, b: &Path| {
            a.canonicalize()
                .ok()
                .is_some_and(|a| Some(a) == b.canonicalize().ok())
        };
        if !named.is_some_and(|named| same(&named, &output)) {
            let relative = output
                .canonicalize()
                .ok()
                .and_then(|o| {
                    let root = root.canonicalize().ok()?;
                    o.strip_prefix(root).ok().map(Path::to_path_buf)
                })
                .unwrap_or_else(|| output.clone());
            println!(
                "name it in rulec.toml (`schema = \"{}\"`, relative to rulec.toml) so `rulec check` reads it",
                relative.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
