// A game leaderboard in sorted sets: scores added, ranks read, seasons archived and deleted. No locks anywhere.
public sealed class Leaderboard(IDatabase db)
{
    private static RedisKey Season(int season) => $"leaderboard:{season}";

    public Task<double> AddScoreAsync(int season, string player, double points) => db.SortedSetIncrementAsync(Season(season), player, points);

    public Task<long?> RankAsync(int season, string player) => db.SortedSetRankAsync(Season(season), player, Order.Descending);

    public Task<SortedSetEntry[]> TopAsync(int season, int count) => db.SortedSetRangeByRankWithScoresAsync(Season(season), 0, count - 1, Order.Descending);

    public async Task ArchiveAsync(int season)
    {
        await db.KeyRenameAsync(Season(season), $"leaderboard:archive:{season}");
        await db.KeyExpireAsync($"leaderboard:archive:{season}", TimeSpan.FromDays(90));
    }

    public Task<bool> DropAsync(int season) => db.KeyDeleteAsync(Season(season));
}
