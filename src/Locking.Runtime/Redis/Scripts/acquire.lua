-- Acquires a lease in one step.
-- KEYS[1] the lock key, KEYS[2] its fencing counter (same hash tag, so the same cluster slot)
-- ARGV[1] the owner token, ARGV[2] the lease TTL in ms, ARGV[3] how long the counter outlives the lease, in ms
-- (ARGV[4], the release channel, is not used here)
-- Returns the new fencing token (> 0) when granted; when the key is held, 0 if the holder's key never
-- expires, else -(its remaining TTL in ms) - 1.

-- Servers before 5.0 replicate scripts verbatim, which forbids a write after TIME; later ones ignore this.
if redis.replicate_commands then
    redis.replicate_commands()
end

local remaining = redis.call('PTTL', KEYS[1])
if remaining ~= -2 then
    if remaining == -1 then
        return 0
    end
    return -remaining - 1
end

-- The token is the larger of the last token + 1 and the server clock in microseconds: strictly increasing
-- while the counter lives, and still increasing after the counter is gone (FLUSHALL, a restart that lost
-- the data, expiry) because the clock has moved on. Lua numbers are doubles: exact up to 2^53 us (year 2255).
local time = redis.call('TIME')
local token = tonumber(time[1]) * 1000000 + tonumber(time[2])
local last = tonumber(redis.call('GET', KEYS[2]))
if last ~= nil and last >= token then
    token = last + 1
end

redis.call('SET', KEYS[2], string.format('%.0f', token), 'PX', tonumber(ARGV[2]) + tonumber(ARGV[3]))
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return token
