// Idempotency keys for payment requests: the first request with a key claims it (SET NX PX) and stores its
// result; a failed request gives its claim back owner-checked, so a retry after its timeout is not undone.
public sealed class IdempotencyStore(IDatabase db)
{
    private static RedisKey Claim(string idempotencyKey) => "idem:" + idempotencyKey;

    public async Task<(bool First, string Attempt)> ClaimAsync(string idempotencyKey)
    {
        var attempt = Guid.NewGuid().ToString("N");
        var first = await db.StringSetAsync(Claim(idempotencyKey), "pending:" + attempt, TimeSpan.FromMinutes(10), When.NotExists);
        return (first, attempt);
    }

    public Task<bool> CompleteAsync(string idempotencyKey, string attempt, string response)
        => db.StringSetAsync(Claim(idempotencyKey), "done:" + response, new Expiration(TimeSpan.FromDays(1)), ValueCondition.Equal("pending:" + attempt));

    public Task<bool> AbandonAsync(string idempotencyKey, string attempt)
        => db.StringDeleteAsync(Claim(idempotencyKey), ValueCondition.Equal("pending:" + attempt));
}
