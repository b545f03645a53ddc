// Leader election among the instances of a service: each instance is one candidate with its own id, and the
// leader key is the same for all of them, so the instance is the owner. Renewed and given up owner-checked.
public sealed class LeaderElector(IConnectionMultiplexer redis, string serviceName) : IAsyncDisposable
{
    private static readonly TimeSpan Term = TimeSpan.FromSeconds(15);
    private readonly IDatabase _db = redis.GetDatabase();
    private readonly RedisKey _leaderKey = "leader:" + serviceName;
    private readonly string _candidateId = $"{Environment.MachineName}/{Guid.NewGuid():N}";
    private bool _leading;

    public bool IsLeader => _leading;

    public async Task<bool> CampaignAsync()
    {
        _leading = _leading
            ? await _db.LockExtendAsync(_leaderKey, _candidateId, Term)
            : await _db.LockTakeAsync(_leaderKey, _candidateId, Term);
        return _leading;
    }

    public async Task<string?> CurrentLeaderAsync() => await _db.LockQueryAsync(_leaderKey);

    public async ValueTask DisposeAsync()
    {
        if (_leading)
        {
            _leading = false;
            await _db.LockReleaseAsync(_leaderKey, _candidateId);
        }
    }
}
