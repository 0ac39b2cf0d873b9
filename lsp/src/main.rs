//! The `rulec-lsp` binary: a language server on standard input and output.

// The allocator of the `rulec` binary: analysis allocates many small trees.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    if std::env::args().any(|a| a == "--version" || a == "-V") {
        println!("rulec-lsp {}", env!("CARGO_PKG_VERSION"));
        return;
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
