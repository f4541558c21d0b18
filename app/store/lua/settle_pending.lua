-- Write an account's pending marks (for `for:` triggers), if its inputs are unchanged.
-- KEYS: the n input keys (the plan mirror, each metric's usage), then one pending-mark
--       key per trigger with `for:`.
-- ARGV[1]: n; ARGV[2 .. n+1]: the value each input key held when the marks were worked
--          out ("" where missing); then per mark key: op ("set" | "del" | "keep"),
--          value, and the ms time it expires at (0: never).
-- Returns 0, writing nothing, if an input changed meanwhile (the caller reads again);
-- else 1.
local n = tonumber(ARGV[1])
for i = 1, n do
  if (redis.call('GET', KEYS[i]) or '') ~= ARGV[1 + i] then
    return 0
  end
end
for i = n + 1, #KEYS do
  local a = n + 2 + (i - n - 1) * 3
  local op, value, expires = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2])
  if op == 'del' then
    redis.call('DEL', KEYS[i])
  elseif op == 'set' then
    if expires > 0 then
      redis.call('SET', KEYS[i], value, 'PXAT', expires)
    else
      redis.call('SET', KEYS[i], value)
    end
  end
end
return 1
