//! The language's keywords with one line of meaning each (language.md §3–§8), for
//! hover and completion.

/// A keyword or construct: the word, a snippet to insert, and what it means.
pub struct Keyword {
    /// The word as written.
    pub word: &'static str,
    /// What to insert (LSP snippet syntax).
    pub snippet: &'static str,
    /// One line of meaning.
    pub doc: &'static str,
}

const fn kw(word: &'static str, snippet: &'static str, doc: &'static str) -> Keyword {
    Keyword { word, snippet, doc }
}

/// Words that start an item.
pub const ITEMS: &[Keyword] = &[
    kw("rule", "rule ${1:id} \"${2:Title}\"", "`rule <id> [\"Title\"]`: a rule's stable id and display title"),
    kw("when", "when ", "`when [<object>] <trigger> [and <condition>]`: an event-triggered rule"),
    kw("every", "every ", "`every …`: a scheduled rule (`every weekday at 09:00`, `every 15 minutes`, `every cron \"…\"`)"),
    kw("object", "object ${1:name} {\n  ${2:attr}: ${3:text}\n}", "`object <name> { attr: type … }`: declares an object or extends a built-in one"),
    kw("list", "list \"${1:name}\" of ${2:people}", "`list \"<name>\" of <object>`: declares a list of records"),
    kw("team", "team ${1:name} = [\"${2:a@acme.com}\"]", "`team <name> = [\"email\", …]`: members in rotation order, for `round_robin`"),
    kw("webhook", "webhook ${1:name} {\n  ${2:field}: ${3:text}\n}", "`webhook <name> { field: type … }`: declares an inbound webhook and its payload"),
    kw("action", "action ${1:name}(${2:param}: ${3:text})", "`action <name>(param: type, …) [idempotent]`: a custom action the host registers"),
    kw("test", "test \"${1:name}\"\n  ", "`test \"<name>\" given … event … expect …`: a test block"),
];

/// Rule header lines.
pub const HEADERS: &[Keyword] = &[
    kw("owner", "owner \"${1:revops@acme.com}\"", "`owner \"<email>\"`: who answers for the rule"),
    kw("description", "description \"${1}\"", "`description \"<text>\"`: why the rule exists"),
    kw("on", "on ", "`on <object>`: the object whose records trigger the rule"),
    kw("status", "status ${1|active,paused,draft,archived|}", "`status active|paused|draft|archived`: only `active` rules fire (default `active`)"),
    kw("limit", "limit ${1:50} per ${2:hour}", "`limit <n> per [<k>] <unit>`: at most n runs per window; excess runs are recorded as suppressed"),
    kw("coalesce", "coalesce ${1:2 minutes}", "`coalesce <duration>`: updates to one record inside the window become one run"),
    kw("allow", "allow ${1:lint} \"${2:reason}\"", "`allow <lint> [\"reason\"]`: silence one lint for this rule"),
];

/// Triggers after `when`.
pub const TRIGGERS: &[Keyword] = &[
    kw("created", "created", "`created`: fires when a record is created"),
    kw("updated", "updated", "`updated`: fires when any attribute of a record changes"),
    kw("deleted", "deleted", "`deleted`: fires when a record is deleted"),
    kw("merged", "merged", "`merged`: fires when a record is merged into another"),
    kw("changed", "${1:attr} changed from ${2} to ${3}", "`<attr> changed [from <vals>] [to <vals>]`: fires when that attribute's value changes"),
    kw("matches", "matches ", "`matches <filter>`: fires when a record that did not match the filter now does"),
    kw("added", "added to list \"${1}\"", "`added to list \"<name>\"`: fires when a record is added to the list"),
    kw("removed", "removed from list \"${1}\"", "`removed from list \"<name>\"`: fires when a record is removed from the list"),
    kw("note", "note created", "`note created`: fires when a note is added to a record; `note` is in scope"),
    kw("comment", "comment added", "`comment added`: fires when a comment is added; `comment` is in scope"),
    kw("task", "task ${1|created,completed|}", "`task created` / `task completed`: fires when a task is created / completed; `task` is in scope"),
    kw("call", "call recorded", "`call recorded`: fires when a call recording is added; `call` is in scope"),
    kw("command", "command \"${1:Enrich now}\"", "`command \"<name>\"`: fires when a person runs the command on a record (`POST /api/rules/<rule>/run`, or a `command` event)"),
    kw("webhook", "webhook ", "`webhook <name>`: fires when a declared inbound webhook arrives; `payload` is in scope"),
    kw("rule", "rule ${1:id} failed", "`rule <id> failed [<n> times in a row]`: fires when another rule's run fails; `failure` is in scope"),
];

