-- Claim the right to record a trigger's signal for an account, once per cooldown.
-- KEYS[1]: the claim (holds the ms time of the last claim).
-- ARGV[1]: now in ms (the service's clock), ARGV[2]: the cooldown in ms.
-- A claim older than the cooldown is taken over; the key's TTL only cleans up.
-- Returns 1 if claimed, 0 if claimed within the cooldown already.
local now, cooldown = tonumber(ARGV[1]), tonumber(ARGV[2])
local last = tonumber(redis.call('GET', KEYS[1]) or '')
if last and now < last + cooldown then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', cooldown)
return 1
