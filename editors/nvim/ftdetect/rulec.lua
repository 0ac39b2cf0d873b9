-- `*.rules` files are rulec rules.
vim.filetype.add({ extension = { rules = 'rulec' } })