/// Steps after `do`.
pub const ACTIONS: &[Keyword] = &[
    kw("set", "set ${1:attr} = ${2}", "`set [<record>.]<attr> = <expr> [if empty]`: overwrite an attribute of the rule's record, or of the one named (`set company.owner = …`); with `if empty`, only when it is empty"),
    kw("clear", "clear ${1:attr}", "`clear [<record>.]<attr>`: empty an attribute of the rule's record, or of the one named"),
    kw("add", "add to list \"${1}\"", "`add [<record>] to list \"<name>\"`: add the rule's record, or the one named, to a list"),
    kw("remove", "remove from list \"${1}\"", "`remove [<record>] from list \"<name>\"`: remove the rule's record, or the one named, from a list"),
    kw("slack", "slack \"${1:#channel}\" \"${2:text}\"", "`slack \"<#channel>\" [\"<text>\"]` / `slack dm <member> [\"<text>\"]`: post to Slack"),
    kw("email", "email ${1:owner} subject \"${2}\" body \"${3}\"", "`email <to> subject \"<s>\" body \"<b>\"` / `email <to> template \"<id>\"`: send an email"),
    kw("create", "create task \"${1:title}\" for ${2:owner} due ${3:next_business_day()} key ${4:event.id}", "`create task \"<title>\" [for <member>] [due <time>] [body \"<b>\"] [linked to <record>] [key <expr>] [as <name>]` / `create <object> { … } [key <expr>] [as <name>]`: a task or a new record"),
    kw("find", "find ${1:companies} where ${2} as ${3:name}", "`find [all] <object> where <filter> [limit <n>] as <name>`: look a record up (may be empty); with `all`, every match as a list"),
    kw("for", "for each ${1:item} in ${2:list} do\n  ${3}\nend", "`for each <name> in <list> do <steps> end`: the steps once per item (records of a `find all`, a list attribute), the item bound to `<name>`"),
    kw("upsert", "upsert ${1:people} by ${2:email_addresses} { ${3} } as ${4:name}", "`upsert <object> by <attr> { … } [as <name>]`: find by a unique attribute, else create"),
    kw("note", "note \"${1:title}\" \"${2:body}\"", "`note [on <record>] \"<title>\" [\"<body>\"]`: an audit-trail note on the rule's record, or on the one named"),
    kw("http", "http ${1|GET,POST,PUT,PATCH,DELETE|} \"${2:https://}\"", "`http <METHOD> \"<url>\" [headers {…}] [body <expr>] [key <expr>] [as <name>]`: call an API"),
    kw("wait", "wait ${1:1 day}", "`wait <duration>` / `wait until <time>`: suspend the run durably, resume later"),
    kw("ask", "ask ${1:owner} \"${2:question}\" timeout ${3:2 days} as ${4:approval}", "`ask <member> \"<question>\" [timeout <duration>] as <name>`: human approval; suspends until answered"),
    kw("if", "if ${1} then\n  ${2}\nend", "`if <cond> then … [else if …] [else …] end`: branch"),
    kw("route", "route\n  ${1} => ${2}\n  else => ${3}\nend", "`route <cond> => <steps> … [else => <steps>] end`: the first arm that holds runs"),
    kw("stop", "stop", "`stop`: end the run (completed)"),
    kw("skip", "skip \"${1:reason}\"", "`skip [\"<reason>\"]`: end the run (skipped, with reason)"),
];

