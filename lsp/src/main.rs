//! The `rulec-lsp` binary: a language server on standard input and output.

// The allocator of the `rulec` binary: analysis allocates many small trees.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const USAGE: &str = "\
rulec-lsp: the language server for rulec rule files

Usage: rulec-lsp [--stdio]

Speaks the Language Server Protocol on standard input and output; start it from an
editor's LSP client for *.rules files. Each open file is checked with its folder (the
directory of the nearest rulec.toml, else the editor's workspace folder), so the
editor shows what `rulec check <folder>` reports.

Options:
  --stdio          talk over standard input and output (the default; accepted for
                   clients that pass it)
  -h, --help       print this help and exit
  -V, --version    print the version and exit
";

/// What the command line asks for.
#[derive(Debug, PartialEq, Eq)]
enum Command {
    Serve,
    Help,
    Version,
    /// An argument it does not know.
    Unknown(String),
}

fn command(args: impl IntoIterator<Item = String>) -> Command {
    let mut command = Command::Serve;
    for arg in args {
        match arg.as_str() {
            "--stdio" => {}
            "-h" | "--help" => return Command::Help,
            "-V" | "--version" => command = Command::Version,
            _ => return Command::Unknown(arg),
        }
    }
    command
}

fn main() {
    match command(std::env::args().skip(1)) {
        Command::Serve => {}
        Command::Help => {
            print!("{USAGE}");
            return;
        }
        Command::Version => {
            println!("rulec-lsp {}", env!("CARGO_PKG_VERSION"));
            return;
        }
        Command::Unknown(arg) => {
            eprint!("rulec-lsp: unknown argument `{arg}`\n\n{USAGE}");
            std::process::exit(2);
        }
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("rulec-lsp: cannot start: {e}");
            std::process::exit(2);
        }
    };
    let clean = runtime.block_on(rulec_lsp::serve_stdio());
    // Exit now: a blocking read of standard input would keep the runtime from shutting
    // down. `exit` without `shutdown` (or a vanished client) is status 1, as the
    // protocol says.
    std::process::exit(if clean { 0 } else { 1 });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Command {
        command(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn arguments() {
        assert_eq!(parse(&[]), Command::Serve);
        assert_eq!(parse(&["--stdio"]), Command::Serve);
        assert_eq!(parse(&["--help"]), Command::Help);
        assert_eq!(parse(&["-h"]), Command::Help);
        assert_eq!(parse(&["--version"]), Command::Version);
        assert_eq!(parse(&["-V", "--help"]), Command::Help);
        assert_eq!(parse(&["--nope"]), Command::Unknown("--nope".into()));
        assert_eq!(parse(&["x.rules"]), Command::Unknown("x.rules".into()));
    }
}
