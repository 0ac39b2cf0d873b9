//! `rulec test`: run the `test` blocks and report like `cargo test`.

use std::process::ExitCode;

use super::{checked_analysis, CliResult, Global, Inputs};

#[derive(clap::Args, Debug)]
pub(super) struct TestArgs {
    #[command(flatten)]
    inputs: Inputs,
    /// Run only tests whose name contains this text.
    #[arg(long)]
    filter: Option<String>,
}

pub(super) fn test(args: TestArgs, global: Global) -> CliResult {
    let analysis = match checked_analysis(&args.inputs, "tested", global)? {
        Ok(analysis) => analysis,
        Err(code) => return Ok(code),
    };
    let mut results = crate::testing::run(&analysis);
    if let Some(filter) = &args.filter {
        results.retain(|r| r.name.contains(filter.as_str()));
    }
    if !global.quiet {
        println!("\nrunning {}", super::plural(results.len(), "test"));
    }
    for r in results.iter().filter(|r| !global.quiet || !r.passed()) {
        let place = r.file.line_col(r.span.lo());
        println!(
            "test {}:{} {:?} ... {}",
            r.file.name(),
            place.line,
            r.name,
            if r.passed() { "ok" } else { "FAILED" }
        );
    }
    let failed: Vec<_> = results.iter().filter(|r| !r.passed()).collect();
    if !failed.is_empty() {
        println!("\nfailures:\n");
        for r in &failed {
            let place = r.file.line_col(r.span.lo());
            println!("---- {}:{} {:?} ----", r.file.name(), place.line, r.name);
            println!("{}\n", r.failure.as_deref().unwrap_or_default());
        }
    }
    let passed = results.len() - failed.len();
    println!(
        "\ntest result: {}. {passed} passed; {} failed\n",
        if failed.is_empty() { "ok" } else { "FAILED" },
        failed.len()
    );
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
