//! What the codes of syntax, schema and type errors mean, for `rulec explain` and the
//! editor's hover. Lints document themselves beside their code (`src/lint/`); these are
//! the checker's own codes.

/// A diagnostic code that is not a lint, with its explanation.
#[derive(Clone, Copy, Debug)]
pub struct Code {
    /// The code, as diagnostics carry it.
    pub name: &'static str,
    /// One line.
    pub summary: &'static str,
    /// What it means and how to fix it; Markdown.
    pub docs: &'static str,
}

/// Looks a code up.
pub fn code(name: &str) -> Option<&'static Code> {
    CODES.iter().find(|c| c.name == name)
}

/// Every checker code.
pub const CODES: &[Code] = &[
    Code {
        name: "syntax-error",
        summary: "the text does not read as a rule, declaration or test",
        docs: "The parser could not read the item. The message says what it expected where it\nstopped; a misspelt keyword (`chaged`) gets a \"did you mean\" and a fix, and a string\nthat is never closed is pointed at where it opens. Only the broken item is skipped:\nevery other rule in the file is still checked.\n\n```rules\nwhen stage chaged to ClosedWon do slack \"#wins\"   # did you mean `changed`?\n```\n",
    },
    Code {
        name: "internal-error",
        summary: "rulec could not read text its own grammar accepted",
        docs: "A bug in rulec, never a mistake in the rules: the grammar accepted a shape the\nreader does not know. The item is not compiled (nothing half-read can run). Please\nreport it with the file.\n",
    },
    Code {
        name: "invalid-encoding",
        summary: "the file is not valid UTF-8",
        docs: "Rule files are UTF-8. The diagnostic points at the first byte that is not; save\nthe file as UTF-8.\n",
    },
    Code {
        name: "invalid-config",
        summary: "`rulec.toml` has an unknown key or a bad value",
        docs: "`rulec.toml` takes `schema = \"<file>.rules\"`, a `[lints]` table of\n`<lint> = \"allow\" | \"info\" | \"warning\" | \"error\"`, and `[http] allow = [\"host\", …]`.\n",
    },
    Code {
        name: "unknown-object",
        summary: "no object of that name in the schema",
        docs: "Objects are the prelude's (`deals`, `people`, `companies`, `users`) and those\ndeclared with `object <name> { … }` in any file checked together or in the schema file.\nThe help names the closest one, and the fix replaces it.\n",
    },
    Code {
        name: "unknown-attribute",
        summary: "the object has no attribute of that name",
        docs: "Attributes come from the prelude and `object` declarations. Paths follow record\nreferences (`company.name`). The help names the closest attribute and the fix replaces\nit; to add one, declare it:\n\n```rules\nobject deals {\n  region: text\n}\n```\n",
    },
    Code {
        name: "unknown-option",
        summary: "not an option of that select or status attribute",
        docs: "A bare word (or a string) opposite a select or status attribute is one of its\noptions, matched exactly. A typo (`ClosedWn`) would make a comparison that is never\ntrue, so it is an error, with a fix when one option is close.\n",
    },
    Code {
        name: "unknown-name",
        summary: "the name means nothing here",
        docs: "A bare name is an attribute of the rule's object, an `as` binding of an earlier\nstep, or one of `event`, `old`, `payload`, `failure`, `record` and the activity of an\nactivity trigger (`note`, `task`, `comment`, `call`) where those are in scope.\n",
    },
    Code {
        name: "unknown-function",
        summary: "no built-in function of that name",
        docs: "Functions: `lower`, `upper`, `trim`, `capitalize`, `title_case`, `url_encode`, `domain`, `len`,\n`coalesce`, `days_between`, `next_business_day`, `round_robin`, `secret`. Declared\nactions are steps, not functions: write them after `do` with named arguments.\n",
    },
    Code {
        name: "unknown-list",
        summary: "no list of that name is declared",
        docs: "Declare lists with `list \"<name>\" of <object>`.\n",
    },
    Code {
        name: "unknown-team",
        summary: "no team of that name is declared",
        docs: "Declare teams with `team <name> = [\"ana@acme.com\", …]`; `round_robin(<team>)`\nrotates through them.\n",
    },
    Code {
        name: "unknown-webhook",
        summary: "no webhook of that name is declared",
        docs: "Declare webhooks with `webhook <name> { field: type, … }`; the fields are the\nshape of `payload`.\n",
    },
    Code {
        name: "unknown-action",
        summary: "no step, expectation or declared action of that name",
        docs: "Steps are `set`, `clear`, `add to list`, `remove from list`, `slack`, `email`,\n`create`, `find`, `upsert`, `note`, `http`, `wait`, `ask`, `if`, `route`, `stop`,\n`skip` and actions declared with `action <name>(param: type, …)`.\n",
    },
    Code {
        name: "unknown-rule",
        summary: "`rule … failed` names a rule that does not exist",
        docs: "A meta-rule watches a rule by its `rule <id>` header; header-less rules cannot\nbe watched.\n",
    },
    Code {
        name: "unknown-type",
        summary: "not a type",
        docs: "Types: `text`, `number`, `currency`, `checkbox`, `date`, `timestamp`, `duration`,\n`select [..]`, `select[] [..]`, `status [..]`, `member`, `record(<object>)`, `email`,\n`domain`, `phone`, `list of <type>`, `json`.\n",
    },
    Code {
        name: "unknown-lint",
        summary: "no lint of that name",
        docs: "`allow` headers and `[lints]` in `rulec.toml` name lints; `rulec lints` lists them.\n",
    },
    Code {
        name: "type-mismatch",
        summary: "a value of the wrong type",
        docs: "Every expression has a type, checked where it is used: a comparison needs two\ncomparable sides, a `set` a value the attribute takes, a condition true or false.\nCurrency and numbers mix; dates and timestamps compare. Multi-value attributes\n(`select[]`, `list of …`) take `contains`, `contains any [..]` and `contains all [..]`.\n",
    },
    Code {
        name: "invalid-value",
        summary: "a literal that is not valid where it is written",
        docs: "A date that is not a calendar date (`2026-02-30`), a time that does not parse, a\nSlack channel without its `#`, `{{ }}` where fixed text is required, or a test value\nthat is not a literal.\n",
    },
    Code {
        name: "invalid-argument",
        summary: "a function or action argument of the wrong kind",
        docs: "The help says what the function or action takes (e.g. `secret(\"NAME\")` needs a\nplain string literal).\n",
    },
    Code {
        name: "missing-argument",
        summary: "a function or action is missing an argument",
        docs: "Declared actions need every parameter by name: `pagerduty(severity: high,\nsummary: \"…\")`.\n",
    },
    Code {
        name: "invalid-schedule",
        summary: "a schedule that cannot run",
        docs: "Times are `HH:MM` (00:00–23:59), zones IANA names (`\"America/New_York\"`),\nintervals at least a minute, `cron` five fields, `every month on day` 1–31.\n",
    },
    Code {
        name: "invalid-declaration",
        summary: "a declaration that cannot stand",
        docs: "An empty team, a `select` without options, an attribute flag on a type that\ncannot carry it.\n",
    },
    Code {
        name: "invalid-test",
        summary: "a test that cannot be run as written",
        docs: "`matches` and `rule … failed` cannot be simulated as events: write the change\nthat makes the record match, or make the watched rule fail.\n",
    },
    Code {
        name: "duplicate-declaration",
        summary: "declared twice, differently",
        docs: "Two workspace declarations of one attribute with different types, or two lists,\nteams, webhooks or actions of one name. The first stays in force.\n",
    },
    Code {
        name: "duplicate-rule-id",
        summary: "two rules share an id",
        docs: "Rule ids are unique across every file checked together: they key run history and\nidempotency. Rename one.\n",
    },
    Code {
        name: "duplicate-header",
        summary: "a header line written twice in one rule",
        docs: "Each of `owner`, `description`, `on`, `status`, `limit`, `coalesce` may appear once.\n",
    },
    Code {
        name: "duplicate-binding",
        summary: "an `as` name already in use",
        docs: "A binding may not reuse an attribute of the rule's object, another binding or a\nbuilt-in name (`event`, `old`, `payload`, `record`, …).\n",
    },
    Code {
        name: "ambiguous-object",
        summary: "several objects have the rule's attributes",
        docs: "The object of a rule without `on` is inferred from the attributes it names; when\nmore than one object fits, say which with `on <object>` (the help lists them).\n",
    },
    Code {
        name: "ambiguous-name",
        summary: "inside `find`, a name that could mean either record",
        docs: "Bare names inside `find <object> where …` are the searched object's. Write\n`record.<attr>` for the rule's own record, and rename an `as` binding that shadows a\nsearched attribute.\n",
    },
    Code {
        name: "missing-object",
        summary: "the rule's object cannot be inferred",
        docs: "Nothing in the rule names an attribute; add `on <object>` or `when <object> …`.\n",
    },
    Code {
        name: "read-only-attribute",
        summary: "a write to an attribute the CRM sets",
        docs: "`readonly` attributes (`created_at`) may be read but not written by `set`,\n`clear`, `create` or `upsert`.\n",
    },
    Code {
        name: "secret-exposed",
        summary: "`secret(…)` where its value would be shown",
        docs: "Secrets go only to APIs: an `http` step's URL, headers and body, and custom\naction arguments. Anywhere else (messages, conditions, records, keys) the value would\nreach people or logs.\n",
    },
    Code {
        name: "unused-allow",
        summary: "an `allow` that silences nothing",
        docs: "The lint it names does not fire in this rule (any more); remove the header.\n",
    },
];
