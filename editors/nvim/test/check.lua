-- Run by editors/test.sh inside a headless Neovim whose init.lua is a setup copied from
-- the READMEs, with a .rules file already open:
--   nvim --headless -u init.lua -i NONE -n WS/sub/wins.rules -c 'luafile check.lua'
-- Checks filetype, ftplugin, syntax groups, the LSP config and client, and that nothing
-- printed an error. Quits with status 0 and a last line "nvim-check: ok", or status 1.
-- Environment:
--   RULEC_TEST_FIXTURE  path of a copy of sample.rules beside the open file
--   RULEC_TEST_ROOT     the folder with rulec.toml above both files (the expected root)
--   RULEC_TEST_CMD      the server command the setup should use (cmd[1])
--   RULEC_TEST_SERVER   'fake': a stand-in server is on PATH, a client must attach;
--                       'missing': no server anywhere, no client, and Neovim's own
--                       "Spawning language server ... failed" notice is allowed
--   RULEC_TEST_TREESITTER  '1': the rulec parser is installed (README.md §4), so
--                       tree-sitter highlights and its captures are checked instead of
--                       syntax/rulec.vim's groups

local failures = {}
local function fail(msg) table.insert(failures, msg) end
local function check(cond, msg) if not cond then fail(msg) end end
local function env(name)
  local v = vim.env[name]
  if v == nil or v == '' then error(name .. ' is not set') end
  return v
end
local fixture, root = env('RULEC_TEST_FIXTURE'), env('RULEC_TEST_ROOT')
local want_cmd, server = env('RULEC_TEST_CMD'), env('RULEC_TEST_SERVER')
local treesitter = vim.env.RULEC_TEST_TREESITTER == '1'
local uv = vim.uv or vim.loop
local function real(p) return p and (uv.fs_realpath(p) or p) end

-- Line `lnum` of the current buffer, or the first line that matches the Lua pattern
-- `lnum`.
local function find_line(lnum)
  if type(lnum) == 'number' then return lnum end
  for i, l in ipairs(vim.api.nvim_buf_get_lines(0, 0, -1, false)) do
    if l:find(lnum) then return i end
  end
  return 0
end
-- Line and column of the nth `word` on line `lnum`, or nil and a description of what
-- is missing.
local function position_of(lnum, word, nth)
  lnum = find_line(lnum)
  local line = vim.fn.getline(lnum)
  local col = 0
  for _ = 1, nth or 1 do
    col = line:find(word, col + 1, true)
    if not col then return nil, '(' .. word .. ' not on line ' .. lnum .. ')' end
  end
  return lnum, col
end
-- Syntax group (and the group it links to) of the nth `word` on line `lnum`.
local function group_at(lnum, word, nth)
  local col
  lnum, col = position_of(lnum, word, nth)
  if not lnum then return col end
  local id = vim.fn.synID(lnum, col, 1)
  return vim.fn.synIDattr(id, 'name'), vim.fn.synIDattr(vim.fn.synIDtrans(id), 'name')
end
-- The tree-sitter captures at the nth `word` on line `lnum`, joined by spaces.
local function captures_at(lnum, word, nth)
  local col
  lnum, col = position_of(lnum, word, nth)
  if not lnum then return col end
  local names = {}
  for _, c in ipairs(vim.treesitter.get_captures_at_pos(0, lnum - 1, col - 1)) do
    if c.lang == 'rulec' then table.insert(names, c.capture) end
  end
  return table.concat(names, ' ')
end
local function expect_captures(file, cases)
  for _, c in ipairs(cases) do
    local lnum, word, want, nth = c[1], c[2], c[3], c[4]
    local got = captures_at(lnum, word, nth)
    check(got == want, ('%s:%s: `%s` has tree-sitter captures %q, want %q'):format(file, lnum, word, got, want))
  end
end
local function expect_groups(file, cases)
  if treesitter then return end
  for _, c in ipairs(cases) do
    local lnum, word, want, nth = c[1], c[2], c[3], c[4]
    local got = group_at(lnum, word, nth)
    check(got == want, ('%s:%s: `%s` has syntax group %q, want %q'):format(file, lnum, word, got, want))
  end
end

local function buffer_basics(name)
  check(vim.bo.filetype == 'rulec', name .. ": &filetype is '" .. vim.bo.filetype .. "', want 'rulec'")
  if treesitter then
    local buf = vim.api.nvim_get_current_buf()
    check(vim.treesitter.highlighter.active[buf] ~= nil, name .. ': tree-sitter is not highlighting it')
    local ok, parser = pcall(vim.treesitter.get_parser, buf, 'rulec')
    check(ok and parser ~= nil, name .. ': no rulec parser: ' .. tostring(parser))
    if ok and parser then
      check(not parser:parse()[1]:root():has_error(), name .. ': the tree-sitter tree has errors')
    end
  else
    check(vim.b.current_syntax == 'rulec',
      name .. ': b:current_syntax is ' .. vim.inspect(vim.b.current_syntax) .. ", want 'rulec'")
  end
  check(vim.bo.commentstring == '# %s', name .. ': commentstring is ' .. vim.inspect(vim.bo.commentstring))
  check(vim.bo.comments == ':#', name .. ': comments is ' .. vim.inspect(vim.bo.comments))
  check(vim.bo.expandtab and vim.bo.shiftwidth == 2 and vim.bo.softtabstop == 2,
    name .. ': want expandtab, shiftwidth=2, softtabstop=2 from ftplugin/rulec.lua')