/// Functions.
pub const FUNCTIONS: &[Keyword] = &[
    kw("lower", "lower(${1})", "`lower(text) -> text`"),
    kw("upper", "upper(${1})", "`upper(text) -> text`"),
    kw("trim", "trim(${1})", "`trim(text) -> text`"),
    kw(
        "capitalize",
        "capitalize(${1})",
        "`capitalize(text) -> text`",
    ),
    kw(
        "title_case",
        "title_case(${1})",
        "`title_case(text) -> text`: every word capitalized (`ada lovelace` → `Ada Lovelace`)",
    ),
    kw(
        "domain",
        "domain(${1})",
        "`domain(email) -> domain`: the domain of an email address",
    ),
    kw(
        "member",
        "member(${1})",
        "`member(text) -> member`: the member a text names by email; anything else fails the step",
    ),
    kw(
        "url_encode",
        "url_encode(${1})",
        "`url_encode(text) -> text`: percent-encoded for a link's query or path (`?q={{url_encode(name)}}`)",
    ),
    kw(
        "len",
        "len(${1})",
        "`len(x) -> number`: length of a text, list or multi-select",
    ),
    kw(
        "coalesce",
        "coalesce(${1}, ${2})",
        "`coalesce(a, b)`: `a` if set, else `b`",
    ),
    kw(
        "days_between",
        "days_between(${1}, ${2})",
        "`days_between(a, b) -> number`: days between two dates/timestamps",
    ),
    kw(
        "next_business_day",
        "next_business_day()",
        "`next_business_day([from]) -> date`: the next working day (default: after today)",
    ),
    kw(
        "first",
        "first(${1})",
        "`first(list)`: the first item, e.g. a person's primary email address",
    ),
    kw(
        "count",
        "count(${1})",
        "`count(list) -> number`: how many items are set",
    ),
    kw(
        "sum",
        "sum(${1})",
        "`sum(list) -> number`: the total of numbers or amounts (`sum(open_deals.value)`)",
    ),
    kw(
        "avg",
        "avg(${1})",
        "`avg(list) -> number`: the mean of the items set; empty for none",
    ),
    kw(
        "min",
        "min(${1})",
        "`min(list)`: the least number, amount, date or time; empty for none",
    ),
    kw(
        "max",
        "max(${1})",
        "`max(list)`: the greatest number, amount, date or time; empty for none",
    ),
    kw(
        "round_robin",
        "round_robin(${1:team})",
        "`round_robin(<team>) -> member`: the next member of a declared team, in rotation",
    ),
    kw(
        "secret",
        "secret(\"${1:NAME}\")",
        "`secret(\"NAME\") -> text`: a secret, allowed only where its value goes to an API",
    ),
];

/// Words inside conditions.
pub const OPERATORS: &[Keyword] = &[
    kw("and", "and ", "both conditions hold"),
    kw("or", "or ", "either condition holds"),
    kw("not", "not ", "the condition does not hold"),
    kw(
        "in",
        "in [${1}]",
        "`x in [a, b]`: the value is one of the list",
    ),
    kw(
        "contains",
        "contains ",
        "text contains a substring, or a list/multi-select contains a value; `contains any [a, b]` (at least one) and `contains all [a, b]` (every one) for several",
    ),
    kw(
        "is",
        "is ${1|set,not set,empty,not empty|}",
        "`is set` / `is not set` / `is empty` / `is not empty`",
    ),
    kw(
        "before",
        "before ",
        "`a before b`: an earlier date or timestamp",
    ),
    kw("after", "after ", "`a after b`: a later date or timestamp"),
    kw(
        "within",
        "within ${1|last,next|} ${2:30 days}",
        "`within last|next <duration>`: a date or timestamp in the window around now",
    ),
    kw("ago", "ago", "`14 days ago`: that long before now"),
    kw("now", "now", "the current instant"),
    kw("today", "today", "the current date"),
    kw("empty", "empty", "no value"),
];

