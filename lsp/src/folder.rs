//! Which files a document is checked with: its *folder*, read as `rulec check <folder>`
//! reads it.
//!
//! A document's folder is the directory of the nearest `rulec.toml` upward from it;
//! without one, the innermost workspace folder of the client that contains it; else its
//! own directory. Reading a folder gives what the CLI would check there: every `*.rules`
//! file under it (`rulec::workspace::collect`), sorted, the schema file named in
//! `rulec.toml` first, each named by its path relative to the folder — except that an
//! open document's text replaces its file on disk (unsaved text wins), and an open
//! document of the folder that is not on disk yet is checked with the others.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rulec::check::Unit;
use rulec::source::SourceFile;
use rulec::workspace::{self, Config};

use crate::analysis::Settings;

/// The text of one file: UTF-8 (shared, so checking it copies nothing), or bytes that
/// are not, which `rulec::workspace::unit_from_bytes` reports as `invalid-encoding`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Text {
    /// Valid UTF-8.
    Utf8(Arc<str>),
    /// Anything else.
    Bytes(Arc<[u8]>),
}

impl Text {
    /// The text of a file's bytes.
    pub fn from_bytes(bytes: Vec<u8>) -> Text {
        match String::from_utf8(bytes) {
            Ok(text) => Text::Utf8(text.into()),
            Err(e) => Text::Bytes(e.into_bytes().into()),
        }
    }

    /// The text, when it is UTF-8.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Text::Utf8(text) => Some(text),
            Text::Bytes(_) => None,
        }
    }

    /// Its length in bytes.
    pub fn len(&self) -> usize {
        match self {
            Text::Utf8(text) => text.len(),
            Text::Bytes(bytes) => bytes.len(),
        }
    }

    /// True when it is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The file parsed into a unit, as `rulec::workspace::load` would parse it.
    pub fn unit(&self, name: &str) -> Unit {
        match self {
            Text::Utf8(text) => Unit::parse(SourceFile::new(name, text.clone())),
            Text::Bytes(bytes) => workspace::unit_from_bytes(name, bytes.to_vec()),
        }
    }
}

impl From<&str> for Text {
    fn from(text: &str) -> Text {
        Text::Utf8(text.into())
    }
}

/// One file of a folder.
#[derive(Clone, Debug)]
pub struct Source {
    /// Its display name: the path relative to the folder (what rule ids are made of).
    pub name: String,
    /// Where it is (canonical), when it is a file.
    pub path: Option<PathBuf>,
    /// Its text: the open document's, else the file's.
    pub text: Text,
}

/// The files checked together, in the order `rulec check` checks them.
#[derive(Clone, Debug, Default)]
pub struct FolderInput {
    /// The files; the schema file first when there is one.
    pub sources: Vec<Source>,
    /// Whether the first source is the schema file.
    pub schema: bool,
}

impl FolderInput {
    /// One text alone, after the schema file of `settings` (as `rulec check <file>`
    /// checks a lone file): for documents that are not files, and for tests.
    pub fn lone(name: &str, text: &str, settings: &Settings) -> FolderInput {
        let mut sources = Vec::new();
        if let Some(schema) = &settings.schema {
            sources.push(Source {
                name: schema.name.clone(),
                path: Some(schema.path.clone()),
                text: schema.text.as_str().into(),
            });
        }
        let schema = !sources.is_empty();
        sources.push(Source {
            name: name.to_string(),
            path: None,
            text: text.into(),
        });
        FolderInput { sources, schema }
    }

    /// Bytes of text held.
    pub fn len(&self) -> usize {
        self.sources.iter().map(|s| s.text.len()).sum()
    }

    /// True when there are no files.
    pub fn is_empty(&self) -> bool {
        self.sources.is_empty()
    }
}

/// An open document's text, to read a folder with.
#[derive(Clone, Debug)]
pub struct OpenText {
    /// Its canonical path.
    pub path: PathBuf,
    /// Its text.
    pub text: Arc<str>,
    /// Whether it belongs to the folder being read (it is checked with it even when
    /// the folder walk would not find it, e.g. a new file not saved yet).
    pub member: bool,
}

/// A path with symbolic links and `..` resolved, as far as it exists (a new file not
/// saved yet keeps its name under its resolved directory).
pub fn canonical(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    match (path.parent(), path.file_name()) {
        (Some(dir), Some(name)) => match dir.canonicalize() {
            Ok(dir) => dir.join(name),
            Err(_) => path.to_path_buf(),
        },
        _ => path.to_path_buf(),
    }
}

/// A path as `rulec check` run in `root` shows it: relative to `root` when inside it.
/// Both are canonical.
pub fn display(root: &Path, path: &Path) -> String {
    let shown = path.strip_prefix(root).unwrap_or(path);
    shown.to_string_lossy().replace('\\', "/")
}

/// Where a file is checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    /// The folder (canonical).
    pub root: PathBuf,
    /// The `rulec.toml` that chose it, if one did.
    pub config: Option<PathBuf>,
    /// Whether only the files directly in it are read, not its subdirectories: for a
    /// file with neither `rulec.toml` nor a workspace folder above it that lies at the
    /// top of the file system or of the home directory, which are no project to walk.
    pub shallow: bool,
}

