using Jsmail.Common.Message;
using static Jsmail.Common.Tests.Latin1;

namespace Jsmail.Common.Tests.Message;

public class AddressQuotingTests
{
    [Theory]
    [InlineData("", "")]
    [InlineData("user@example.com", "user@example.com")]
    [InlineData("first.last@example.com", "first.last@example.com")]
    [InlineData("A-Z_09+tag@x", "A-Z_09+tag@x")]
    [InlineData("!#$%&'*+-/=?^_`{|}~@x", "!#$%&'*+-/=?^_`{|}~@x")]
    [InlineData("#@[]", "#@[]")]
    [InlineData("postmaster", "postmaster")]
    [InlineData("a b@x", "\"a b\"@x")]
    [InlineData("a b", "\"a b\"")]
    [InlineData("@x", "\"\"@x")]
    [InlineData("@", "\"\"@")]
    [InlineData("a@", "a@")]
    [InlineData(".a@x", "\".a\"@x")]
    [InlineData("a.@x", "\"a.\"@x")]
    [InlineData(".@x", "\".\"@x")]
    [InlineData("a..b@x", "\"a..b\"@x")]
    // Only the part before the last '@' is the local part.
    [InlineData("a@b@c", "\"a@b\"@c")]
    [InlineData("a%b@c", "a%b@c")]
    // Backslash before CR, LF, '"' and '\'; other bytes go in as they are.
    [InlineData("a\"b@x", "\"a\\\"b\"@x")]
    [InlineData("a\\b@x", "\"a\\\\b\"@x")]
    [InlineData("a\rb@x", "\"a\\\rb\"@x")]
    [InlineData("a\nb@x", "\"a\\\nb\"@x")]
    [InlineData("a\tb@x", "\"a\tb\"@x")]
    [InlineData("a\0b@x", "\"a\0b\"@x")]
    [InlineData("\"quoted\"@x", "\"\\\"quoted\\\"\"@x")]
    [InlineData("a(b)@x", "\"a(b)\"@x")]
    [InlineData("a,b@x", "\"a,b\"@x")]
    [InlineData("a:b@x", "\"a:b\"@x")]
    [InlineData("a;b@x", "\"a;b\"@x")]
    [InlineData("<a>@x", "\"<a>\"@x")]
    [InlineData("a[b]@x", "\"a[b]\"@x")]
    [InlineData("a\u007f@x", "\"a\u007f\"@x")]
    [InlineData("j\u00fcrgen@x", "\"j\u00fcrgen\"@x")]
    // The domain is never quoted or escaped.
    [InlineData("a@b c", "a@b c")]
    [InlineData("a b@\"x\\y\"", "\"a b\"@\"x\\y\"")]
    public void Quotes_only_the_local_part_when_needed(string address, string expected) =>
        Text(AddressQuoting.Quote(Bytes(address))).Should().Be(expected);

    private const string AtomBytes =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-/=?^_`{|}~.";

    public static TheoryData<int> EveryByte() => [.. Enumerable.Range(0, 256)];

    [Theory]
    [MemberData(nameof(EveryByte))]
    public void Each_byte_needs_quoting_unless_it_is_an_atom_byte(int value)
    {
        // Wrapped in 'x' so that '.' is tested as an inner byte.
        var local = new byte[] { (byte)'x', (byte)value, (byte)'x' };
        AddressQuoting.NeedsQuoting(local).Should().Be(!AtomBytes.Contains((char)value));
    }
}
