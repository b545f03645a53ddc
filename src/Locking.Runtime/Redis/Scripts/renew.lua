-- Extends a lease if the caller still owns it.
-- KEYS[1] the lock key, KEYS[2] its fencing counter
-- ARGV[1] the owner token, ARGV[2] the lease TTL in ms, ARGV[3] how long the counter outlives the lease, in ms
-- (ARGV[4], the release channel, is not used here)
-- Returns 1 when extended, 0 when the lease is gone or owned by another holder.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
    return 0
end

redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[2]) + tonumber(ARGV[3]))
return 1
