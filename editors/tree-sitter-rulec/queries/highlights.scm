; Highlights for rulec.
;
; Capture names are chosen to work in both Helix and Neovim: each falls back along its
; dots to a group the other editor's themes colour (`constant.numeric` is Helix's
; number and Neovim's `@constant`; `keyword.conditional` is Neovim's and Helix's
; `keyword`). Every node is captured by exactly one pattern, because the two editors
; resolve overlapping captures in opposite orders (Helix: first wins; Neovim: last).

(comment) @comment

; ------------------------------------------------------------------ keywords

[
  "when" "every" "do" "end" "rule" "owner" "description" "on" "status" "limit" "per"
  "coalesce" "allow" "changed" "from" "to" "created"
  "matches" "added" "removed" "list" "note" "comment" "task" "completed" "call"
  "recorded" "webhook" "command" "entry" "failed" "times" "a" "row" "cron" "month" "day"
  "at" "for" "where" "set" "clear" "add" "remove" "slack" "dm" "email" "subject" "body"
  "template" "create" "due" "linked" "key" "as" "find" "upsert" "by" "http" "headers"
  "wait" "until" "ask" "timeout" "replace" "stop" "skip" "retry" "continue" "error"
  "object" "of" "select" "record" "team" "action" "test" "given" "event"
  "expect" "no" "ago"
] @keyword

[ "readonly" "unique" "idempotent" ] @keyword.modifier

[ "if" "then" "else" "else if" "route" ] @keyword.conditional

"for each" @keyword.repeat

[
  "and" "or" "not" "in" "is" "contains" "any" "all" "starts" "ends" "with" "before"
  "after" "within" "last" "next"
] @keyword.operator

; `is empty`, `set … if empty` (a value `empty` is `(empty)`, below).
(postfix_expression "empty" @keyword.operator)
(set_step "empty" @keyword)

(time_unit) @keyword

; Whole-word nodes: a trigger that is one word, a test directive.
[ (updated_trigger) (deleted_trigger) (merged_trigger) (redeliver) ] @keyword

; ------------------------------------------------------------------ literals

(string) @string
(escape_sequence) @string.escape
(interpolation [ "{{" "}}" ] @punctuation.special)

[ (number) (integer) (negative) ] @constant.numeric
[ (date) (datetime) (time_of_day) ] @string.special
(boolean) @constant.builtin.boolean
[ (empty) (now) (today) ] @constant.builtin
(http_method) @constant.builtin

; Option names: `from Open to ClosedWon`, `status [Open, Won]`.
(option) @constant

; ------------------------------------------------------------------ names

; Rules and actions are what runs.
(rule_header name: (identifier) @function)
(rule_failed_trigger rule: (identifier) @function)
(action_declaration name: (identifier) @function)
(custom_step action: (identifier) @function.call)
(call function: (identifier) @function.call)

; Objects, webhooks and types.
(object_declaration name: (identifier) @type)
(list_declaration object: (identifier) @type)
(webhook_declaration name: (identifier) @type)
(webhook_trigger webhook: (identifier) @type)
(record_type argument: (identifier) @type)
(type_name) @type.builtin
(on_header object: (identifier) @type)
(when_clause object: (identifier) @type)
(test_event object: (identifier) @type)
(for_clause object: (identifier) @type)
(create_step object: (identifier) @type)
(find_step object: (identifier) @type)
(upsert_step object: (identifier) @type)
(given_record object: (identifier) @type)

; Attributes: declared, watched, written, named in maps and arguments.
(attribute_declaration name: (identifier) @variable.other.member)
(field_declaration name: (identifier) @variable.other.member)
(changed_trigger attribute: (identifier) @variable.other.member)
(upsert_step by: (identifier) @variable.other.member)
(map_entry key: (identifier) @variable.other.member)
(named_argument name: (identifier) @variable.other.member)

; A path's first name is the rule's record's attribute, a binding, or one of the
; built-in records; the names after a dot are attributes.
(path
  .
  (identifier) @variable.builtin
  (#any-of? @variable.builtin "record" "old" "event" "entry"))
(path
  .
  (identifier) @variable
  (#not-any-of? @variable "record" "old" "event" "entry"))
(path "." (identifier) @variable.other.member)

; Bindings and other names.
(as_clause name: (identifier) @variable)
(for_each_step name: (identifier) @variable)
(given_record name: (identifier) @variable)
(team_declaration name: (identifier) @constant)
(status_header status: (identifier) @constant)
(daily_schedule day: (identifier) @constant)
(expect effect: (identifier) @function.call)
(lint_name) @attribute

; ------------------------------------------------------------------ punctuation

[ "=" "==" "!=" "<" "<=" ">" ">=" "+" "-" "*" "/" "=>" ] @operator
[ "(" ")" "[" "]" "{" "}" ] @punctuation.bracket
[ "," "." ":" ] @punctuation.delimiter
