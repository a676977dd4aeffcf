-- Helpers for the Neovim scripts of the end-to-end tests: pauses that let Neovim's loop run, keys fed as if
-- typed, waits on conditions, and files in $SMARTCO_E2E_DIR to talk to the test.
local M = {}
local uv = vim.loop
local dir = os.getenv('SMARTCO_E2E_DIR')

function M.note(name, text)
  local file = assert(io.open(dir .. '/' .. name, 'w'))
  file:write(text or '')
  file:close()
end

function M.exists(name)
  return uv.fs_stat(dir .. '/' .. name) ~= nil
end

function M.sleep(ms)
  local co = coroutine.running()
  vim.defer_fn(function() assert(coroutine.resume(co)) end, ms)
  coroutine.yield()
end

function M.wait_until(what, predicate, ms)
  local deadline = uv.now() + ms
  while not predicate() do
    if uv.now() > deadline then error('timed out waiting for ' .. what) end
    M.sleep(50)
  end
end

-- Keys go through the typeahead as if typed (flag 't'), one call per burst.
function M.keys(text)
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(text, true, false, true), 't', false)
end

-- One key at a time with a pause longer than the 150 ms didChange debounce: one didChange per keystroke.
function M.slowly(text, pause)
  for char in text:gmatch('[%z\1-\127\194-\244][\128-\191]*') do
    M.keys(char)
    M.sleep(pause)
  end
end

function M.sidecar()
  for _, client in pairs(vim.lsp.get_active_clients()) do
    if client.name == 'smartco' then return client end
  end
end

function M.sidecar_ready()
  local client = M.sidecar()
  return client ~= nil and client.initialized and vim.lsp.buf_is_attached(0, client.id)
end

function M.save()
  M.keys(':w<CR>')
  M.wait_until('the save', function() return not vim.bo.modified end, 10000)
end

-- Run `script` as a coroutine; an error is written for the test to read and Neovim exits with status 3.
function M.run(script)
  local co = coroutine.create(function()
    local ok, err = xpcall(script, debug.traceback)
    if not ok then
      M.note('error', tostring(err))
      vim.cmd('cquit 3')
    end
  end)
  assert(coroutine.resume(co))
end

return M