end

local get_clients = vim.lsp.get_clients or vim.lsp.get_active_clients
local function rulec_clients(buf) return get_clients({ bufnr = buf, name = 'rulec' }) end

-- 1. The file on the command line: examples/wins.rules (lines found by pattern).
local wins = vim.api.nvim_get_current_buf()
local rule_line = '^when stage changed from Open to ClosedWon and value > 10000 do slack "#wins"'
buffer_basics('wins.rules')
expect_groups('wins.rules', {
  { '^#', '#', 'rulecComment' },
  { rule_line, 'when', 'rulecControl' },
  { rule_line, 'stage', '' },
  { rule_line, 'changed', 'rulecTrigger' },
  { rule_line, 'from', 'rulecTrigger' },
  { rule_line, 'and', 'rulecOperator' },
  { rule_line, '10000', 'rulecNumber' },
  { rule_line, 'do', 'rulecControl' },
  { rule_line, 'slack', 'rulecAction' },
  { rule_line, '#wins', 'rulecString' },
  { '^test ', 'test', 'rulecTest' },
  { '^%s+given ', 'given', 'rulecTest' },
  { '^%s+expect ', 'expect', 'rulecTest' },
})
if not treesitter then
  local _, linked = group_at(rule_line, 'when')
  check(linked == 'Statement', 'wins.rules: rulecControl is linked to ' .. vim.inspect(linked) .. ', want Statement')
else
  expect_captures('wins.rules', {
    { '^#', '#', 'comment' },
    { rule_line, 'when', 'keyword' },
    { rule_line, 'stage', 'variable.other.member' },
    { rule_line, 'changed', 'keyword' },
    { rule_line, 'ClosedWon', 'constant' },
    { rule_line, 'and', 'keyword.operator' },
    { rule_line, 'value', 'variable' },
    { rule_line, '>', 'operator' },
    { rule_line, '10000', 'constant.numeric' },
    { rule_line, 'slack', 'keyword' },
    { rule_line, '#wins', 'string' },
    { '^%s+given ', 'deals', 'type' },
    { '^%s+given ', 'name', 'variable.other.member' },
  })
end

