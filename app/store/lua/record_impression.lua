-- Record one `shown` prompt in the user's and the account's impression lists.
-- KEYS[1]: the user's list, KEYS[2]: the account's list (JSON arrays of
--          [trigger, style, shown_at_ms, prompt_digest], oldest first).
-- ARGV: trigger, style, shown_at_ms, prompt_digest, horizon_ms, keep.
-- Entries older than the horizon are dropped, and so is an entry once `keep` newer
-- ones share its style and `keep` newer ones its trigger (`keep` is the largest count
-- of any cap or max_impressions: no count ever needs more). An entry that is not what
-- this script writes is dropped; a list that is not JSON starts again. A prompt digest
-- already in a list is not added again (a retried report counts once).
-- Returns 1 if recorded, 0 if this prompt was already recorded.
local trigger, style = ARGV[1], ARGV[2]
local at, digest = tonumber(ARGV[3]), ARGV[4]
local horizon, keep = tonumber(ARGV[5]), tonumber(ARGV[6])
local recorded = 0
for _, key in ipairs(KEYS) do
  local raw = redis.call('GET', key)
  local ok, entries = pcall(cjson.decode, raw or '[]')
  if not ok or type(entries) ~= 'table' then
    entries = {}
  end
  local recent = {}
  local seen = false
  for _, entry in ipairs(entries) do
    if type(entry) == 'table' and type(entry[1]) == 'string' and type(entry[2]) == 'string'
        and type(entry[3]) == 'number' and entry[3] > at - horizon then
      recent[#recent + 1] = entry
      if entry[4] == digest then
        seen = true
      end
    end
  end
  if not seen then
    recent[#recent + 1] = {trigger, style, at, digest}
    recorded = 1
  end
  -- Newest first, keep what some count may still need.
  local by_style, by_trigger, kept = {}, {}, {}
  for i = #recent, 1, -1 do
    local entry = recent[i]
    local s, t = by_style[entry[2]] or 0, by_trigger[entry[1]] or 0
    if s < keep or t < keep then
      table.insert(kept, 1, entry)
    end
    by_style[entry[2]], by_trigger[entry[1]] = s + 1, t + 1
  end
  redis.call('SET', key, cjson.encode(kept), 'PX', horizon)
end
return recorded
