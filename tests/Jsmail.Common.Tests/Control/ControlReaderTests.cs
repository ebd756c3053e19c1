using Jsmail.Common.Control;
using Jsmail.Common.Os;
using Jsmail.TestSupport;
using static Jsmail.Common.Tests.Latin1;

namespace Jsmail.Common.Tests.Control;

public sealed class ControlReaderTests : IDisposable
{
    private readonly TempDir home = new("jsmail-control");
    private readonly ControlReader reader;

    public ControlReaderTests()
    {
        Directory.CreateDirectory(home["control"]);
        reader = new ControlReader(home.Path);
    }

    public void Dispose() => home.Dispose();

    private void Write(string name, string contents) => File.WriteAllBytes(home["control/" + name], Bytes(contents));

    // A directory where the file should be: open succeeds, read fails with EISDIR.
    private void MakeUnreadable(string name) => Directory.CreateDirectory(home["control/" + name]);

    private string Line(string name, bool me, string? literal) =>
        Text(reader.ReadLine(name, me, literal is null ? null : Bytes(literal)));

    [Fact]
    public void Line_of_present_file_ignores_defaults()
    {
        Write("me", "me.example\n");
        Write("helohost", "helo.example  \n");
        Line("helohost", me: true, literal: "lit").Should().Be("helo.example");
    }

    [Fact]
    public void Line_of_empty_file_is_empty_not_a_fallback()
    {
        Write("me", "me.example\n");
        Write("bouncehost", "");
        Line("bouncehost", me: true, literal: "bouncehost").Should().Be("");
    }

    [Fact]
    public void Line_of_missing_file_falls_back_to_me_first()
    {
        Write("me", "me.example \t\nignored\n");
        Line("bouncehost", me: true, literal: "bouncehost").Should().Be("me.example");
    }

    [Fact]
    public void Line_of_missing_file_uses_literal_when_me_is_missing() =>
        Line("bouncehost", me: true, literal: "bouncehost").Should().Be("bouncehost");

    [Fact]
    public void Line_of_missing_file_skips_me_when_not_allowed()
    {
        Write("me", "me.example\n");
        Line("bouncefrom", me: false, literal: "MAILER-DAEMON").Should().Be("MAILER-DAEMON");
    }

    [Fact]
    public void Line_falls_back_to_empty_me()
    {
        Write("me", "");
        Line("helohost", me: true, literal: null).Should().Be("");
    }

    [Fact]
    public void Line_without_any_default_is_fatal()
    {
        var act = () => reader.ReadLine("helohost", fallbackToMe: true, literalDefault: null);
        act.Should().Throw<ControlMissingException>().Which.ControlName.Should().Be("helohost");
    }

    [Fact]
    public void Line_with_no_me_fallback_and_no_literal_is_fatal_even_if_me_exists()
    {
        Write("me", "me.example\n");
        var act = () => reader.ReadLine("smtpgreeting", fallbackToMe: false, literalDefault: null);
        act.Should().Throw<ControlMissingException>();
    }

    [Fact]
    public void Line_keeps_cr_of_crlf_file()
    {
        Write("me", "me.example\r\n");
        Line("me", me: false, literal: null).Should().Be("me.example\r");
    }

    [Fact]
    public void Unreadable_file_is_a_read_error_not_a_missing_file()
    {
        Write("me", "me.example\n");
        MakeUnreadable("helohost");
        var act = () => reader.ReadLine("helohost", fallbackToMe: true, literalDefault: Bytes("x"));
        var error = act.Should().Throw<ControlReadException>().Which;
        error.Errno.Should().Be(Errno.EISDIR);
        error.ControlName.Should().Be("helohost");
        error.Message.Should().Be("unable to read control/helohost: is a directory");
        ErrorText.ErrnoOf(error).Should().Be(Errno.EISDIR);
    }

    [Fact]
    public void Unreadable_me_during_fallback_is_a_read_error()
    {
        MakeUnreadable("me");
        var act = () => reader.ReadLine("helohost", fallbackToMe: true, literalDefault: Bytes("x"));
        act.Should().Throw<ControlReadException>().Which.Errno.Should().Be(Errno.EISDIR);
    }

    [Fact]
    public void Missing_control_directory_means_missing_files()
    {
        Directory.Delete(home["control"]);
        reader.ReadInt("timeoutremote", 1200).Should().Be(1200);
        reader.ReadList("rcpthosts").Should().BeEmpty();
    }

    [Fact]
    public void Control_being_a_file_is_a_read_error_not_a_missing_file()
    {
        Directory.Delete(home["control"]);
        File.WriteAllText(home["control"], "");
        var act = () => reader.ReadInt("timeoutremote", 1200);
        act.Should().Throw<ControlReadException>().Which.Errno.Should().Be(Errno.ENOTDIR);
    }

