//! The `rulec` binary; everything lives in the library's `cli` module.

fn main() -> std::process::ExitCode {
    rulec::cli::main()
}
