using System.Security.Cryptography;

namespace Locking;

internal static class OwnerToken
{
    /// <summary>128 random bits (not a version-4 Guid, whose 6 fixed bits would make it 122).</summary>
    public static Guid New()
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        return new Guid(bytes);
    }
}