    [Theory]
    [InlineData(null, 1200u)]
    [InlineData("", 1200u)]
    [InlineData("none\n", 1200u)]
    [InlineData("30\n", 30u)]
    [InlineData("0\n", 0u)]
    [InlineData("45\r\n", 45u)]
    public void Int_defaults_when_missing_or_not_a_number(string? contents, uint expected)
    {
        if (contents is not null) Write("timeoutremote", contents);
        reader.ReadInt("timeoutremote", 1200).Should().Be(expected);
    }

    [Fact]
    public void Int_of_unreadable_file_is_a_read_error()
    {
        MakeUnreadable("databytes");
        var act = () => reader.ReadInt("databytes", 0);
        act.Should().Throw<ControlReadException>();
    }

    [Fact]
    public void List_of_missing_file_is_empty_and_absent()
    {
        reader.ReadList("percenthack").Should().BeEmpty();
        reader.ReadListIfPresent("rcpthosts").Should().BeNull();
    }

    [Fact]
    public void List_of_empty_file_is_present_and_empty()
    {
        Write("rcpthosts", "");
        reader.ReadListIfPresent("rcpthosts").Should().NotBeNull().And.BeEmpty();
    }

    [Fact]
    public void List_reads_every_line()
    {
        Write("rcpthosts", "a.example\n# comment\n\n.b.example \r\nlast");
        reader.ReadList("rcpthosts").Select(e => Text(e)).Should().Equal("a.example", ".b.example \r", "last");
    }

    [Fact]
    public void List_of_unreadable_file_is_a_read_error()
    {
        MakeUnreadable("rcpthosts");
        var act = () => reader.ReadList("rcpthosts");
        act.Should().Throw<ControlReadException>();
    }

    [Fact]
    public void Map_reads_key_value_lines()
    {
        Write("smtproutes", "a.example:relay:2525\nnocolon\n:default\n");
        var map = reader.ReadMap("smtproutes");
        map.Count.Should().Be(2);
        map.TryGetByDomain(Bytes("x.y"), out var route).Should().BeTrue();
        Text(route!).Should().Be("default");
    }

    [Fact]
    public void Map_of_missing_file_is_empty() => reader.ReadMap("virtualdomains").Count.Should().Be(0);

    [Fact]
    public void Map_of_unreadable_file_is_a_read_error()
    {
        MakeUnreadable("virtualdomains");
        var act = () => reader.ReadMap("virtualdomains");
        act.Should().Throw<ControlReadException>();
    }

    [Fact]
    public void Locals_present_are_read_as_a_list()
    {
        Write("me", "me.example\n");
        Write("locals", "localhost\nme.example\n");
        reader.ReadLocals().Select(e => Text(e)).Should().Equal("localhost", "me.example");
    }

    [Fact]
    public void Locals_present_but_empty_stay_empty()
    {
        Write("me", "me.example\n");
        Write("locals", "# nothing local\n");
        reader.ReadLocals().Should().BeEmpty();
    }

    [Fact]
    public void Locals_missing_are_me()
    {
        Write("me", "me.example \nsecond line\n");
        reader.ReadLocals().Select(e => Text(e)).Should().Equal("me.example");
    }

    [Fact]
    public void Locals_and_me_missing_is_fatal()
    {
        var act = () => reader.ReadLocals();
        act.Should().Throw<ControlMissingException>().Which.ControlName.Should().Be("locals");
    }

    [Fact]
    public void Locals_unreadable_is_a_read_error()
    {
        Write("me", "me.example\n");
        MakeUnreadable("locals");
        var act = () => reader.ReadLocals();
        act.Should().Throw<ControlReadException>();
    }

    [Fact]
    public void File_at_the_size_cap_is_read()
    {
        WriteSized("rcpthosts", ControlReader.MaxFileBytes);
        reader.ReadList("rcpthosts").Select(e => Text(e)).Should().Equal("first");
    }

    [Fact]
    public void File_beyond_the_size_cap_is_a_read_error()
    {
        WriteSized("rcpthosts", ControlReader.MaxFileBytes + 1);
        var act = () => reader.ReadList("rcpthosts");
        act.Should().Throw<ControlReadException>().Which.Errno.Should().Be(Errno.EFBIG);
    }

    [Fact]
    public void Line_of_oversized_file_reads_only_the_first_line()
    {
        WriteSized("me", ControlReader.MaxFileBytes + 1);
        Line("me", me: false, literal: null).Should().Be("first");
    }

    // "first\n" followed by newlines up to the given size: one entry however long.
    private void WriteSized(string name, int size)
    {
        var contents = new byte[size];
        Array.Fill(contents, (byte)'\n');
        "first"u8.CopyTo(contents);
        File.WriteAllBytes(home["control/" + name], contents);
    }
}
