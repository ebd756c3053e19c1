using System.Runtime.InteropServices;
using Jsmail.Common.Os;
using Jsmail.Common.Tests.Control;

namespace Jsmail.Common.Tests.Os;

public unsafe class NativeStringArrayTests
{
    [Fact]
    public void Holds_NUL_terminated_copies_and_a_NULL_end()
    {
        byte[][] strings = ["prog"u8.ToArray(), [], "a=\xff"u8.ToArray()];
        using var array = new NativeStringArray(strings);
        for (var i = 0; i < strings.Length; i++)
            MemoryMarshal.CreateReadOnlySpanFromNullTerminated(array.Pointer[i]).ToArray().Should().Equal(strings[i]);
        ((nint)array.Pointer[strings.Length]).Should().Be(0);
    }

    [Fact]
    public void An_empty_list_is_just_the_NULL_end()
    {
        using var array = new NativeStringArray([]);
        ((nint)array.Pointer[0]).Should().Be(0);
    }
}

public class OwnedFdTests
{
    [Fact]
    public void Dispose_closes_once()
    {
        var file = OwnedFd.Open("/dev/null", Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        var fd = file.Fd;
        file.IsOpen.Should().BeTrue();
        file.Dispose();
        file.IsOpen.Should().BeFalse();
        Libc.IsOpen(fd).Should().BeFalse();
        file.Dispose(); // a second Dispose must not close whatever now has that number
    }

    [Fact]
    public void Release_hands_the_descriptor_on_open()
    {
        int fd;
        using (var file = OwnedFd.Open("/dev/null", Libc.O_RDONLY | Libc.O_CLOEXEC, 0)) fd = file.Release();
        Libc.IsOpen(fd).Should().BeTrue();
        Libc.Close(fd);
    }

    [Fact]
    public void A_failed_open_owns_nothing()
    {
        using var file = OwnedFd.Open("/nonexistent/jsmail", Libc.O_RDONLY, 0);
        file.IsOpen.Should().BeFalse();
        Libc.Errno.Should().Be(Errno.ENOENT);
    }
}

[Collection(nameof(EnvironmentCollection))]
public class RawEnvironmentTests
{
    private const string Name = "JSMAIL_OSLAYER_TEST";

    [Fact]
    public void Values_are_bytes_and_entries_can_leave_one_out()
    {
        byte[] value = [(byte)'a', 0xff, (byte)'=', 0x80];
        Libc.Setenv(Name, value).Should().BeTrue();
        try
        {
            Libc.Getenv(Name).Should().Equal(value);
            Libc.Getenv(Name + "_").Should().BeNull();
            Libc.Getenv(Name[..^1]).Should().BeNull();
            Libc.GetenvText(Name).Should().Be("a\ufffd=\ufffd");
            byte[] entry = [.. System.Text.Encoding.ASCII.GetBytes(Name + "="), .. value];
            Libc.EnvironmentEntries().Should().ContainEquivalentOf(entry);
            Libc.EnvironmentEntries(Name).Should().NotContainEquivalentOf(entry);
        }
        finally
        {
            Libc.Unsetenv(Name);
        }
        Libc.Getenv(Name).Should().BeNull();
    }

    [Fact]
    public void An_empty_value_is_not_unset()
    {
        Libc.Setenv(Name, []);
        try { Libc.Getenv(Name).Should().BeEmpty(); }
        finally { Libc.Unsetenv(Name); }
    }
}

[Collection(nameof(EnvironmentCollection))]
public class FindOnPathTests
{
    [Fact]
    public void A_name_with_a_slash_is_used_as_it_is() =>
        Exec.FindOnPath("./no/such").Should().Be("./no/such");

    [Fact]
    public void Unset_PATH_searches_execvps_default()
    {
        var saved = Libc.Getenv("PATH");
        Libc.Unsetenv("PATH");
        try { Exec.FindOnPath("sh").Should().Be("/bin/sh"); }
        finally { if (saved != null) Libc.Setenv("PATH", saved); }
    }

    [Fact]
    public void The_first_PATH_entry_holding_the_name_wins_and_none_is_null()
    {
        var first = Directory.CreateTempSubdirectory("jsmail-path").FullName;
        var second = Directory.CreateTempSubdirectory("jsmail-path").FullName;
        File.WriteAllText(Path.Combine(second, "prog"), "");
        var saved = Libc.Getenv("PATH");
        Libc.Setenv("PATH", System.Text.Encoding.UTF8.GetBytes($"{first}:{second}"));
        try
        {
            Exec.FindOnPath("prog").Should().Be(Path.Combine(second, "prog"));
            Exec.FindOnPath("jsmail-no-such-program").Should().BeNull();
        }
        finally
        {
            if (saved != null) Libc.Setenv("PATH", saved);
            Directory.Delete(first, true);
            Directory.Delete(second, true);
        }
    }
}
