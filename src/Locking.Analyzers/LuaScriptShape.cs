using System.Collections.Concurrent;
using System.Text.RegularExpressions;

namespace Locking.Analyzers;

/// <summary>What a Lua script sent by ScriptEvaluate does to a lock key.</summary>
internal enum LuaScriptKind
{
    /// <summary>Nothing the lock rules care about.</summary>
    Other,

    /// <summary>Compares the key's value with an argument, then deletes it: an owner-checked release.</summary>
    CompareAndDelete,

    /// <summary>Compares the key's value with an argument, then gives it a new expiry: an owner-checked extend.</summary>
    CompareAndExpire,

    /// <summary>SET key value NX (with or without PX/EX): an acquire.</summary>
    SetNotExists,

    /// <summary>Deletes the key without comparing anything: a plain delete.</summary>
    Delete,
}

/// <summary>
/// Reads the shape of a lock script from its text: which key it works on and which argument it compares or
/// stores, as KEYS[n]/ARGV[n] (1-based) or @name (LuaScript.Prepare). Text patterns, not a Lua parser: the
/// scripts worth reading are a few lines of redis.call.
/// </summary>
internal sealed class LuaScriptShape
{
    private const string KeyRef = @"(?:KEYS\s*\[\s*(?<k>\d+)\s*\]|@(?<kn>\w+))";
    private const string ArgRef = @"(?:ARGV\s*\[\s*(?<a>\d+)\s*\]|KEYS\s*\[\s*(?<ak>\d+)\s*\]|@(?<an>\w+)|(?<al>[A-Za-z_]\w*))";
    private const string Call = @"redis\s*\.\s*p?call\s*\(\s*['""]";

    private static readonly Regex s_get = new(Call + @"h?get['""]\s*,\s*" + KeyRef, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    private static readonly Regex s_compareRight = new(@"(?:==|~=)\s*" + ArgRef, RegexOptions.CultureInvariant);
    private static readonly Regex s_compareLeft = new(ArgRef + @"\s*(?:==|~=)", RegexOptions.CultureInvariant);
    private static readonly Regex s_delete = new(Call + @"(?:del|unlink)['""]\s*,\s*" + KeyRef, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    private static readonly Regex s_expire = new(Call + @"(?:p?expire(?:at)?|set)['""]\s*,\s*" + KeyRef, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    private static readonly Regex s_set = new(Call + @"set['""]\s*,\s*" + KeyRef + @"\s*,\s*" + ArgRef, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    private static readonly Regex s_setnx = new(Call + @"setnx['""]\s*,\s*" + KeyRef + @"\s*,\s*" + ArgRef, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    private static readonly Regex s_expireCall = new(Call + @"p?expire['""]", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    private static readonly Regex s_nx = new(@"['""]nx['""]", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    private static readonly Regex s_expiryOption = new(@"['""](?:px|ex|pxat|exat)['""]", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    private static readonly Regex s_localFromArg = new(@"local\s+(?<name>[A-Za-z_]\w*)\s*=\s*(?:ARGV\s*\[\s*(?<a>\d+)\s*\]|@(?<an>\w+))", RegexOptions.CultureInvariant);
    private static readonly ConcurrentDictionary<string, LuaScriptShape> s_cache = new();

    private LuaScriptShape(LuaScriptKind kind, ScriptReference key, ScriptReference owner, bool hasExpiry)
    {
        Kind = kind;
        Key = key;
        Owner = owner;
        HasExpiry = hasExpiry;
    }

    public LuaScriptKind Kind { get; }

    /// <summary>The lock key the script works on.</summary>
    public ScriptReference Key { get; }

    /// <summary>The argument compared with (or, for an acquire, stored in) the key.</summary>
    public ScriptReference Owner { get; }

    /// <summary>For an acquire: whether the SET carries PX/EX.</summary>
    public bool HasExpiry { get; }

    public static LuaScriptShape Of(string text) => s_cache.GetOrAdd(text, Parse);

    private static LuaScriptShape Parse(string text)
    {
        var get = s_get.Match(text);
        if (get.Success && CompareArgument(text) is { IsKnown: true } compared)
        {
            var key = KeyOf(get);
            if (s_delete.IsMatch(text))
            {
                return new LuaScriptShape(LuaScriptKind.CompareAndDelete, key, compared, hasExpiry: false);
            }

            if (s_expire.IsMatch(text))
            {
                return new LuaScriptShape(LuaScriptKind.CompareAndExpire, key, compared, hasExpiry: true);
            }
        }

        var set = s_set.Match(text);
        if (set.Success && s_nx.IsMatch(text))
        {
            return new LuaScriptShape(LuaScriptKind.SetNotExists, KeyOf(set), ArgumentOf(set, text), s_expiryOption.IsMatch(text));
        }

        var setnx = s_setnx.Match(text);
        if (setnx.Success)
        {
            return new LuaScriptShape(LuaScriptKind.SetNotExists, KeyOf(setnx), ArgumentOf(setnx, text), s_expireCall.IsMatch(text));
        }

        var delete = s_delete.Match(text);
        if (delete.Success && !get.Success)
        {
            return new LuaScriptShape(LuaScriptKind.Delete, KeyOf(delete), default, hasExpiry: false);
        }

        return new LuaScriptShape(LuaScriptKind.Other, default, default, hasExpiry: false);
    }

    private static ScriptReference CompareArgument(string text)
    {
        foreach (var regex in new[] { s_compareRight, s_compareLeft })
        {
            foreach (Match match in regex.Matches(text))
            {
                if (ArgumentOf(match, text) is { IsKnown: true } argument)
                {
                    return argument;
                }
            }
        }

        return default;
    }

    private static ScriptReference KeyOf(Match match)
        => match.Groups["k"].Success ? new ScriptReference(int.Parse(match.Groups["k"].Value, System.Globalization.CultureInfo.InvariantCulture), null)
            : new ScriptReference(0, match.Groups["kn"].Value);

    /// <summary>An ARGV[n] or @name, or a Lua local assigned from one (local token = ARGV[1]).</summary>
    private static ScriptReference ArgumentOf(Match match, string text)
    {
        if (match.Groups["a"].Success)
        {
            return new ScriptReference(int.Parse(match.Groups["a"].Value, System.Globalization.CultureInfo.InvariantCulture), null);
        }

        if (match.Groups["an"].Success)
        {
            return new ScriptReference(0, match.Groups["an"].Value);
        }

        if (match.Groups["ak"].Success)
        {
            // The owner passed as a second key (KEYS[2]): some scripts do.
            return new ScriptReference(int.Parse(match.Groups["ak"].Value, System.Globalization.CultureInfo.InvariantCulture), null, IsKey: true);
        }

        if (match.Groups["al"].Success)
        {
            foreach (Match local in s_localFromArg.Matches(text))
            {
                if (local.Groups["name"].Value == match.Groups["al"].Value)
                {
                    return local.Groups["a"].Success
                        ? new ScriptReference(int.Parse(local.Groups["a"].Value, System.Globalization.CultureInfo.InvariantCulture), null)
                        : new ScriptReference(0, local.Groups["an"].Value);
                }
            }
        }

        return default;
    }
}

/// <summary>A KEYS[n] (<see cref="IsKey"/>) or ARGV[n] (1-based <see cref="Index"/>), or an @name of a prepared LuaScript.</summary>
internal readonly record struct ScriptReference(int Index, string? Name, bool IsKey = false)
{
    public bool IsKnown => Index > 0 || !string.IsNullOrEmpty(Name);
}
