// An ASP.NET Core minimal API whose deposit endpoint is an [Exclusive] method, with the lock store's health at
// /health and Locking's metrics at /metrics (Prometheus text format).
//
//   dotnet run --project samples/Locking.WebApi -- --Locking:Redis:Configuration=localhost:6379
//   curl -X POST 'localhost:5000/accounts/alice/deposits?amount=10'
//   curl localhost:5000/accounts/alice        curl localhost:5000/health        curl localhost:5000/metrics
using System.Text.Json;
using Locking;
using Locking.WebApi;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

var builder = WebApplication.CreateBuilder(args);

// The Redis connection string comes from Locking:Redis:Configuration (appsettings.json, or --Locking:Redis:Configuration=...).
builder.Services.AddLocking(locking => locking.UseRedis());
builder.Services.AddSingleton<AccountBook>();
builder.Services.AddSingleton<Bank>();
builder.Services.AddHealthChecks().AddLocking();
builder.Services.AddOpenTelemetry()
    .WithMetrics(metrics => metrics.AddMeter("Locking").AddPrometheusExporter())
    .WithTracing(tracing =>
    {
        tracing.AddSource("Locking");
        if (builder.Configuration.GetValue<bool>("Telemetry:ConsoleTraces"))
        {
            tracing.AddConsoleExporter();
        }
    });

var app = builder.Build();

app.MapPost("/accounts/{accountId}/deposits", async (string accountId, decimal amount, Bank bank, CancellationToken ct) =>
    amount > 0
        ? Results.Ok(await bank.DepositAsync(accountId, amount, ct))
        : Results.BadRequest("The amount must be positive."));
app.MapGet("/accounts/{accountId}", (string accountId, AccountBook book) => Results.Ok(book.Read(accountId)));
app.MapHealthChecks("/health", new HealthCheckOptions { ResponseWriter = WriteHealthAsync });
app.MapPrometheusScrapingEndpoint();

app.Run();

// The health report with each check's description and data (the store, its round-trip time), not just "Healthy".
static Task WriteHealthAsync(HttpContext context, HealthReport report)
{
    context.Response.ContentType = "application/json";
    return context.Response.WriteAsync(JsonSerializer.Serialize(new
    {
        status = report.Status.ToString(),
        checks = report.Entries.ToDictionary(
            entry => entry.Key,
            entry => new { status = entry.Value.Status.ToString(), description = entry.Value.Description, data = entry.Value.Data }),
    }));
}

/// <summary>The entry point, visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
