-- Types into the current buffer like a person (pauses between keys and bursts), saves, commits with git,
-- tells the test, waits for its go-ahead and quits. Talks to the test through files in $SMARTCO_E2E_DIR.
local uv = vim.loop
local dir = os.getenv('SMARTCO_E2E_DIR')

local function note(name, text)
  local file = assert(io.open(dir .. '/' .. name, 'w'))
  file:write(text or '')
  file:close()
end

local function sleep(ms)
  local co = coroutine.running()
  vim.defer_fn(function() assert(coroutine.resume(co)) end, ms)
  coroutine.yield()
end

local function wait_until(what, predicate, ms)
  local deadline = uv.now() + ms
  while not predicate() do
    if uv.now() > deadline then error('timed out waiting for ' .. what) end
    sleep(50)
  end
end

-- Keys go through the typeahead as if typed (flag 't'), one call per burst.
local function keys(text)
  vim.api.nvim_feedkeys(vim.api.nvim_replace_termcodes(text, true, false, true), 't', false)
end

-- One key at a time with a pause longer than the 150 ms didChange debounce: one didChange per keystroke.
local function slowly(text, pause)
  for char in text:gmatch('[%z\1-\127\194-\244][\128-\191]*') do
    keys(char)
    sleep(pause)
  end
end

local function client_ready()
  local client = _G.smartco_client_id and vim.lsp.get_client_by_id(_G.smartco_client_id)
  return client ~= nil and client.initialized and vim.lsp.buf_is_attached(0, _G.smartco_client_id)
end

local function session()
  wait_until('the sidecar to initialize', client_ready, 30000)
  keys('2GA')
  slowly(' + 41', 220)
  keys('<Esc>')
  sleep(800) -- a pause longer than the idle gap ends the edit episode
  keys('o<CR>def helper(x):<CR>return x * 2  # ünïcødé 🎉<Esc>')
  sleep(800)
  keys('1G0wciwentry<Esc>2G$xyyp')
  sleep(400)
  keys(':w<CR>')
  wait_until('the save', function() return not vim.bo.modified end, 10000)
  local out = vim.fn.system({ 'git', 'commit', '-q', '-a', '-m', 'typed in neovim' })
  if vim.v.shell_error ~= 0 then error('git commit failed: ' .. out) end
  note('committed')
  wait_until('the test to let neovim quit', function() return uv.fs_stat(dir .. '/quit') ~= nil end, 60000)
  keys(':qa<CR>')
end

local co = coroutine.create(function()
  local ok, err = xpcall(session, debug.traceback)
  if not ok then
    note('error', tostring(err))
    vim.cmd('cquit 3')
  end
end)
assert(coroutine.resume(co))
