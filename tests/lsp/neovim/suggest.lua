-- Offers completion menus the way two attached servers do in Neovim 0.7 (a menu, then a rebuilt one when the
-- second server answers); accepts one assistant suggestion, picks another server's item over a second one and
-- dismisses a third; saves and quits. The README's CompleteDone snippet, in the init file, reports them.
local d = dofile(debug.getinfo(1, 'S').source:sub(2):gsub('[^/]*$', '') .. 'driver.lua')

local menus = {
  first = { { word = 'compute_total(items)', menu = '[AI]' }, { word = 'compile', menu = '[LSP]' } },
  first_rebuilt = {
    { word = 'compute_total(items)', menu = '[AI]' },
    { word = 'compile', menu = '[LSP]' },
    { word = 'complex', menu = '[LSP]' },
  },
  second = { { word = 'sum(values)', menu = '[AI]' }, { word = 'sorted', menu = '[LSP]' } },
  second_rebuilt = {
    { word = 'sum(values)', menu = '[AI]' },
    { word = 'sorted', menu = '[LSP]' },
    { word = 'sort', menu = '[LSP]' },
  },
  third = { { word = 'max(values)', menu = '[AI]' }, { word = 'map', menu = '[LSP]' } },
}
local start
function _G.smartco_test_offer(name)
  if not name:find('_rebuilt$') then start = vim.fn.col('.') end
  vim.fn.complete(start, menus[name])
end
for key, name in pairs({ F5 = 'first', F6 = 'first_rebuilt', F7 = 'second', F8 = 'second_rebuilt', F9 = 'third' }) do
  vim.cmd(string.format([[inoremap <%s> <Cmd>lua smartco_test_offer('%s')<CR>]], key, name))
end

-- A menu, then the same menu rebuilt when the second server answers (Neovim fires CompleteDone for the first
-- one, carrying the item it pre-inserted), then `choice` keys.
local function complete(prefix, first, rebuilt, choice)
  d.keys(prefix .. first)
  d.sleep(300)
  if rebuilt then
    d.keys(rebuilt)
    d.sleep(300)
  end
  d.keys(choice .. '<Esc>')
  d.sleep(300)
end

d.run(function()
  d.wait_until('the sidecar to initialize', d.sidecar_ready, 30000)
  complete('Goresult = ', '<F5>', '<F6>', '<C-y>') -- accepts the assistant's pre-selected item
  complete('ototal = ', '<F7>', '<F8>', '<C-n><C-y>') -- picks the main server's item: assistant rejected
  complete('oother = ', '<F9>', nil, '<C-e>') -- dismisses the menu: assistant rejected
  d.save()
  d.note('saved', table.concat(vim.api.nvim_buf_get_lines(0, 0, -1, false), '\n'))
  d.keys(':qa<CR>')
end)
