-- Extends a lease if the caller still owns it (see lease.lua for KEYS and ARGV).
-- Returns 1 when extended, 0 when the lease is gone or owned by another holder. A renewal that finds the lease
-- expired hands the key to the first waiter at once, instead of when that waiter looks again.

local holder = redis.call('GET', lease)
if holder == owner then
    redis.call('PEXPIRE', lease, ttl)
    redis.call('PEXPIRE', fence, ttl + retention)
    return 1
end

if not holder then
    hand_over(nil)
end
return 0
