// A matchmaker frees a lobby slot with a raw DEL once the match starts.
public sealed class Matchmaker(IDatabase db)
{
    public async Task<bool> ClaimSlotAsync(string lobby, int slot, string player)
        => await db.StringSetAsync($"lobby:{lobby}:slot:{slot}", player, TimeSpan.FromMinutes(2), When.NotExists);

    public async Task StartMatchAsync(string lobby, int slots)
    {
        for (var slot = 0; slot < slots; slot++)
        {
            await {|LOCK002:db.ExecuteAsync("DEL", $"lobby:{lobby}:slot:{slot}")|};
        }
    }
}
