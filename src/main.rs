//! The `rulec` binary; everything lives in the library's `cli` module.

// Parsing and checking allocate many small nodes; mimalloc is markedly faster at that
// than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    rulec::cli::main()
}
