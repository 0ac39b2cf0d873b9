//! The workspace schema: objects and attributes, lists, teams, webhooks and actions.
//!
//! Built from the prelude (`prelude.rules`, written in the rule language itself) and
//! the declarations of every file checked together, plus the schema file named in
//! `rulec.toml`. The schema travels inside the compiled IR, so it is serializable.

pub mod types;

use std::sync::{Arc, LazyLock};

use serde::{Deserialize, Serialize};

pub use types::{named_type, OptionSet, StructType, Type, TYPE_NAMES};

use crate::diagnostics::Diagnostic;
use crate::source::{SourceFile, Span};
use crate::syntax::ast;

/// Where a declaration was written, for go-to-definition and messages.
#[derive(Clone, Debug)]
pub struct Origin {
    /// The file.
    pub file: Arc<SourceFile>,
    /// The declaration's name.
    pub span: Span,
}

/// An object (record type) such as `deals`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Object {
    /// Its name.
    pub name: String,
    /// Its attributes.
    pub attributes: Vec<Attribute>,
    /// Whether the prelude declares it.
    pub builtin: bool,
    /// Where it was declared.
    #[serde(skip)]
    pub origin: Option<Origin>,
}

impl Object {
    /// An attribute by name.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }
}

/// An attribute of an object.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Attribute {
    /// Its name.
    pub name: String,
    /// Its type.
    #[serde(rename = "type")]
    pub ty: Type,
    /// Written only by the CRM itself.
    pub readonly: bool,
    /// No two records share a value (usable with `upsert … by`).
    pub unique: bool,
    /// The ISO 4217 code of a `currency(EUR)` amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// Where it was declared.
    #[serde(skip)]
    pub origin: Option<Origin>,
}

/// `list "<name>" of <object>`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct List {
    /// The list name.
    pub name: String,
    /// The object of its entries.
    pub object: String,
    /// The entries' own attributes (`stage` of an entry in a pipeline list).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
    /// Where it was declared.
    #[serde(skip)]
    pub origin: Option<Origin>,
}

impl List {
    /// An entry attribute by name.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name == name)
    }

    /// What `entry.` reads in a rule triggered by one of its entries: the entry's id
    /// and its attributes.
    pub fn entry_shape(&self) -> Arc<StructType> {
        let mut fields = vec![("id".to_string(), Type::Text)];
        fields.extend(
            self.attributes
                .iter()
                .map(|a| (a.name.clone(), a.ty.clone())),
        );
        Arc::new(StructType {
            name: format!("entry of \"{}\"", self.name),
            fields,
        })
    }
}

/// `team <name> = [...]`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Team {
    /// Team name.
    pub name: String,
    /// Member emails, in rotation order.
    pub members: Vec<String>,
    /// Where it was declared.
    #[serde(skip)]
    pub origin: Option<Origin>,
}

/// `webhook <name> { … }`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Webhook {
    /// Webhook name.
    pub name: String,
    /// The payload shape.
    pub payload: Arc<StructType>,
    /// Where it was declared.
    #[serde(skip)]
    pub origin: Option<Origin>,
}

/// `action <name>(…) [idempotent]`: an action the host registers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Action {
    /// Action name.
    pub name: String,
    /// Parameters in order.
    pub params: Vec<(String, Type)>,
    /// Whether repeating it is harmless.
    pub idempotent: bool,
    /// Where it was declared.
    #[serde(skip)]
    pub origin: Option<Origin>,
}

/// The workspace schema.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Schema {
    /// Objects.
    pub objects: Vec<Object>,
    /// Lists.
    pub lists: Vec<List>,
    /// Teams.
    pub teams: Vec<Team>,
    /// Inbound webhooks.
    pub webhooks: Vec<Webhook>,
    /// Custom actions.
    pub actions: Vec<Action>,
}

static PRELUDE: LazyLock<Schema> = LazyLock::new(|| {
    let file = SourceFile::new("<prelude>", include_str!("prelude.rules"));
    let parsed = crate::syntax::parse(&file);
    let mut builder = SchemaBuilder {
        schema: Schema::default(),
        diagnostics: Vec::new(),
    };
    builder.add(&file, &parsed.document, true);
    builder.schema
});

impl Schema {
    /// The built-in prelude: `deals`, `people`, `companies`, `users`.
    pub fn prelude() -> Schema {
        PRELUDE.clone()
    }

    /// An object by name.
    pub fn object(&self, name: &str) -> Option<&Object> {
        self.objects.iter().find(|o| o.name == name)
    }

    /// A list by name.
    pub fn list(&self, name: &str) -> Option<&List> {
        self.lists.iter().find(|l| l.name == name)
    }

    /// A team by name.
    pub fn team(&self, name: &str) -> Option<&Team> {
        self.teams.iter().find(|t| t.name == name)
    }