/// The meaning of a keyword, searched in the given tables in order.
pub fn doc(word: &str, tables: &[&[Keyword]]) -> Option<&'static str> {
    tables
        .iter()
        .flat_map(|t| t.iter())
        .find(|k| k.word == word)
        .map(|k| k.doc)
}

/// The shapes in scope in rules (language.md §6 "Names in scope").
pub const SHAPES: &[(&str, &[&str])] = &[
    ("event", &["id", "actor", "source", "at"]),
    ("note", &["id", "title", "body", "author"]),
    ("comment", &["id", "body", "author"]),
    (
        "task",
        &["id", "title", "body", "assignee", "due", "completed"],
    ),
    ("call", &["id", "title", "duration", "recording_url"]),
    ("failure", &["rule", "error", "step", "count"]),
];

/// The type of a field of a built-in shape, as language.md writes it.
pub fn shape_field_type(shape: &str, field: &str) -> Option<&'static str> {
    Some(match (shape, field) {
        (_, "id" | "title" | "body" | "recording_url" | "rule" | "error" | "step") => "text",
        ("event", "actor") => "actor: a member, `api`, `system` or `import`",
        ("event", "source") => "select: app, api, import, workflow, rule",
        ("event", "at") => "timestamp",
        (_, "author" | "assignee") => "member",
        ("task", "due") => "timestamp",
        ("task", "completed") => "checkbox",
        ("call", "duration") => "duration",
        ("failure", "count") => "number",
        _ => return None,
    })
}

/// What a built-in name means.
pub fn builtin_doc(name: &str) -> Option<&'static str> {
    Some(match name {
        "event" => "`event`: the event that started the run — `id`, `actor` (a member, `api`, `system` or `import`), `source` (`app`, `api`, `import`, `workflow`, `rule`), `at`",
        "old" => "`old.<attr>`: the value before this event",
        "record" => "`record.<attr>`: the rule's own record (also inside `find … where`)",
        "payload" => "`payload.<field>`: the webhook's payload",
        "failure" => "`failure`: the failed run — `rule`, `error`, `step`, `count`",
        "note" => "`note`: the note that was created — `id`, `title`, `body`, `author`",
        "entry" => "`entry`: the list entry that triggered the rule — `id` and the attributes its list declares",
        "comment" => "`comment`: the comment that was added — `id`, `body`, `author`",
        "task" => "`task`: the task — `id`, `title`, `body`, `assignee`, `due`, `completed`",
        "call" => "`call`: the call recording — `id`, `title`, `duration`, `recording_url`",
        _ => return None,
    })
}