/// The folder of the file `path` (canonical): the directory of the nearest
/// `rulec.toml` upward, else the innermost of `roots` (the client's workspace folders,
/// canonical) containing it, else its own directory.
pub fn folder_of(path: &Path, roots: &[PathBuf]) -> Located {
    let dir = path.parent().unwrap_or(path);
    if let Some(config) = Config::find(dir) {
        let root = config.parent().map_or_else(|| dir.to_path_buf(), canonical);
        return Located {
            root,
            config: Some(config),
            shallow: false,
        };
    }
    if let Some(root) = roots
        .iter()
        .filter(|root| path.starts_with(root))
        .max_by_key(|root| root.components().count())
    {
        return Located {
            root: root.clone(),
            config: None,
            shallow: false,
        };
    }
    let home = std::env::var_os("HOME")
        .or_else(|| std::env::var_os("USERPROFILE"))
        .map(|h| canonical(Path::new(&h)));
    Located {
        root: dir.to_path_buf(),
        config: None,
        shallow: dir.parent().is_none() || home.as_deref() == Some(dir),
    }
}

/// Reads the folder `root` (canonical) as `rulec check` run there would: every
/// `*.rules` file under it (only those directly in it when `shallow`), sorted, the
/// schema file (`schema`, when `rulec.toml` names one) first; `open` documents replace
/// their files. A file that cannot be read is left out (the CLI would stop with an
/// error); so is a schema file that cannot, unless `fallback` has its last known text.
pub fn read(
    root: &Path,
    shallow: bool,
    schema: Option<&Path>,
    fallback: Option<&str>,
    open: &[OpenText],
) -> FolderInput {
    let texts: HashMap<&Path, &Arc<str>> =
        open.iter().map(|o| (o.path.as_path(), &o.text)).collect();
    // What the walk finds (an unreadable folder finds nothing), then the open members
    // it does not, in path order.
    let walked = if shallow {
        let files: Vec<PathBuf> = std::fs::read_dir(root)
            .into_iter()
            .flatten()
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "rules"))
            .collect();
        workspace::collect(&files)
    } else {
        workspace::collect(&[root.to_path_buf()])
    };
    let mut files: Vec<PathBuf> = walked
        .unwrap_or_default()
        .iter()
        .map(|p| canonical(p))
        .collect();
    for o in open.iter().filter(|o| o.member) {
        if !files.contains(&o.path) {
            files.push(o.path.clone());
        }
    }
    files.sort();
    files.dedup();
    let mut sources = Vec::with_capacity(files.len() + 1);
    let mut has_schema = false;
    if let Some(schema) = schema {
        let schema = canonical(schema);
        files.retain(|f| *f != schema);
        let text = match texts.get(schema.as_path()) {
            Some(text) => Some(Text::Utf8((*text).clone())),
            None => std::fs::read(&schema)
                .ok()
                .map(Text::from_bytes)
                .or_else(|| fallback.map(Text::from)),
        };
        if let Some(text) = text {
            sources.push(Source {
                name: display(root, &schema),
                path: Some(schema),
                text,
            });
            has_schema = true;
        }
    }
    for path in files {
        let text = match texts.get(path.as_path()) {
            Some(text) => Text::Utf8((*text).clone()),
            None => match std::fs::read(&path) {
                Ok(bytes) => Text::from_bytes(bytes),
                Err(_) => continue,
            },
        };
        sources.push(Source {
            name: display(root, &path),
            path: Some(path),
            text,
        });
    }
    FolderInput {
        sources,
        schema: has_schema,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests may fail loudly

    use super::*;

    #[test]
    fn a_folder_is_read_like_rulec_check_with_open_documents_winning() {
        let dir = canonical(&std::env::temp_dir())
            .join(format!("rulec-lsp-folder-read-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::create_dir_all(dir.join(".hidden")).unwrap();
        std::fs::write(dir.join("b.rules"), "list \"VIP\" of people\n").unwrap();
        std::fs::write(dir.join("sub/a.rules"), "team t = [\"a@b.c\"]\n").unwrap();
        std::fs::write(dir.join(".hidden/x.rules"), "nope").unwrap();
        std::fs::write(dir.join("schema.rules"), "object x { n: number }\n").unwrap();
        std::fs::write(dir.join("notes.txt"), "not rules").unwrap();
        let open = vec![
            OpenText {
                path: dir.join("b.rules"),
                text: "unsaved".into(),
                member: true,
            },
            OpenText {
                path: dir.join("new.rules"),
                text: "new".into(),
                member: true,
            },
        ];
        let input = read(&dir, false, Some(&dir.join("schema.rules")), None, &open);
        let names: Vec<&str> = input.sources.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            vec!["schema.rules", "b.rules", "new.rules", "sub/a.rules"]
        );
        assert!(input.schema);
        assert_eq!(input.sources[1].text.as_str(), Some("unsaved"));
        assert_eq!(
            input.sources[3].text.as_str(),
            Some("team t = [\"a@b.c\"]\n")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