    /// A webhook by name.
    pub fn webhook(&self, name: &str) -> Option<&Webhook> {
        self.webhooks.iter().find(|w| w.name == name)
    }

    /// A custom action by name.
    pub fn action(&self, name: &str) -> Option<&Action> {
        self.actions.iter().find(|a| a.name == name)
    }

    /// Objects that have an attribute called `name`.
    pub fn objects_with(&self, name: &str) -> impl Iterator<Item = &Object> + '_ {
        let name = name.to_string();
        self.objects
            .iter()
            .filter(move |o| o.attribute(&name).is_some())
    }
}

/// Builds a schema from the prelude plus declarations, reporting bad declarations.
pub struct SchemaBuilder {
    schema: Schema,
    diagnostics: Vec<Diagnostic>,
}

impl Default for SchemaBuilder {
    fn default() -> Self {
        SchemaBuilder::new()
    }
}

impl SchemaBuilder {
    /// Starts from the prelude.
    pub fn new() -> SchemaBuilder {
        SchemaBuilder {
            schema: Schema::prelude(),
            diagnostics: Vec::new(),
        }
    }

    /// Adds the declarations of one document. Object names are registered before
    /// attribute types are resolved, so declarations may refer to each other in any
    /// order within a document; call [`SchemaBuilder::declare_objects`] on every
    /// document first to allow that across documents.
    pub fn add_document(&mut self, file: &Arc<SourceFile>, document: &ast::Document) {
        self.add(file, document, false);
    }

    /// Registers the names of the objects a document declares.
    pub fn declare_objects(&mut self, file: &Arc<SourceFile>, document: &ast::Document) {
        for item in &document.items {
            if let ast::Item::Object(decl) = item {
                if self.schema.object(&decl.name.name).is_none() {
                    self.schema.objects.push(Object {
                        name: decl.name.name.clone(),
                        attributes: Vec::new(),
                        builtin: false,
                        origin: Some(Origin {
                            file: file.clone(),
                            span: decl.name.span,
                        }),
                    });
                }
            }
        }
    }

    /// The finished schema and the diagnostics about its declarations.
    pub fn finish(self) -> (Schema, Vec<Diagnostic>) {
        (self.schema, self.diagnostics)
    }

    fn add(&mut self, file: &Arc<SourceFile>, document: &ast::Document, builtin: bool) {
        self.declare_objects(file, document);
        for item in &document.items {
            match item {
                ast::Item::Object(decl) => self.object(file, decl, builtin),
                ast::Item::List(decl) => self.list(file, decl),
                ast::Item::Team(decl) => self.team(file, decl),
                ast::Item::Webhook(decl) => self.webhook(file, decl),
                ast::Item::Action(decl) => self.action(file, decl),
                _ => {}
            }
        }
    }

    fn object(&mut self, file: &Arc<SourceFile>, decl: &ast::ObjectDecl, builtin: bool) {
        let attributes = self.attributes(file, &decl.name.name, &decl.attrs);
        self.merge_attributes(decl, attributes, builtin);
    }

    /// Resolves declared attributes; `owner` names them in messages (`deals.stage`).
    fn attributes(
        &mut self,
        file: &Arc<SourceFile>,
        owner: &str,
        decls: &[ast::AttrDecl],
    ) -> Vec<Attribute> {
        let mut attributes: Vec<Attribute> = Vec::new();
        for attr in decls {
            let owner = format!("{owner}.{}", attr.name.name);
            let Some(ty) = self.resolve_type(file, &attr.ty, &owner) else {
                continue;
            };
            let mut readonly = false;
            let mut unique = false;
            for flag in &attr.flags {
                match flag.name.as_str() {
                    "readonly" => readonly = true,
                    "unique" => unique = true,
                    _ => {}
                }
            }
            let currency = match &attr.ty.kind {
                ast::TypeExprKind::Currency(code) => Some(code.name.clone()),
                _ => None,
            };
            attributes.push(Attribute {
                name: attr.name.name.clone(),
                ty,
                readonly,
                unique,
                currency,
                origin: Some(Origin {
                    file: file.clone(),
                    span: attr.name.span,
                }),
            });
        }
        attributes
    }

