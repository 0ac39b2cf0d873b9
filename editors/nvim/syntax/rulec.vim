" Vim syntax file for rulec rules (*.rules). Deliberately small: keywords, strings with
" {{ }} holes, comments and numbers. Checking, hover and the rest come from rulec-lsp.

if exists('b:current_syntax')
  finish
endif

syn iskeyword @,48-57,_

" Words that are always keywords (the reserved words and unambiguous steps).
" `:syn keyword` takes some words as its own arguments (contains, contained, containedin,
" nextgroup, transparent, conceal, cchar, oneline, concealends, keepend, excludenl,
" skipwhite, skipnl, skipempty, grouphere, groupthere, in any case): `contains` there is
" E395 and most of the others vanish silently, so such words go in a `syn match`.
syn keyword rulecControl     when do every cron for each where if then else end route stop skip
syn keyword rulecOperator    and or not in is starts ends with before after within last next
syn match   rulecOperator    /\<contains\>\(\s\+\(any\|all\)\>\)\=/
syn keyword rulecConstant    true false empty now today
syn keyword rulecTrigger     created updated deleted merged changed matches from to added removed failed recorded completed command entry
syn keyword rulecAction      clear add remove slack dm subject template create find upsert http headers wait until ask timeout replace due linked key by as
syn keyword rulecModifier    retry idempotent readonly unique
syn keyword rulecDeclaration object team webhook action of
syn keyword rulecUnit        second seconds minute minutes hour hours day days week weeks ago
syn keyword rulecHttpMethod  GET POST PUT PATCH DELETE

" Words that are also attribute names (`owner is set`, `note.body`): keywords only where
" a header, declaration or test clause starts a line.
syn match rulecHeader      /^\s*\zs\<\(rule\|owner\|description\|on\|status\|limit\|coalesce\|allow\)\>\ze\s/
syn match rulecDeclaration /^\s*\zslist\ze\s\+"/
syn match rulecTest        /^\s*\zs\<\(test\|given\|event\|expect\|redeliver\)\>\ze\(\s\|$\)/
syn match rulecModifier    /\<on\s\+error\s\+continue\>/
syn match rulecAction      /\.\@<!\<\(note\|email\)\>\ze\s\+[^ :=]/
syn match rulecAction      /\<set\>\ze\s\+\h\w*\s*=/
syn match rulecOperator    /\(\<is\s\+\(not\s\+\)\=\)\@<=set\>/
syn match rulecAction      /\(\<create\s\+\)\@<=task\>/
syn match rulecAction      /\(\<\(add\s\+to\|remove\s\+from\)\s\+\)\@<=list\>/
syn match rulecTrigger     /\(\<\(added\s\+to\|removed\s\+from\)\s\+\)\@<=list\>/
syn match rulecTrigger     /\.\@<!\<\(note\|task\|comment\|call\)\>\ze\s\+\(created\|completed\|added\|recorded\)\>/
syn match rulecFunction    /\<\h\w*\ze(/

syn match rulecNumber   /\<\d[0-9_]*\(\.\d[0-9_]*\)\=\>/
syn match rulecDate     /\<\d\{4}-\d\d-\d\d\(T\d\d:\d\d\(:\d\d\)\=\(Z\|[+-]\d\d:\d\d\)\)\=/
syn match rulecTime     /\<\d\{1,2}:\d\d\>/

" A `#` inside a string is text (`slack "#wins"`), so strings are regions and the
" comment match never starts inside one.
syn region rulecString   start=/"/ skip=/\\\\\|\\"/ end=/"/ contains=rulecEscape,rulecInterp
syn match  rulecEscape   /\\./ contained
syn region rulecInterp   matchgroup=rulecInterpDelim start=/{{/ end=/}}/ contained
      \ contains=rulecString,rulecNumber,rulecDate,rulecConstant,rulecOperator,rulecFunction
syn match  rulecComment  /#.*$/ contains=@Spell

hi def link rulecControl     Statement
hi def link rulecOperator    Operator
hi def link rulecConstant    Constant
hi def link rulecTrigger     Keyword
hi def link rulecAction      Keyword
hi def link rulecModifier    StorageClass
hi def link rulecDeclaration Structure
hi def link rulecUnit        Type
hi def link rulecHttpMethod  Constant
hi def link rulecHeader      PreProc
hi def link rulecTest        Include
hi def link rulecFunction    Function
hi def link rulecNumber      Number
hi def link rulecDate        Number
hi def link rulecTime        Number
hi def link rulecString      String
hi def link rulecEscape      SpecialChar
hi def link rulecInterpDelim Delimiter
hi def link rulecComment     Comment

let b:current_syntax = 'rulec'
