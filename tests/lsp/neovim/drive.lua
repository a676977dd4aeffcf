-- Types into the current buffer like a person (pauses between keys and bursts), saves, commits with git,
-- tells the test, waits for its go-ahead and quits.
local d = dofile(debug.getinfo(1, 'S').source:sub(2):gsub('[^/]*$', '') .. 'driver.lua')

d.run(function()
  d.wait_until('the sidecar to initialize', d.sidecar_ready, 30000)
  d.keys('2GA')
  d.slowly(' + 41', 220)
  d.keys('<Esc>')
  d.sleep(2000) -- a pause longer than the idle gap (1.5 s) ends the edit episode
  d.keys('o<CR>def helper(x):<CR>return x * 2  # ünïcødé 🎉<Esc>')
  d.sleep(2000)
  d.keys('1G0wciwentry<Esc>2G$xyyp')
  d.sleep(300)
  d.save()
  local out = vim.fn.system({ 'git', 'commit', '-q', '-a', '-m', 'typed in neovim' })
  if vim.v.shell_error ~= 0 then error('git commit failed: ' .. out) end
  d.note('committed')
  d.wait_until('the test to let neovim quit', function() return d.exists('quit') end, 60000)
  d.keys(':qa<CR>')
end)