    fn merge_attributes(
        &mut self,
        decl: &ast::ObjectDecl,
        attributes: Vec<Attribute>,
        builtin: bool,
    ) {
        let Some(object) = self
            .schema
            .objects
            .iter_mut()
            .find(|o| o.name == decl.name.name)
        else {
            return;
        };
        object.builtin |= builtin;
        let mut conflicts = Vec::new();
        for attr in attributes {
            match object.attributes.iter_mut().find(|a| a.name == attr.name) {
                // Redeclaring a prelude attribute replaces it: a workspace may narrow
                // `stage` to its own pipeline. Two workspace files disagreeing is a mistake.
                Some(existing) => {
                    let from_workspace = existing
                        .origin
                        .as_ref()
                        .is_some_and(|o| o.file.name() != "<prelude>");
                    if from_workspace
                        && (existing.ty != attr.ty || existing.currency != attr.currency)
                    {
                        let first = existing.origin.clone();
                        conflicts.push((attr, first));
                    } else {
                        *existing = attr;
                    }
                }
                None => object.attributes.push(attr),
            }
        }
        let object_name = object.name.clone();
        for (attr, first) in conflicts {
            let Some(origin) = attr.origin else { continue };
            let mut d = Diagnostic::error(
                &origin.file,
                "duplicate-declaration",
                format!(
                    "`{object_name}.{}` is declared twice with different types",
                    attr.name
                ),
                origin.span,
            )
            .with_help("declare each attribute once, in one file");
            if let Some(first) = first.filter(|f| Arc::ptr_eq(&f.file, &origin.file)) {
                d = d.with_related(first.span, "first declared here");
            }
            self.diagnostics.push(d);
        }
    }

    fn list(&mut self, file: &Arc<SourceFile>, decl: &ast::ListDecl) {
        let Some(name) = decl.name.plain() else {
            self.error(
                file,
                "invalid-declaration",
                "a list name cannot contain `{{ }}`",
                decl.name.span,
                None,
            );
            return;
        };
        if self.schema.object(&decl.object.name).is_none() {
            self.unknown_object(file, &decl.object);
            return;
        }
        if self.schema.list(&name).is_some() {
            self.error(
                file,
                "duplicate-declaration",
                format!("list `{name}` is declared twice"),
                decl.name.span,
                None,
            );
            return;
        }
        let mut attributes = self.attributes(file, &format!("\"{name}\""), &decl.attrs);
        let mut seen = std::collections::HashSet::new();
        attributes.retain(|a| {
            let first = seen.insert(a.name.clone());
            if !first {
                if let Some(origin) = &a.origin {
                    self.diagnostics.push(
                        Diagnostic::error(
                            &origin.file,
                            "duplicate-declaration",
                            format!("entry attribute `{}` is declared twice", a.name),
                            origin.span,
                        )
                        .with_help("declare each attribute once"),
                    );
                }
            }
            first
        });
        self.schema.lists.push(List {
            name,
            object: decl.object.name.clone(),
            attributes,
            origin: Some(Origin {
                file: file.clone(),
                span: decl.name.span,
            }),
        });
    }

    fn team(&mut self, file: &Arc<SourceFile>, decl: &ast::TeamDecl) {
        if self.schema.team(&decl.name.name).is_some() {
            self.error(
                file,
                "duplicate-declaration",
                format!("team `{}` is declared twice", decl.name.name),
                decl.name.span,
                None,
            );
            return;
        }
        let mut members = Vec::new();
        for member in &decl.members {
            match member.plain() {
                Some(email) if email.contains('@') => members.push(email),
                _ => self.error(
                    file,
                    "invalid-declaration",
                    "a team member must be an email address",
                    member.span,
                    Some("write members as `\"ana@acme.com\"`"),
                ),
            }
        }
        if decl.members.is_empty() {
            self.error(
                file,
                "invalid-declaration",
                format!("team `{}` has no members", decl.name.name),
                decl.span,
                Some("`round_robin` needs at least one member to assign"),
            );
        }
        self.schema.teams.push(Team {
            name: decl.name.name.clone(),
            members,
            origin: Some(Origin {
                file: file.clone(),
                span: decl.name.span,
            }),
        });
    }

    fn webhook(&mut self, file: &Arc<SourceFile>, decl: &ast::WebhookDecl) {
        if self.schema.webhook(&decl.name.name).is_some() {
            self.error(
                file,
                "duplicate-declaration",
                format!("webhook `{}` is declared twice", decl.name.name),
                decl.name.span,
                None,
            );
            return;
        }
        let fields = self.fields(file, &decl.fields, &decl.name.name);
        self.schema.webhooks.push(Webhook {
            name: decl.name.name.clone(),
            payload: Arc::new(StructType {
                name: format!("payload of `{}`", decl.name.name),
                fields,
            }),
            origin: Some(Origin {
                file: file.clone(),
                span: decl.name.span,
            }),
        });
    }

    fn action(&mut self, file: &Arc<SourceFile>, decl: &ast::ActionDecl) {
        if self.schema.action(&decl.name.name).is_some() {
            self.error(
                file,
                "duplicate-declaration",
                format!("action `{}` is declared twice", decl.name.name),
                decl.name.span,
                None,
            );
            return;
        }
        let params = self.fields(file, &decl.params, &decl.name.name);
        self.schema.actions.push(Action {
            name: decl.name.name.clone(),
            params,
            idempotent: decl.idempotent,
            origin: Some(Origin {
                file: file.clone(),
                span: decl.name.span,
            }),
        });
    }

