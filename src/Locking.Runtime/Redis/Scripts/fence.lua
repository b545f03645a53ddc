-- Raises a key's fencing counter to a token if it is lower (Redlock: the token a quorum agreed on is written to a
-- majority before the lease is handed out, so that every later quorum, which shares a primary with this one, draws
-- a larger token).
-- KEYS[1] the fencing counter; ARGV[1] the token, ARGV[2] how long the counter is kept, in ms. Returns 1.

local last = tonumber(redis.call('GET', KEYS[1]))
if last == nil or last < tonumber(ARGV[1]) then
    redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return 1