/// Meanings of the words the tables above do not list (they are parts of a larger
/// form), so hover explains every keyword of the grammar.
pub const PARTS: &[Keyword] = &[
    kw("where", "where ", "`when <trigger> where <condition>` (like `and`), `find <object> where <condition>`, `every … for <object> where <condition>`"),
    kw("do", "do", "`do`: the steps that run when the rule fires follow"),
    kw("then", "then", "`if <condition> then <steps> [else …] end`"),
    kw("else", "else", "`else`: the steps of an `if` (or `route`) when nothing before matched; `else if <condition> then` adds a branch"),
    kw("end", "end", "`end`: closes `if`, `route` and `for each`"),
    kw("as", "as ", "`as <name>`: binds the step's result (a found, created or upserted record, an HTTP answer, an approval, a task) for later steps"),
    kw("per", "per ", "`limit <n> per <window>`: at most n runs of the rule per window"),
    kw("from", "from ", "`changed from <values>`: the old value was one of these; `removed from list`"),
    kw("to", "to ", "`changed to <values>`: the new value is one of these; `added to list`, `add to list`, `linked to`"),
    kw("completed", "completed", "`task completed`: fires when a task is marked done"),
    kw("recorded", "recorded", "`call recorded`: fires when a call recording is added"),
    kw("failed", "failed", "`rule <id> failed`: fires when that rule's run fails"),
    kw("times", "times", "`rule <id> failed <n> times in a row`: only after n failures in a row"),
    kw("a", "a", "`<n> times in a row`"),
    kw("row", "row", "`<n> times in a row`"),
    kw("at", "at ", "`every <day> at <hh:mm>`: the time of day a schedule runs"),
    kw("month", "month", "`every month on day <n> at <hh:mm>`"),
    kw("day", "day", "`every day at <hh:mm>`, `every month on day <n>`; also a time unit"),
    kw("cron", "cron \"${1}\"", "`cron \"<expr>\"`: a five-field cron schedule"),
    kw("dm", "dm ", "`slack dm <member>`: a direct message to that member"),
    kw("subject", "subject ", "`email <to> subject \"…\" body \"…\"`"),
    kw("body", "body ", "the text of an email, note or task, or the JSON body of an `http` call"),
    kw("template", "template ", "`email <to> template \"<name>\"`: send a workspace email template"),
    kw("due", "due ", "`create task \"…\" due <date>`: the task's deadline"),
    kw("key", "key ", "`key <expr>`: the idempotency key; a redelivered event or a retry with the same key does not repeat the effect"),
    kw("by", "by ", "`upsert <object> by <attribute> {…}`: the attribute that identifies the record"),
    kw("headers", "headers ", "`http … headers {…}`: request headers"),
    kw("until", "until ", "`wait until <timestamp>`: a durable wait until that moment"),
    kw("timeout", "timeout ", "`ask … timeout <duration>`: how long the question stays open"),
    kw("error", "error", "`on error continue`: a failing step does not stop the rule"),
    kw("continue", "continue", "`on error continue`: a failing step does not stop the rule"),
    kw("retry", "retry ", "`retry <n>`: retry the step up to n times before it fails"),
    kw("of", "of ", "`list of <type>`; `list \"<name>\" of <object>`"),
    kw("idempotent", "idempotent", "`action f(…) idempotent`: the action may be retried safely"),
    kw("select", "select ", "`select [a, b]`: one of the options; `select [] [a, b]`: several"),
    kw("record", "record", "the record the rule runs on (`record.id`); `record(<object>)`: a reference type"),
    kw("given", "given ", "`given <object> {…}` (the record), `given http \"<url>\" <answer>`, `given ask {…}`: the test's world"),
    kw("event", "event ", "`event <trigger> {…}`: the event the test sends; in rules, `event.source`, `event.actor`"),
    kw("expect", "expect ", "`expect [no|<n>] <effect> \"…\"`: what the test must (not) see"),
    kw("no", "no ", "`expect no <effect>`: the effect must not happen"),
    kw("any", "any ", "`contains any [a, b]`: at least one of them"),
    kw("all", "all ", "`contains all [a, b]`: every one of them; `find all`: every match"),
    kw("starts", "starts with ", "`starts with \"…\"`: text begins with it"),
    kw("ends", "ends with ", "`ends with \"…\"`: text ends with it"),
    kw("with", "with ", "`starts with` / `ends with`"),
    kw("last", "last ", "`within last <duration>`"),
    kw("next", "next ", "`within next <duration>`"),
    kw("linked", "linked to ", "`create task … linked to <record>`: the record the task is about"),
    kw("each", "each ", "`for each <name> in <records> do … end`"),
    kw("redeliver", "redeliver", "`redeliver`: the test sends the last event again; no effect may repeat"),
    kw("entry", "entry", "`entry changed in list \"…\"`; `entry.<attr>`: the list entry a rule runs on"),
    kw("replace", "replace", "`ask … replace`: a newer question about the same record ends the open one"),
    kw("unique", "unique", "an attribute no two records share (`upsert … by` needs one)"),
    kw("readonly", "readonly", "an attribute rules may read but not write"),
    kw("seconds", "seconds", "a time unit: `30 seconds`"),
    kw("minutes", "minutes", "a time unit: `15 minutes`"),
    kw("hours", "hours", "a time unit: `2 hours`"),
    kw("days", "days", "a time unit: `3 days`"),
    kw("weeks", "weeks", "a time unit: `2 weeks`"),
    kw("true", "true", "the boolean true"),
    kw("false", "false", "the boolean false"),
];