    fn fields(
        &mut self,
        file: &Arc<SourceFile>,
        fields: &[ast::FieldDecl],
        owner: &str,
    ) -> Vec<(String, Type)> {
        let mut out: Vec<(String, Type)> = Vec::new();
        for field in fields {
            if out.iter().any(|(n, _)| *n == field.name.name) {
                self.error(
                    file,
                    "duplicate-declaration",
                    format!("`{}` is declared twice in `{owner}`", field.name.name),
                    field.name.span,
                    None,
                );
                continue;
            }
            let owner = format!("{owner}.{}", field.name.name);
            if let Some(ty) = self.resolve_type(file, &field.ty, &owner) {
                out.push((field.name.name.clone(), ty));
            }
        }
        out
    }

    fn resolve_type(
        &mut self,
        file: &Arc<SourceFile>,
        ty: &ast::TypeExpr,
        owner: &str,
    ) -> Option<Type> {
        use ast::TypeExprKind as K;
        Some(match &ty.kind {
            K::Named(name) => match named_type(&name.name) {
                Some(t) => t,
                None => {
                    let shapes = ["record", "select", "status", "list"];
                    let candidates = TYPE_NAMES.iter().chain(&shapes).copied();
                    let help = crate::diagnostics::did_you_mean(&name.name, candidates)
                        .unwrap_or_else(|| format!("types are {}", quoted_list(TYPE_NAMES)));
                    self.error(
                        file,
                        "unknown-type",
                        format!("unknown type `{}`", name.name),
                        name.span,
                        Some(&help),
                    );
                    return None;
                }
            },
            K::List(inner) => Type::List(Box::new(self.resolve_type(file, inner, owner)?)),
            K::Currency(code) => {
                let valid =
                    code.name.len() == 3 && code.name.chars().all(|c| c.is_ascii_uppercase());
                if !valid {
                    self.error(
                        file,
                        "invalid-value",
                        format!("`{}` is not a currency code", code.name),
                        code.span,
                        Some(
                            "write its ISO 4217 code in capitals: `currency(EUR)`, `currency(USD)`",
                        ),
                    );
                    return None;
                }
                Type::Currency
            }
            K::Record(object) => {
                if self.schema.object(&object.name).is_none() {
                    self.unknown_object(file, object);
                    return None;
                }
                Type::Record(object.name.clone())
            }
            K::Select(options) | K::MultiSelect(options) | K::Status(options) => {
                let mut names: Vec<String> = Vec::new();
                for option in options {
                    if names.contains(&option.name) {
                        self.error(
                            file,
                            "duplicate-declaration",
                            format!("option `{}` is listed twice", option.name),
                            option.span,
                            None,
                        );
                    } else {
                        names.push(option.name.clone());
                    }
                }
                let set = Arc::new(OptionSet {
                    owner: owner.to_string(),
                    options: names,
                });
                match &ty.kind {
                    K::Select(_) => Type::Select(set),
                    K::MultiSelect(_) => Type::MultiSelect(set),
                    _ => Type::Status(set),
                }
            }
        })
    }

    fn unknown_object(&mut self, file: &Arc<SourceFile>, name: &ast::Ident) {
        let names: Vec<&str> = self
            .schema
            .objects
            .iter()
            .map(|o| o.name.as_str())
            .collect();
        let help = crate::diagnostics::did_you_mean(&name.name, names.iter().copied())
            .unwrap_or_else(|| format!("declare it with `object {} {{ … }}`", name.name));
        let diagnostic = Diagnostic::error(
            file,
            "unknown-object",
            format!("unknown object `{}`", name.name),
            name.span,
        )
        .with_help(help);
        self.diagnostics.push(diagnostic);
    }

    fn error(
        &mut self,
        file: &Arc<SourceFile>,
        code: &'static str,
        message: impl Into<String>,
        span: Span,
        help: Option<&str>,
    ) {
        let mut diagnostic = Diagnostic::error(file, code, message, span);
        if let Some(help) = help {
            diagnostic = diagnostic.with_help(help);
        }
        self.diagnostics.push(diagnostic);
    }
}

/// `a`, `b` and `c` in backticks.
/// "one of `a`, `b` or `c`" (just "`a`" for one): the values something accepts.
pub fn one_of<S: AsRef<str>>(names: &[S]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{}`", n.as_ref())).collect();
    match quoted.as_slice() {
        [] => "nothing (no values are declared)".to_string(),
        [one] => one.clone(),
        [init @ .., last] => format!("one of {} or {last}", init.join(", ")),
    }
}

/// "`a`, `b` and `c`": a list of names.
pub fn quoted_list<S: AsRef<str>>(names: &[S]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{}`", n.as_ref())).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {}", init.join(", "), last),
    }
}
