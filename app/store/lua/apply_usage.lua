-- Apply one account's usage events atomically, each at most once.
-- KEYS: per event, its dedupe key then its target (gauge or counter) key.
-- ARGV[1]: dedupe TTL in seconds; then per event: op ("incr"|"set"), value, TTL of
--          the target in seconds (0: none).
-- Returns {accepted, duplicates}.
local dedupe_ttl = ARGV[1]
local accepted, duplicates = 0, 0
for i = 1, #KEYS, 2 do
  local a = 2 + (i - 1) / 2 * 3
  if redis.call('SET', KEYS[i], '1', 'NX', 'EX', dedupe_ttl) then
    if ARGV[a] == 'set' then
      redis.call('SET', KEYS[i + 1], ARGV[a + 1])
    else
      redis.call('INCRBYFLOAT', KEYS[i + 1], ARGV[a + 1])
    end
    if tonumber(ARGV[a + 2]) > 0 then
      redis.call('EXPIRE', KEYS[i + 1], ARGV[a + 2])
    end
    accepted = accepted + 1
  else
    duplicates = duplicates + 1
  end
end
return {accepted, duplicates}
