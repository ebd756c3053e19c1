using System.Text;

namespace Jsmail.Common.Tests;

/// <summary>
/// Test data as strings where each char is one byte (Latin-1 is a bijection on
/// 0-255), so tables stay readable and comparisons stay byte-exact.
/// </summary>
internal static class Latin1
{
    public static byte[] Bytes(string s) => Encoding.Latin1.GetBytes(s);
    public static string Text(ReadOnlySpan<byte> b) => Encoding.Latin1.GetString(b);
}
