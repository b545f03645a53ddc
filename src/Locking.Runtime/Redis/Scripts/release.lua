-- Ends a lease if the caller still owns it, and tells every waiting process that the key is free.
-- KEYS[1] the lock key (KEYS[2], its fencing counter, is left to expire by itself)
-- ARGV[1] the owner token, ARGV[4] the release channel (ARGV[2] and ARGV[3], the TTLs, are not used here)
-- Returns 1 when released, 0 when the lease was already gone or owned by another holder.
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
    return 0
end

redis.call('DEL', KEYS[1])
-- The notice names the released owner too, so that a waiter can tell a late notice of an older release.
redis.call('PUBLISH', ARGV[4], ARGV[1] .. KEYS[1])
return 1
