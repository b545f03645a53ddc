using System.Net;
using System.Net.Http.Json;
using Locking.Testing;
using Locking.WebApi;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;

namespace Locking.WebApi.Tests;

/// <summary>The Web API sample, started in process by WebApplicationFactory on a real redis-server.</summary>
public sealed class WebApiTests : IAsyncLifetime
{
    private RedisServer _redis = null!;
    private WebApplicationFactory<Program> _api = null!;

    public async Task InitializeAsync()
    {
        _redis = await RedisServer.StartAsync();
        _api = new WebApplicationFactory<Program>()
            .WithWebHostBuilder(host => host
                .UseSetting("Locking:Redis:Configuration", _redis.Configuration().ToString())
                // The API's console log (a failed health check is an Error there) is not the tests' output.
                .ConfigureLogging(logging => logging.ClearProviders()));
    }

    public async Task DisposeAsync()
    {
        await _api.DisposeAsync();
        await _redis.DisposeAsync();
    }

    [Fact]
    public async Task Concurrent_deposits_into_one_account_run_one_at_a_time_and_none_is_lost()
    {
        using var client = _api.CreateClient();
        var account = $"acct-{Guid.NewGuid():N}";
        const int deposits = 24;

        var responses = await Task.WhenAll(Enumerable.Range(0, deposits)
            .Select(_ => Task.Run(() => client.PostAsync($"/accounts/{account}/deposits?amount=10", content: null))));

        Assert.All(responses, response => Assert.Equal(HttpStatusCode.OK, response.StatusCode));
        var tokens = new List<long>();
        foreach (var response in responses)
        {
            tokens.Add((await response.Content.ReadFromJsonAsync<Deposit>())!.FencingToken);
        }

        Assert.Equal(deposits, tokens.Distinct().Count());
        var view = await client.GetFromJsonAsync<AccountView>($"/accounts/{account}");
        Assert.NotNull(view);
        Assert.Equal(1, view.MostAtOnce);
        Assert.Equal(deposits, view.Deposits);
        Assert.Equal(deposits * 10m, view.Balance);
        Assert.Equal(tokens.Max(), view.LastFencingToken);
    }

    [Fact]
    public async Task Health_reports_the_store_and_its_round_trip_time()
    {
        using var client = _api.CreateClient();

        var response = await client.GetAsync("/health");
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"status\":\"Healthy\"", body, StringComparison.Ordinal);
        Assert.Contains("\"store\":\"redis\"", body, StringComparison.Ordinal);
        Assert.Contains("\"round_trip_ms\":", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_is_unavailable_when_the_store_is_gone()
    {
        using var client = _api.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health")).StatusCode);

        _redis.Kill();
        var response = await client.GetAsync("/health");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Contains("Redis did not answer", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_show_the_acquires_in_prometheus_text()
    {
        using var client = _api.CreateClient();
        var account = $"acct-{Guid.NewGuid():N}";
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsync($"/accounts/{account}/deposits?amount=5", content: null)).StatusCode);

        var metrics = await client.GetStringAsync("/metrics");

        Assert.Contains("locking_acquire_duration_seconds_bucket{", metrics, StringComparison.Ordinal);
        Assert.Contains("locking_acquire_outcome=\"acquired\"", metrics, StringComparison.Ordinal);
        Assert.Contains("locking_hold_duration_seconds_count", metrics, StringComparison.Ordinal);
    }
}
