/**
 * @file The tree-sitter grammar of rulec, for editors: highlighting, folding, text
 * objects, structural navigation.
 *
 * The compiler's grammar is `grammar/rules.pest`; this one follows it form for form
 * (the corpus tests and a parse of every example keep them in step) but is tolerant
 * where an editor needs it to be: it recovers from errors, and it does not check what
 * the type checker checks. Where pest decides by trying alternatives in order and
 * backtracking, this grammar either keeps both readings until a later word decides
 * (the `conflicts` below) or, for `for each` and `else if`, reads the two words as one
 * token so the longest match makes pest's choice (README.md, "Decisions").
 *
 * Templates (`{{ expr }}` inside strings) are parsed here, as `interpolation` nodes
 * holding ordinary expressions, so a template's paths get the same tree and colours
 * as a condition's.
 */

/* eslint-disable arrow-parens */
/* global grammar, seq, choice, repeat, repeat1, optional, prec, token, field, alias */

const PREC = {
  matches: -1,
  or: 1,
  and: 2,
  not: 3,
  compare: 4,
  add: 5,
  mul: 6,
  neg: 7,
  call: 8,
};

/**
 * Keywords that are also ordinary names (rulec reserves only a few words): an
 * attribute may be called `email`, `note` or `status`. Where the keyword could be
 * meant too (a route arm's condition after a step: `email ends with "@acme.com" =>`),
 * both readings are kept until the parse decides, as pest's backtracking does.
 */
const NAME_KEYWORDS = [
  'set', 'clear', 'add', 'remove', 'slack', 'email', 'create', 'find', 'upsert', 'note',
  'http', 'wait', 'ask', 'route', 'stop', 'skip', 'retry', 'key', 'body', 'due', 'linked',
  'headers', 'status', 'owner', 'description', 'comment', 'task', 'call', 'command',
  'entry', 'rule', 'added', 'removed', 'list', 'subject', 'template', 'timeout',
];

/** `rule, rule, …` with an optional trailing comma, possibly empty. */
const commaSep = (rule) => optional(seq(rule, repeat(seq(',', rule)), optional(',')));

/** Two words as one token: the grammar's way to say "prefer this reading". */
const words = (...parts) =>
  alias(token(prec(1, seq(...parts.flatMap((p, i) => (i ? [/\s+/, p] : [p]))))), parts.join(' '));