/// The heading of the `docs/language.md` section that explains `word`, given the words
/// around it (`prev`, `next`) and whether it stands among a rule's steps.
pub fn reference_section(
    word: &str,
    prev: Option<&str>,
    next: Option<&str>,
    in_steps: bool,
) -> Option<&'static str> {
    Some(match (word, prev, next) {
        // Two-word forms first: the pair decides.
        ("for", _, Some("each")) | ("each", Some("for"), _) => "Loops: `for each`",
        ("on", _, Some("error")) | ("error" | "continue", ..) | ("retry", ..) => "Modifiers",
        ("in" | "list", _, _) if prev == Some("in") || next == Some("list") => "`in list`",
        ("entry", ..) => "List entries",
        ("if", _, Some("empty")) | ("empty", Some("if"), _) => "Writing attributes",
        ("task" | "note" | "comment" | "call", ..) if !in_steps => "Activity triggers",
        ("completed" | "recorded", ..) => "Activity triggers",
        ("created", Some("note" | "comment" | "task"), _) => "Activity triggers",
        ("task" | "due" | "linked", ..) => "Tasks",
        ("for", ..) if in_steps => "Tasks",
        ("note", ..) => "Acting on other records",
        ("on", Some("note"), _) => "Acting on other records",
        // Items and headers.
        ("when" | "do", ..) => "2. The smallest rule and object inference",
        ("rule", _, _) if next.is_some_and(|n| n != "failed") && prev != Some("when") => "Rule ids",
        ("failed" | "times" | "a" | "row" | "rule", ..) => "Meta-rules: `rule … failed`",
        (
            "owner" | "description" | "on" | "status" | "limit" | "per" | "coalesce" | "allow",
            ..,
        ) if !in_steps => "3. Rule headers",
        // Triggers.
        ("created" | "updated" | "deleted" | "merged", ..) => "4. Triggers",
        ("changed" | "from" | "to", ..) if !in_steps => "`changed`",
        ("matches", ..) => "`matches`",
        ("added" | "removed" | "list", ..) if !in_steps => "Lists",
        ("command", ..) => "Commands",
        ("webhook", ..) if !in_steps => "Webhooks",
        ("every" | "cron" | "at" | "month" | "day" | "for", ..) => "5. Schedules",
        ("where", ..) if !in_steps => "6. Conditions and expressions",
        // Conditions.
        ("and" | "or" | "not", ..) => "Precedence",
        (
            "in" | "is" | "contains" | "any" | "all" | "starts" | "ends" | "with" | "before"
            | "after" | "within" | "last" | "next",
            ..,
        ) if !(word == "all" && prev == Some("find")) => "Comparisons",
        ("empty", ..) => "Empty values",
        (
            "now" | "today" | "ago" | "true" | "false" | "seconds" | "second" | "minutes"
            | "minute" | "hours" | "hour" | "days" | "weeks" | "week",
            ..,
        ) => "Values",
        // Steps.
        ("set" | "clear", ..) => "Writing attributes",
        ("add" | "remove" | "to" | "from" | "list", ..) => "Acting on other records",
        ("slack" | "dm" | "email" | "subject" | "body" | "template", ..) => "Messages",
        ("create" | "find" | "upsert" | "by" | "where" | "limit" | "all", ..) => {
            "Records: create, find, upsert"
        }
        ("http" | "headers" | "GET" | "POST" | "PUT" | "PATCH" | "DELETE", ..) => "HTTP",
        ("wait" | "until" | "ask" | "timeout" | "replace", ..) => "Waiting and approvals",
        ("if" | "then" | "else" | "end" | "route" | "stop" | "skip", ..) => "Branches",
        ("as", ..) => "`as` bindings",
        ("key", ..) => "Keys",
        ("secret", ..) => "9. Secrets",
        // Declarations and tests.
        ("object" | "team" | "action" | "idempotent" | "webhook", ..) => "Declarations",
        ("select" | "record" | "of" | "unique" | "readonly", ..) => "Types",
        ("test" | "given" | "event" | "expect" | "no" | "redeliver", ..) => "11. Test blocks",
        _ if FUNCTIONS.iter().any(|f| f.word == word) => "7. Functions",
        _ => return None,
    })
}