-- 2. The language server client for it.
local client
if server == 'fake' then
  vim.wait(10000, function()
    local cs = rulec_clients(wins)
    return #cs > 0 and cs[1].initialized
  end, 20)
  local cs = rulec_clients(wins)
  check(#cs == 1, ('wins.rules: %d rulec clients attached, want 1'):format(#cs))
  client = cs[1]
  if client then
    check(client.initialized, 'the rulec client did not finish initialize')
    check(client.config.cmd[1] == want_cmd,
      'the rulec client runs ' .. vim.inspect(client.config.cmd) .. ', want ' .. want_cmd)
    check(real(client.config.root_dir) == real(root),
      'the rulec client has root_dir ' .. vim.inspect(client.config.root_dir) .. ', want ' .. root)
  end
else
  vim.wait(300) -- give a (wrong) start the time to show up
  check(#rulec_clients(wins) == 0, 'a rulec client attached although no server is installed')
end

-- 3. A second file: more syntax, and the same client reused.
-- (pcall: an error in the syntax file would otherwise end this script here)
local ok_edit, edit_err = pcall(vim.cmd, 'silent edit ' .. vim.fn.fnameescape(fixture))
check(ok_edit, ':edit sample.rules: ' .. tostring(edit_err))
buffer_basics('sample.rules')
expect_groups('sample.rules', {
  { 1, '#', 'rulecComment' },
  { 2, 'rule', 'rulecHeader' },
  { 2, 'Churn', 'rulecString' },
  { 3, 'owner', 'rulecHeader' },
  { 4, 'when', 'rulecControl' },
  { 4, 'note', 'rulecTrigger' },
  { 4, 'created', 'rulecTrigger' },
  { 4, 'and', 'rulecOperator' },
  { 4, 'body', '' },
  { 4, 'contains', 'rulecOperator' },
  { 4, '"churn"', 'rulecString' },
  { 4, '#risk', 'rulecString' },
  { 4, '{{', 'rulecInterpDelim' },
  { 4, 'name', 'rulecInterp' },
})
if treesitter then
  expect_captures('sample.rules', {
    { 2, 'churn_watch', 'function' },
    { 4, 'deals', 'type' },
    { 4, 'note', 'variable', 2 },
    { 4, 'body', 'variable.other.member' },
    { 4, '"churn"', 'string' },
    { 4, '{{', 'string punctuation.special' },
    { 4, 'name', 'string variable' },
  })
end
if client then
  vim.wait(2000, function() return #rulec_clients(0) > 0 end, 20)
  local cs = rulec_clients(0)
  check(#cs == 1 and cs[1].id == client.id, 'sample.rules did not get the client of wins.rules (same root)')
end

-- 4. Every word of every `syn keyword` line is highlighted with its group. A word that
-- Vim takes as a :syn-keyword argument fails here: `contains` is E395 (and the whole
-- file stops there), `contained`, `transparent`, `conceal`, ... silently vanish. (Vim
-- itself lets `display`, `fold` and `extend` through, but `:h :syn-keyword` reserves them.)
local syntax_files = vim.api.nvim_get_runtime_file('syntax/rulec.vim', true)
check(#syntax_files == 1, 'syntax/rulec.vim found on runtimepath ' .. #syntax_files .. ' times, want 1')
if syntax_files[1] then
  local reserved = {}
  for w in ([[contains contained containedin nextgroup transparent conceal concealends cchar
    oneline keepend extend excludenl skipwhite skipnl skipempty display fold grouphere
    groupthere]]):gmatch('%S+') do
    reserved[w] = true
  end
  local words = {}
  for lnum, line in ipairs(vim.fn.readfile(syntax_files[1])) do
    local group, rest = line:match('^%s*sy[ntax]*%s+keyword%s+(%S+)%s+(.*)$')
    if group then
      for w in rest:gmatch('%S+') do
        if reserved[w:lower()] then
          fail(('syntax/rulec.vim:%d: `%s` is a :syn keyword argument in Vim; use syn match /\\<%s\\>/')
            :format(lnum, w, w))
        end
        table.insert(words, { w, group })
      end
    end
  end
  check(#words > 50, 'found only ' .. #words .. ' syn keyword words in syntax/rulec.vim')
  vim.cmd('enew')
  vim.api.nvim_buf_set_lines(0, 0, -1, false, vim.tbl_map(function(x) return x[1] end, words))
  local ok_syn, syn_err = pcall(function() vim.bo.syntax = 'rulec' end)
  check(ok_syn, ':set syntax=rulec: ' .. tostring(syn_err))
  for i, x in ipairs(words) do
    local got = vim.fn.synIDattr(vim.fn.synID(i, 1, 1), 'name')
    check(got == x[2], ('keyword `%s` is highlighted as %q, want %q'):format(x[1], got, x[2]))
  end
  vim.cmd('bwipeout!')
end

-- 5. The 0.11 config in lsp/rulec.lua.
if vim.fn.has('nvim-0.11') == 1 then
  check(type(vim.lsp.config) == 'table' and type(vim.lsp.enable) == 'function',
    'Neovim 0.11 without vim.lsp.config / vim.lsp.enable')
  local ok, cfg = pcall(function() return vim.lsp.config.rulec end)
  check(ok and type(cfg) == 'table', 'vim.lsp.config.rulec: ' .. tostring(cfg))
  if ok and type(cfg) == 'table' then
    local from_file = vim.startswith(want_cmd, '/') and want_cmd or 'rulec-lsp'
    check(vim.deep_equal(cfg.cmd, { from_file }), 'vim.lsp.config.rulec.cmd is ' .. vim.inspect(cfg.cmd))
    check(vim.deep_equal(cfg.filetypes, { 'rulec' }),
      'vim.lsp.config.rulec.filetypes is ' .. vim.inspect(cfg.filetypes))
    check(vim.deep_equal(cfg.root_markers, { 'rulec.toml', '.git' }),
      'vim.lsp.config.rulec.root_markers is ' .. vim.inspect(cfg.root_markers))
  end
end

-- 6. Nothing went wrong on the way: no error message, nothing unexpected in :messages.
check(vim.v.errmsg == '', 'v:errmsg is ' .. vim.inspect(vim.v.errmsg))
for _, line in ipairs(vim.split(vim.fn.execute('messages'), '\n', { trimempty = true })) do
  local spawn_failed = line:find('Spawning language server with cmd: .*rulec%-lsp.* failed') ~= nil
  if not (server == 'missing' and spawn_failed) then fail('message: ' .. line) end
end

vim.lsp.stop_client(vim.tbl_map(function(c) return c.id end, get_clients()))
vim.wait(3000, function() return #get_clients() == 0 end, 20)

for _, f in ipairs(failures) do io.stdout:write('FAIL ' .. f .. '\n') end
if #failures > 0 then
  vim.cmd('cquit 1')
else
  io.stdout:write('nvim-check: ok\n')
  vim.cmd('qall!')
end
