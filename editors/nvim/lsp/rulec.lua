-- Neovim 0.11+ reads this file for `vim.lsp.enable('rulec')` when editors/nvim is on
-- 'runtimepath'. Override any field with `vim.lsp.config('rulec', { ... })`.
return {
  cmd = { 'rulec-lsp' },
  filetypes = { 'rulec' },
  -- rulec.toml sets the schema and lint levels; otherwise the repository root.
  root_markers = { 'rulec.toml', '.git' },
}
