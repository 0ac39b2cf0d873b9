-- The ```lua blocks of the READMEs, for editors/test.sh (run with `nvim -l`):
--   nvim -l readme.lua compile README...
--       every ```lua block compiles (a lazy.nvim spec such as `{ dir = ... },` as a
--       table entry); exits 1 naming the ones that do not
--   nvim -l readme.lua init CHECKOUT README MARKER [README MARKER]...
--       writes to stdout an init.lua made of, for each pair, the ```lua block of README
--       that is exactly MARKER, or else the only one that contains it, with `/path/to/rulec` replaced by CHECKOUT
--       (`~/src/rulec` is left as it is: the test points HOME at a folder that has it)

local function blocks(readme)
  local out, cur, start = {}, nil, nil
  for lnum, line in ipairs(vim.fn.readfile(readme)) do
    if cur then
      if line:match('^```%s*$') then
        table.insert(out, { text = table.concat(cur, '\n') .. '\n', line = start })
        cur = nil
      else
        table.insert(cur, line)
      end
    elseif line:match('^```lua%s*$') then
      cur, start = {}, lnum
    end
  end
  if cur then error(readme .. ':' .. start .. ': ```lua block never closed') end
  return out
end

local mode = _G.arg[1]
if mode == 'compile' then
  local bad, n = 0, 0
  for i = 2, #_G.arg do
    for _, b in ipairs(blocks(_G.arg[i])) do
      n = n + 1
      local ok, err = loadstring(b.text, '=' .. _G.arg[i] .. ':' .. b.line)
      if not ok and not loadstring('return {\n' .. b.text .. '}') then
        io.stdout:write(('FAIL %s:%d: ```lua block does not compile: %s\n'):format(_G.arg[i], b.line, err))
        bad = bad + 1
      end
    end
  end
  io.stdout:write(('%d ```lua blocks compile, %d do not\n'):format(n - bad, bad))
  os.exit(bad == 0 and n > 0 and 0 or 1)
elseif mode == 'init' then
  local checkout = _G.arg[2]
  for i = 3, #_G.arg, 2 do
    local readme, marker = _G.arg[i], _G.arg[i + 1]
    local all = blocks(readme)
    -- A block that is exactly MARKER wins; otherwise the one block containing it.
    local hits = vim.tbl_filter(function(b) return vim.trim(b.text) == marker end, all)
    if #hits == 0 then
      hits = vim.tbl_filter(function(b) return b.text:find(marker, 1, true) ~= nil end, all)
    end
    if #hits ~= 1 then
      io.stderr:write(('%s: %d ```lua blocks contain %q, want 1\n'):format(readme, #hits, marker))
      os.exit(1)
    end
    io.stdout:write(('-- %s:%d\n'):format(readme, hits[1].line))
    io.stdout:write((hits[1].text:gsub('/path/to/rulec', function() return checkout end)))
  end
  os.exit(0)
else
  io.stderr:write('usage: nvim -l readme.lua compile README... | init CHECKOUT README MARKER...\n')
  os.exit(2)
end
