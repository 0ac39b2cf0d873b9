; Injections for rulec.
;
; `{{ }}` templates need none: the grammar parses them in place, as `interpolation`
; nodes holding ordinary rulec expressions, so a template's paths are highlighted like
; a condition's (see README.md). What is injected:

; TODO/FIXME/NOTE markers in comments, for editors with the `comment` grammar.
((comment) @injection.content
  (#set! injection.language "comment"))
