fn main() {
    let units: Vec<_> = std::env::args()
        .skip(1)
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            rulec::check::Unit::parse(rulec::source::SourceFile::new(path, text))
        })
        .collect();
    let checked = rulec::check::check(&units);
    print!(
        "{}",
        rulec::diagnostics::render_human(&checked.diagnostics, false)
    );
    println!("{} rules ok", checked.rules.len());
    if std::env::var("IR").is_ok() {
        println!(
            "{}",
            serde_json::to_string_pretty(&checked.program()).unwrap_or_default()
        );
    }
    for u in &units {
        println!(
            "-----\n{}",
            rulec::format::format_document(u.file.text(), &u.parsed.document)
        );
    }
}
