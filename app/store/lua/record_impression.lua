-- Record one `shown` prompt in the user's and the account's impression lists.
-- KEYS[1]: the user's list, KEYS[2]: the account's list (JSON arrays of
--          [trigger, style, shown_at_ms, prompt_digest]).
-- ARGV: trigger, style, shown_at_ms, prompt_digest, horizon_ms, max_entries.
-- Entries older than the horizon are dropped, the newest max_entries kept; a prompt
-- digest already in a list is not added again (a retried report counts once).
-- Returns 1 if recorded, 0 if this prompt was already recorded.
local trigger, style = ARGV[1], ARGV[2]
local at, digest = tonumber(ARGV[3]), ARGV[4]
local horizon, max_entries = tonumber(ARGV[5]), tonumber(ARGV[6])
local recorded = 0
for _, key in ipairs(KEYS) do
  local raw = redis.call('GET', key)
  local kept = {}
  local seen = false
  if raw then
    for _, entry in ipairs(cjson.decode(raw)) do
      if entry[4] == digest then
        seen = true
      end
      if entry[3] > at - horizon then
        kept[#kept + 1] = entry
      end
    end
  end
  if not seen then
    kept[#kept + 1] = {trigger, style, at, digest}
    recorded = 1
  end
  local first = math.max(1, #kept - max_entries + 1)
  local trimmed = {}
  for i = first, #kept do
    trimmed[#trimmed + 1] = kept[i]
  end
  redis.call('SET', key, cjson.encode(trimmed), 'PX', horizon)
end
return recorded
