using System;
using System.Collections.Generic;
using System.Text;

namespace Locking.Declarations;

/// <summary>One piece of a key template: literal text, or a placeholder <c>{param.Member.Member}</c>.</summary>
/// <param name="IsPlaceholder">Whether this is a placeholder.</param>
/// <param name="Text">The literal text (braces unescaped), or the placeholder path as written ("order.Id").</param>
/// <param name="Path">The placeholder path split at the dots; empty for literal text.</param>
internal sealed record KeySegment(bool IsPlaceholder, string Text, EquatableArray<string> Path);

/// <summary>
/// A parsed key template: literal text and <c>{param}</c> / <c>{param.Member.Member}</c> placeholders, with
/// <c>{{</c> and <c>}}</c> for literal braces. Only the syntax: which names exist is checked against symbols
/// by <see cref="ExclusiveMethodParser"/>.
/// </summary>
/// <param name="Text">The template as written.</param>
/// <param name="Segments">The pieces in order; adjacent literal text is merged.</param>
/// <param name="Error">Why the template is malformed, or <see langword="null"/>.</param>
internal sealed record KeyTemplate(string Text, EquatableArray<KeySegment> Segments, string? Error)
{
    /// <summary>Whether the key has no placeholders (the same string on every call).</summary>
    public bool IsConstant
    {
        get
        {
            foreach (var segment in Segments)
            {
                if (segment.IsPlaceholder)
                {
                    return false;
                }
            }

            return true;
        }
    }

    /// <summary>The key as the same text for every call, when it has no placeholders.</summary>
    public string ConstantText
    {
        get
        {
            var text = new StringBuilder();
            foreach (var segment in Segments)
            {
                text.Append(segment.Text);
            }

            return text.ToString();
        }
    }

    /// <summary>Parses <paramref name="text"/>.</summary>
    public static KeyTemplate Parse(string? text)
    {
        if (text is null || text.Trim().Length == 0)
        {
            return new KeyTemplate(text ?? "", EquatableArray<KeySegment>.Empty, "the key is empty");
        }

        var segments = new List<KeySegment>();
        var literal = new StringBuilder();
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsSurrogate(c))
            {
                if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
                {
                    literal.Append(c).Append(text[i + 1]);
                    i++;
                    continue;
                }

                // UTF-8 has no bytes for half a pair: the runtime refuses such a key, on every call.
                return Fail(text, $"position {i} holds an unpaired UTF-16 surrogate \\u{(int)c:X4}, which would encode to the same bytes as other keys");
            }

            if (c == '}')
            {
                if (i + 1 < text.Length && text[i + 1] == '}')
                {
                    literal.Append('}');
                    i++;
                    continue;
                }

                return Fail(text, $"'}}' at position {i} has no matching '{{' (write '}}}}' for a literal brace)");
            }

            if (c != '{')
            {
                literal.Append(c);
                continue;
            }

            if (i + 1 < text.Length && text[i + 1] == '{')
            {
                literal.Append('{');
                i++;
                continue;
            }

            var end = text.IndexOf('}', i + 1);
            var nestedOpen = text.IndexOf('{', i + 1);
            if (end < 0 || (nestedOpen >= 0 && nestedOpen < end))
            {
                return Fail(text, $"'{{' at position {i} has no matching '}}' (write '{{{{' for a literal brace)");
            }

            var path = text.Substring(i + 1, end - i - 1).Trim();
            if (path.Length == 0)
            {
                return Fail(text, $"the placeholder at position {i} is empty");
            }

            var parts = path.Split('.');
            foreach (var part in parts)
            {
                if (!IsIdentifier(part))
                {
                    return Fail(text, $"'{{{path}}}' is not a parameter name or a member path such as {{order.Id}}");
                }
            }

            if (literal.Length > 0)
            {
                segments.Add(new KeySegment(false, literal.ToString(), EquatableArray<string>.Empty));
                literal.Clear();
            }

            segments.Add(new KeySegment(true, path, new EquatableArray<string>(parts)));
            i = end;
        }

        if (literal.Length > 0)
        {
            segments.Add(new KeySegment(false, literal.ToString(), EquatableArray<string>.Empty));
        }

        return new KeyTemplate(text, new EquatableArray<KeySegment>(segments.ToArray()), null);
    }

    private static KeyTemplate Fail(string text, string error) => new(text, EquatableArray<KeySegment>.Empty, error);

    private static bool IsIdentifier(string name)
    {
        var start = name.Length > 0 && name[0] == '@' ? 1 : 0;
        if (name.Length == start || !(char.IsLetter(name[start]) || name[start] == '_'))
        {
            return false;
        }

        for (var i = start + 1; i < name.Length; i++)
        {
            if (!(char.IsLetterOrDigit(name[i]) || name[i] == '_'))
            {
                return false;
            }
        }

        return true;
    }
}
