using Jsmail.Common.Cdb;
using Jsmail.Common.Control;
using static Jsmail.Common.Tests.Latin1;

namespace Jsmail.Common.Tests.Control;

/// <summary>users/cdb's keys and data (interfaces §10.3) and the lookup over them (§4.3).</summary>
public class UsersCdbTests
{
    [Theory]
    [InlineData("joe", "!joe\0")]
    [InlineData("JoE", "!joe\0")]
    [InlineData("", "!\0")]
    [InlineData("A-Z.\u00c4", "!a-z.\u00c4\0")] // only A-Z fold: bytes above 127 stay as they are
    public void Exact_keys_are_bang_lower_case_nul(string local, string key) =>
        Text(UsersCdb.ExactKey(Bytes(local))).Should().Be(key);

    [Theory]
    [InlineData("joe-", "!joe-")]
    [InlineData("Joe-", "!joe-")]
    [InlineData("", "!")]
    public void Wildcard_keys_are_bang_lower_case(string prefix, string key) =>
        Text(UsersCdb.WildcardKey(Bytes(prefix))).Should().Be(key);

    [Fact]
    public void The_wildcard_ends_record_has_the_empty_key() => UsersCdb.WildcardEndsKey.IsEmpty.Should().BeTrue();

    [Theory]
    [InlineData("joe", "507", "100", "/home/joe", "", "", "joe\0507\0100\0/home/joe\0\0")]
    [InlineData("alias", "7790", "2108", "/var/qmail/alias", "-", "x", "alias\u00007790\u00002108\0/var/qmail/alias\0-\0x")]
    public void Data_round_trips(string user, string uid, string gid, string home, string dash, string ext, string data)
    {
        var bytes = UsersCdb.Data(Bytes(user), Bytes(uid), Bytes(gid), Bytes(home), Bytes(dash), Bytes(ext));
        Text(bytes).Should().Be(data);
        var a = UserAssignment.FromUsersCdb(bytes)!;
        (Text(a.User), a.Uid.ToString(), a.Gid.ToString(), Text(a.Home), Text(a.Dash), Text(a.Ext))
            .Should().Be((user, uid, gid, home, dash, ext));
    }

    [Theory]
    [InlineData("u\u00001\u00002\0/h\0-")] // five fields
    [InlineData("u\0x\u00002\0/h\0-\0e")] // uid without digits
    [InlineData("u\u00001\0\0/h\0-\0e")] // empty gid
    public void Malformed_data_is_no_assignment(string data) => UserAssignment.FromUsersCdb(Bytes(data)).Should().BeNull();

    [Fact]
    public void Uid_and_gid_read_their_leading_digits_as_qmail_does()
    {
        var a = UserAssignment.FromUsersCdb(UsersCdb.Data("u"u8, "0507x"u8, "12 "u8, "/h"u8, ""u8, ""u8))!;
        (a.Uid, a.Gid).Should().Be((507u, 12u));
    }

    [Fact]
    public void Getpw_output_has_every_field_terminated() =>
        UserAssignment.FromGetpw("u\u00001\u00002\0/h\0-\0e"u8).Should().BeNull();

    /// <summary>A users/cdb written with the codec, as jsmail-newu writes it.</summary>
    private static Func<byte[], byte[]?> Written(params (string Name, bool Wildcard, string Ext)[] entries)
    {
        var ms = new MemoryStream();
        var ends = new List<byte>();
        using (var w = new CdbWriter(ms, leaveOpen: true))
        {
            foreach (var (name, wildcard, ext) in entries)
            {
                var key = wildcard ? UsersCdb.WildcardKey(Bytes(name)) : UsersCdb.ExactKey(Bytes(name));
                if (wildcard && name.Length > 0 && !ends.Contains((byte)name[^1])) ends.Add((byte)name[^1]);
                w.Add(key, UsersCdb.Data(Bytes("u-" + name), "1"u8, "2"u8, "/h"u8, wildcard ? "-"u8 : ""u8, Bytes(ext)));
            }
            w.Add(UsersCdb.WildcardEndsKey, ends.ToArray());
            w.Finish();
        }
        return UsersCdb.Over(new CdbReader(ms.ToArray()));
    }

    [Theory]
    [InlineData("joe", "u-joe||")]
    [InlineData("JOE", "u-joe||")]
    [InlineData("joe-Bar", "u-joe-|-|Bar")]
    [InlineData("joe.x", "u-joe.|-|pre-x")]
    [InlineData("Ann", "u-|-|Ann")]
    [InlineData("joe-", "u-joe-|-|")]
    public void Keys_written_are_the_keys_found(string local, string expected)
    {
        var lookup = Written(("joe", false, ""), ("joe-", true, ""), ("joe.", true, "pre-"), ("", true, ""));
        var a = UsersCdb.Find(lookup, Bytes(local), out var malformed)!;
        malformed.Should().BeFalse();
        $"{Text(a.User)}|{Text(a.Dash)}|{Text(a.Ext)}".Should().Be(expected);
    }

    [Fact]
    public void A_wildcard_prefix_needs_its_last_byte_listed()
    {
        // "joe_" is stored, but "_" is not among the wildcard ends: qmail-lspawn never looks it up.
        var ms = new MemoryStream();
        using (var w = new CdbWriter(ms, leaveOpen: true))
        {
            w.Add(UsersCdb.WildcardKey("joe_"u8), UsersCdb.Data("j"u8, "1"u8, "2"u8, "/h"u8, "-"u8, ""u8));
            w.Add(UsersCdb.WildcardEndsKey, "-"u8);
            w.Finish();
        }
        UsersCdb.Find(UsersCdb.Over(new CdbReader(ms.ToArray())), "joe_x"u8, out _).Should().BeNull();
    }

    [Fact]
    public void Without_the_wildcard_ends_record_the_file_is_unusable()
    {
        var lookup = (byte[] _) => (byte[]?)null;
        var find = () => UsersCdb.Find(lookup, "bob"u8.ToArray(), out _);
        find.Should().Throw<CdbFormatException>();
    }

    [Fact]
    public void Malformed_data_found_is_reported()
    {
        var lookup = (byte[] key) => key.AsSpan().SequenceEqual("!bob\0"u8) ? "u\u00001"u8.ToArray() : null;
        UsersCdb.Find(lookup, "Bob"u8, out var malformed).Should().BeNull();
        malformed.Should().BeTrue();
    }
}