module.exports = grammar({
  name: 'rulec',

  word: ($) => $.identifier,

  extras: ($) => [/\s/, $.comment],

  conflicts: ($) => [
    // A route arm's steps end where the next arm's condition starts; both may begin
    // with a name and a `(` (a custom action, a call), so only `=>` tells them apart.
    [$.route_arm],
    // `when entry changed in list "…"` (the entry trigger) or an attribute `entry`.
    [$.entry_changed_trigger, $._name],
    // A step's modifiers (`on error continue`) against the next rule's `on <object>`
    // header, and `set … if empty` against a following `if` step: the word after
    // decides, so both readings are kept until it comes.
    [$.set_step],
    [$.clear_step],
    [$.add_to_list_step],
    [$.remove_from_list_step],
    [$.slack_step],
    [$.email_step],
    [$.create_task_step],
    [$.create_step],
    [$.find_step],
    [$.upsert_step],
    [$.note_step],
    [$.http_step],
    [$.wait_step],
    [$.ask_step],
    [$.for_each_step],
    [$.if_step],
    [$.route_step],
    [$.stop_step],
    [$.skip_step],
    [$.custom_step],
  ],

  rules: {
    source_file: ($) => repeat($._item),

    _item: ($) =>
      choice(
        $.rule,
        $.object_declaration,
        $.list_declaration,
        $.team_declaration,
        $.webhook_declaration,
        $.action_declaration,
        $.test,
      ),

    comment: (_) => token(seq('#', /.*/)),

    // ------------------------------------------------------------------ rules

    rule: ($) => seq(repeat($._header), choice($.when_clause, $.every_clause), $.do_clause),

    _header: ($) =>
      choice(
        $.rule_header,
        $.owner_header,
        $.description_header,
        $.on_header,
        $.status_header,
        $.limit_header,
        $.coalesce_header,
        $.allow_header,
      ),
    rule_header: ($) => seq('rule', field('name', $.identifier), optional(field('title', $.string))),
    owner_header: ($) => seq('owner', $.string),
    description_header: ($) => seq('description', $.string),
    on_header: ($) => seq('on', field('object', $.identifier)),
    status_header: ($) => seq('status', field('status', $.identifier)),
    limit_header: ($) => seq('limit', $.integer, 'per', optional($.integer), $.time_unit),
    coalesce_header: ($) => seq('coalesce', $.duration),
    allow_header: ($) => seq('allow', field('lint', $.lint_name), optional(field('reason', $.string))),

    when_clause: ($) =>
      seq('when', optional(field('object', $.identifier)), field('trigger', $._trigger), optional($.condition)),
    condition: ($) => seq(choice('and', 'where'), $._expression),

    _trigger: ($) =>
      choice(
        $.created_trigger,
        $.updated_trigger,
        $.deleted_trigger,
        $.merged_trigger,
        $.changed_trigger,
        $.entry_changed_trigger,
        $.matches_trigger,
        $.list_added_trigger,
        $.list_removed_trigger,
        $.note_created_trigger,
        $.comment_added_trigger,
        $.task_created_trigger,
        $.task_completed_trigger,
        $.call_recorded_trigger,
        $.webhook_trigger,
        $.command_trigger,
        $.rule_failed_trigger,
      ),
    created_trigger: (_) => 'created',
    updated_trigger: (_) => 'updated',
    deleted_trigger: (_) => 'deleted',
    merged_trigger: (_) => 'merged',
    changed_trigger: ($) =>
      seq(
        field('attribute', $._name),
        'changed',
        optional(seq('from', field('from', $._values))),
        optional(seq('to', field('to', $._values))),
        optional($.in_list),
      ),
    entry_changed_trigger: ($) => prec.dynamic(1, seq('entry', 'changed', $.in_list)),
    in_list: ($) => seq('in', 'list', field('list', $.string)),
    matches_trigger: ($) => prec(PREC.matches, seq('matches', $._expression)),
    list_added_trigger: ($) => seq('added', 'to', 'list', field('list', $.string)),
    list_removed_trigger: ($) => seq('removed', 'from', 'list', field('list', $.string)),
    note_created_trigger: (_) => seq('note', 'created'),
    comment_added_trigger: (_) => seq('comment', 'added'),
    task_created_trigger: (_) => seq('task', 'created'),
    task_completed_trigger: (_) => seq('task', 'completed'),
    call_recorded_trigger: (_) => seq('call', 'recorded'),
    webhook_trigger: ($) => seq('webhook', field('webhook', $.identifier)),
    command_trigger: ($) => seq('command', field('command', $.string)),
    rule_failed_trigger: ($) =>
      seq('rule', field('rule', $.identifier), 'failed', optional(seq($.integer, 'times', 'in', 'a', 'row'))),

    _values: ($) => choice($.value_list, $._value),
    value_list: ($) => seq('[', commaSep($._value), ']'),
    _value: ($) =>
      choice(
        $.empty,
        $.datetime,
        $.date,
        $.negative,
        $.number,
        $.string,
        $.boolean,
        alias($.identifier, $.option),
      ),

    negative: ($) => seq('-', $.number),

    every_clause: ($) =>
      seq(
        choice(seq('every', choice($.cron_schedule, $.interval_schedule, $.monthly_schedule, $.daily_schedule)), $.cron_schedule),
        optional(seq('in', field('time_zone', $.string))),
        optional($.for_clause),
      ),
    cron_schedule: ($) => seq('cron', $.string),
    interval_schedule: ($) => seq($.integer, $.time_unit),
    monthly_schedule: ($) => seq('month', 'on', 'day', $.integer, 'at', $.time_of_day),
    daily_schedule: ($) => seq(field('day', $.identifier), 'at', $.time_of_day),
    for_clause: ($) => seq('for', field('object', $.identifier), optional(seq('where', $._expression))),

    // ------------------------------------------------------------------ steps

    do_clause: ($) => seq('do', repeat1($._step)),

    _step: ($) =>
      choice(
        $.set_step,
        $.clear_step,
        $.add_to_list_step,
        $.remove_from_list_step,
        $.slack_step,
        $.email_step,
        $.create_task_step,
        $.create_step,
        $.find_step,
        $.upsert_step,
        $.note_step,
        $.http_step,
        $.wait_step,
        $.ask_step,
        $.for_each_step,
        $.if_step,
        $.route_step,
        $.stop_step,
        $.skip_step,
        $.custom_step,
      ),

    on_error: (_) => seq('on', 'error', 'continue'),
    retry: ($) => seq('retry', $.integer),
    key_clause: ($) => seq('key', $._expression),
    as_clause: ($) => seq('as', field('name', $.identifier)),

    set_step: ($) =>
      step($, 'set', field('target', $.path), '=', field('value', $._expression), optional(seq('if', 'empty'))),
    clear_step: ($) => step($, 'clear', field('target', $.path)),
    add_to_list_step: ($) => step($, 'add', optional(field('target', $.path)), 'to', 'list', field('list', $.string)),
    remove_from_list_step: ($) =>
      step($, 'remove', optional(field('target', $.path)), 'from', 'list', field('list', $.string)),
    slack_step: ($) =>
      step(
        $,
        'slack',
        choice(seq('dm', field('member', $._expression)), field('channel', $.string)),
        optional(field('text', $.string)),
        optional($.key_clause),
      ),
    email_step: ($) =>
      step(
        $,
        'email',
        field('to', $._expression),
        choice(seq('subject', field('subject', $.string), 'body', field('body', $.string)), seq('template', field('template', $.string))),
        optional($.key_clause),
      ),
    create_task_step: ($) =>
      step(
        $,
        'create',
        'task',
        field('title', $.string),
        repeat(
          choice(
            seq('for', field('assignee', $._expression)),
            seq('due', field('due', $._expression)),
            seq('body', field('body', $.string)),
            seq('linked', 'to', field('linked', $.path)),
            $.key_clause,
          ),
        ),
        optional($.as_clause),
      ),
    create_step: ($) =>
      step($, 'create', field('object', $.identifier), $.map, optional($.key_clause), optional($.as_clause)),
    find_step: ($) =>
      step(
        $,
        'find',
        optional('all'),
        field('object', $.identifier),
        'where',
        $._expression,
        optional(seq('limit', $.integer)),
        $.as_clause,
      ),
    upsert_step: ($) =>
      step($, 'upsert', field('object', $.identifier), 'by', field('by', $.identifier), $.map, optional($.as_clause)),
    note_step: ($) =>
      step($, 'note', optional(seq('on', field('target', $.path))), field('title', $.string), optional(field('body', $.string))),
    http_step: ($) =>
      step(
        $,
        'http',
        $.http_method,
        field('url', $.string),
        repeat(choice(seq('headers', field('headers', $.map)), seq('body', field('body', $._expression)), $.key_clause)),
        optional($.as_clause),
      ),
    http_method: (_) => choice('GET', 'POST', 'PUT', 'PATCH', 'DELETE'),
    wait_step: ($) => step($, 'wait', choice(seq('until', field('until', $._expression)), field('duration', $._expression))),
    ask_step: ($) =>
      step(
        $,
        'ask',
        field('who', $._expression),
        field('question', $.string),
        optional(seq('timeout', field('timeout', $._expression))),
        optional('replace'),
        $.as_clause,
      ),
    for_each_step: ($) =>
      step($, words('for', 'each'), field('name', $.identifier), 'in', field('records', $._expression), 'do', repeat1($._step), 'end'),
    if_step: ($) =>
      step(
        $,
        'if',
        field('condition', $._expression),
        'then',
        repeat1($._step),
        repeat($.else_if),
        optional($.else_block),
        'end',
      ),
    else_if: ($) => seq(words('else', 'if'), field('condition', $._expression), 'then', repeat1($._step)),
    else_block: ($) => seq('else', repeat1($._step)),
    route_step: ($) => step($, 'route', repeat1($.route_arm), optional($.route_else), 'end'),
    route_arm: ($) => seq(field('condition', $._expression), '=>', repeat1($._step)),
    route_else: ($) => seq('else', '=>', repeat1($._step)),
    stop_step: ($) => step($, 'stop'),
    skip_step: ($) => step($, 'skip', optional(field('reason', $.string))),
    custom_step: ($) =>
      step(
        $,
        field('action', $.identifier),
        token.immediate('('),
        commaSep($.named_argument),
        ')',
        optional($.key_clause),
        optional($.as_clause),
      ),
    named_argument: ($) => seq(field('name', $.identifier), ':', field('value', $._expression)),

    // ------------------------------------------------------------ expressions

    _expression: ($) =>
      choice($.binary_expression, $.unary_expression, $.postfix_expression, $._primary),

    binary_expression: ($) => {
      const table = [
        [PREC.or, 'or'],
        [PREC.and, 'and'],
        [PREC.compare, choice('=', '==', '!=', '<', '<=', '>', '>=')],
        [PREC.compare, choice('in', seq('not', 'in'))],
        [PREC.compare, seq('contains', optional(choice('any', 'all')))],
        [PREC.compare, choice(seq('starts', 'with'), seq('ends', 'with'))],
        [PREC.compare, choice('before', 'after', seq('within', choice('last', 'next')))],
        [PREC.add, choice('+', '-')],
        [PREC.mul, choice('*', '/')],
      ];
      return choice(
        ...table.map(([p, op]) =>
          prec.left(p, seq(field('left', $._expression), field('operator', op), field('right', $._expression))),
        ),
      );
    },
    unary_expression: ($) =>
      choice(
        prec(PREC.not, seq(field('operator', 'not'), field('operand', $._expression))),
        prec(PREC.neg, seq(field('operator', '-'), field('operand', $._expression))),
      ),
    postfix_expression: ($) =>
      prec.left(
        PREC.compare,
        seq(
          field('operand', $._expression),
          choice(
            seq('is', optional('not'), choice('set', 'empty')),
            seq(optional('not'), 'in', 'list', field('list', $.string)),
          ),
        ),
      ),

    _primary: ($) =>
      choice(
        $.path,
        $.string,
        $.number,
        $.quantity,
        $.date,
        $.datetime,
        $.call,
        $.parenthesized,
        $.list,
        $.map,
        $.relative_time,
        $.boolean,
        $.empty,
        $.now,
        $.today,
      ),

    path: ($) => seq($._name, repeat(seq('.', $.identifier))),
    _name: ($) => choice($.identifier, alias(choice(...NAME_KEYWORDS), $.identifier)),
    call: ($) =>
      prec(PREC.call, seq(field('function', $.identifier), token.immediate('('), commaSep($._expression), ')')),
    parenthesized: ($) => seq('(', $._expression, ')'),
    list: ($) => seq('[', commaSep($._expression), ']'),
    map: ($) => seq('{', optional(seq($.map_entry, repeat(seq(optional(','), $.map_entry)), optional(','))), '}'),
    map_entry: ($) => seq(field('key', choice($.identifier, $.string)), ':', field('value', $._expression)),
    quantity: ($) => seq($.number, $.time_unit, optional('ago')),
    relative_time: ($) => seq('in', $.duration),
    duration: ($) => seq($.number, $.time_unit),
    time_unit: (_) => choice('seconds', 'second', 'minutes', 'minute', 'hours', 'hour', 'days', 'day', 'weeks', 'week'),
    boolean: (_) => choice('true', 'false'),
    empty: (_) => 'empty',
    now: (_) => 'now',
    today: (_) => 'today',

    // `{{ expr }}` holes are parsed in place; text and escapes are kept as written.
    string: ($) => seq('"', repeat(choice($.string_content, $.escape_sequence, $.interpolation)), '"'),
    string_content: (_) => choice(token.immediate(prec(1, /[^"\\{]+/)), token.immediate(prec(1, '{'))),
    escape_sequence: (_) => token.immediate(/\\["\\nt{}]/),
    interpolation: ($) => seq(token.immediate(prec(2, '{{')), $._expression, '}}'),

    number: (_) => /\d[\d_]*(\.\d[\d_]*)?/,
    integer: (_) => /\d[\d_]*/,
    date: (_) => /\d{4}-\d{2}-\d{2}/,
    datetime: (_) => /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?(Z|[+-]\d{2}:\d{2})/,
    time_of_day: (_) => /\d{1,2}:\d{2}/,

    identifier: (_) => /[A-Za-z_][A-Za-z0-9_]*/,
    lint_name: (_) => /[a-z][a-z0-9-]*/,

    // ------------------------------------------------------------ declarations

    object_declaration: ($) =>
      seq('object', field('name', $.identifier), '{', repeat(seq($.attribute_declaration, optional(','))), '}'),
    attribute_declaration: ($) =>
      seq(field('name', $.identifier), ':', field('type', $._type), repeat(choice('readonly', 'unique'))),
    _type: ($) => choice($.list_type, $.select_type, $.status_type, $.record_type, alias($.identifier, $.type_name)),
    list_type: ($) => seq('list', 'of', $._type),
    select_type: ($) => seq('select', optional(seq('[', ']')), $.options),
    status_type: ($) => seq('status', $.options),
    record_type: ($) =>
      seq(field('kind', choice('record', alias($.identifier, $.type_name))), '(', field('argument', $.identifier), ')'),
    options: ($) => seq('[', commaSep(choice($.string, alias($.identifier, $.option))), ']'),
    list_declaration: ($) =>
      seq(
        'list',
        field('name', $.string),
        'of',
        field('object', $.identifier),
        optional(seq('{', repeat(seq($.attribute_declaration, optional(','))), '}')),
      ),
    team_declaration: ($) => seq('team', field('name', $.identifier), '=', '[', commaSep($.string), ']'),
    webhook_declaration: ($) =>
      seq('webhook', field('name', $.identifier), '{', repeat(seq($.field_declaration, optional(','))), '}'),
    field_declaration: ($) => seq(field('name', $.identifier), ':', field('type', $._type)),
    action_declaration: ($) =>
      seq(
        'action',
        field('name', $.identifier),
        token.immediate('('),
        commaSep($.field_declaration),
        ')',
        optional('idempotent'),
      ),

    // ------------------------------------------------------------------ tests

    test: ($) =>
      seq(
        'test',
        field('name', $.string),
        repeat(choice($.given_http, $.given_ask, $.given_record, $.test_event, $.redeliver, $.expect)),
      ),
    given_http: ($) => seq('given', 'http', field('url', $.string), field('answer', $._expression)),
    given_ask: ($) => seq('given', 'ask', $.map),
    given_record: ($) =>
      seq('given', field('object', $.identifier), optional(seq('as', field('name', $.identifier))), $.map),
    test_event: ($) =>
      seq('event', optional(field('object', $.identifier)), field('trigger', $._trigger), optional($.map)),
    redeliver: (_) => 'redeliver',
    expect: ($) =>
      seq(
        'expect',
        optional(choice('no', field('count', $.integer))),
        field('effect', $.identifier),
        repeat(choice($.string, $.number)),
      ),
  },
});

/** A step: its words, then `on error continue` / `retry N` in any order. */
function step($, ...parts) {
  // Every step is in `conflicts`: whether a word after it continues it (`on error`) or
  // starts what follows (the next rule's `on deals`, a route arm) is left to the words
  // after that.
  return seq(...parts, repeat(choice($.on_error, $.retry)));
}