/// What `word` means in a declaration, where it differs from its meaning in a rule.
pub fn declaration_doc(word: &str) -> Option<&'static str> {
    Some(match word {
        "status" => "`status [a, b, …]`: one of the options, which form a pipeline in that order (`stage >= Proposal`)",
        "list" => "`list \"<name>\" of <object> { … }`: a list and its entries' own attributes; `list of <type>`: an attribute holding several values",
        "record" => "`record(<object>)`: a reference to a record of that object",
        _ => return None,
    })
}

/// The heading of the `docs/language.md` section that explains `word` in a
/// declaration (`object`, `list`, `team`, `webhook`, `action`).
pub fn declaration_section(word: &str) -> Option<&'static str> {
    Some(match word {
        "list" => "List entries",
        "object" | "team" | "webhook" | "action" | "idempotent" => "Declarations",
        "status" | "select" | "record" | "of" | "unique" | "readonly" => "Types",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every keyword of the compiler's grammar, with the words around it that decide its
    /// meaning, has a hover: a meaning and a reference section that exists.
    #[test]
    fn every_keyword_has_a_meaning_and_a_reference_section() {
        let grammar = include_str!("../../grammar/rules.pest");
        let keywords: Vec<&str> = grammar
            .lines()
            .filter_map(|l| l.strip_prefix("kw_"))
            .filter_map(|l| l.split('"').nth(1))
            .collect();
        assert!(keywords.len() > 100, "found {} keywords", keywords.len());
        let tables: &[&[Keyword]] = &[
            TRIGGERS, HEADERS, ITEMS, OPERATORS, FUNCTIONS, ACTIONS, PARTS,
        ];
        let pairs = [
            ("for", "each"),
            ("on", "error"),
            ("in", "list"),
            ("if", "empty"),
            ("rule", "failed"),
        ];
        let mut missing = Vec::new();
        for word in keywords {
            if doc(word, tables).is_none() {
                missing.push(format!("`{word}` has no meaning"));
            }
            let contexts = [(None, None, false), (None, None, true)]
                .into_iter()
                .chain(
                    pairs
                        .iter()
                        .filter(|p| p.0 == word)
                        .map(|p| (None, Some(p.1), false)),
                )
                .chain(
                    pairs
                        .iter()
                        .filter(|p| p.1 == word)
                        .map(|p| (Some(p.0), None, false)),
                );
            let sections: Vec<&str> = contexts
                .filter_map(|(prev, next, steps)| reference_section(word, prev, next, steps))
                .collect();
            if sections.is_empty() {
                missing.push(format!("`{word}` has no reference section"));
            }
            for title in sections {
                if rulec::reference::section(title).is_none() {
                    missing.push(format!(
                        "`{word}`: docs/language.md has no section `{title}`"
                    ));
                }
            }
        }
        for word in [
            "list", "object", "status", "select", "record", "unique", "action",
        ] {
            let title = declaration_section(word).unwrap_or("(none)");
            if rulec::reference::section(title).is_none() {
                missing.push(format!("`{word}` in a declaration: no section `{title}`"));
            }
        }
        assert!(missing.is_empty(), "{}", missing.join("\n"));
    }
}
