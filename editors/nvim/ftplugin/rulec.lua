-- Buffer settings for rulec files: `#` comments (for `gc` and 'formatoptions') and the
-- two-space indent that `rulec fmt` writes.
vim.bo.commentstring = '# %s'
vim.bo.comments = ':#'
vim.bo.expandtab = true
vim.bo.shiftwidth = 2
vim.bo.softtabstop = 2

vim.b.undo_ftplugin = (vim.b.undo_ftplugin and (vim.b.undo_ftplugin .. ' | ') or '')
  .. 'setlocal commentstring< comments< expandtab< shiftwidth< softtabstop<'

-- Tree-sitter highlighting when the rulec parser is installed (parser/rulec.so on the
-- runtimepath, README.md §4); without it, syntax/rulec.vim highlights. pcall: older
-- Neovims and a missing parser both end up with the regex syntax, silently.
if vim.treesitter and vim.treesitter.start and pcall(vim.treesitter.start, 0, 'rulec') then
  vim.b.undo_ftplugin = vim.b.undo_ftplugin .. ' | lua vim.treesitter.stop()'
end
