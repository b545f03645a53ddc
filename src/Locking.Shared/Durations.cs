using System;
using System.Globalization;

namespace Locking.Declarations;

/// <summary>
/// The duration strings of [Exclusive]: "250ms", "30s", "5m", "1h", "0", "infinite" or a TimeSpan literal
/// "hh:mm:ss", parsed at compile time so that the generated code holds ticks, never a string to parse.
/// </summary>
internal static class Durations
{
    /// <summary>The ticks of <c>Timeout.InfiniteTimeSpan</c> (-1 ms).</summary>
    public const long InfiniteTicks = -TimeSpan.TicksPerMillisecond;

    /// <summary>The longest lease Ttl the runtime accepts (LockOptions.MaxTtl).</summary>
    public static readonly long MaxTtlTicks = TimeSpan.TicksPerDay;

    /// <summary>The shortest lease Ttl the runtime accepts (LockOptions.MinTtl).</summary>
    public static readonly long MinTtlTicks = 100 * TimeSpan.TicksPerMillisecond;

    /// <summary>Parses <paramref name="text"/>; on failure <paramref name="error"/> says why.</summary>
    public static bool TryParse(string? text, out long ticks, out string error)
    {
        ticks = 0;
        error = "";
        var value = text?.Trim();
        if (value is null || value.Length == 0)
        {
            error = "a duration is required, such as \"30s\"";
            return false;
        }

        if (string.Equals(value, "infinite", StringComparison.OrdinalIgnoreCase))
        {
            ticks = InfiniteTicks;
            return true;
        }

        if (value == "0")
        {
            return true;
        }

        if (value.IndexOf(':') >= 0)
        {
            if (value[0] == '-')
            {
                // "-00:00:00.001" would be -1 ms, which the runtime reads as infinite.
                error = "a duration cannot be negative; write \"infinite\" to wait without end";
                return false;
            }

            if (TimeSpan.TryParseExact(value, "c", CultureInfo.InvariantCulture, out var span))
            {
                ticks = span.Ticks;
                return true;
            }

            error = "a TimeSpan literal is written \"hh:mm:ss\" (or \"d.hh:mm:ss.fffffff\")";
            return false;
        }

        long unit;
        int digits;
        if (value.EndsWith("ms", StringComparison.Ordinal))
        {
            unit = TimeSpan.TicksPerMillisecond;
            digits = value.Length - 2;
        }
        else
        {
            unit = value[value.Length - 1] switch
            {
                's' => TimeSpan.TicksPerSecond,
                'm' => TimeSpan.TicksPerMinute,
                'h' => TimeSpan.TicksPerHour,
                'd' => TimeSpan.TicksPerDay,
                _ => 0,
            };
            digits = value.Length - 1;
        }

        if (unit == 0 || digits == 0)
        {
            error = "use a number with a unit (\"250ms\", \"30s\", \"5m\", \"1h\"), \"0\", \"infinite\" or \"hh:mm:ss\"";
            return false;
        }

        var number = value.Substring(0, digits);
        if (!decimal.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount))
        {
            error = $"'{number}' is not a non-negative number";
            return false;
        }

        var total = amount * unit;
        if (total > long.MaxValue / 2)
        {
            error = "the duration is too long";
            return false;
        }

        ticks = (long)decimal.Round(total);
        return true;
    }

    /// <summary>Whether <paramref name="ticks"/> stands for "infinite".</summary>
    public static bool IsInfinite(long ticks) => ticks == InfiniteTicks;

    /// <summary>A short human form of a duration for messages ("30 s", "infinite").</summary>
    public static string Describe(long ticks)
    {
        if (IsInfinite(ticks))
        {
            return "infinite";
        }

        var span = TimeSpan.FromTicks(ticks);
        return span.TotalMilliseconds < 1000
            ? span.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture) + " ms"
            : span.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + " s";
    }
}
