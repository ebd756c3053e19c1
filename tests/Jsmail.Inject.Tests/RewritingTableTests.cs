using System.Text;
using Jsmail.Common.Os;

namespace Jsmail.Inject.Tests;

/// <summary>The pure pieces, case by case: tokenizer, printer, qualification, field names, getopt, whole headers.</summary>
public sealed class RewritingTableTests
{
    private static byte[] L(string s) => Encoding.Latin1.GetBytes(s);
    private static string S(byte[] b) => Encoding.Latin1.GetString(b);

    private static AddressRewriter Rewriter(string host = "h", string domain = "d.example", string plus = "p.example") =>
        new(InjectSettings.ControlTokens((byte)'@', L(host)), InjectSettings.ControlTokens((byte)'.', L(domain)),
            InjectSettings.ControlTokens((byte)'.', L(plus)));

    [Theory]
    // interfaces §9.4 and §16 item 47
    [InlineData("joe", "joe@h.d.example")]
    [InlineData("joe@mx+", "joe@mx.p.example")]
    [InlineData("joe@localhost", "joe@localhost.d.example")]
    [InlineData("joe@[192.0.2.1]", "joe@[192.0.2.1]")]
    [InlineData("<@a,@b:joe@c.d>", "joe@c.d")]
    [InlineData("w@h.", "w@h.d.example")]
    [InlineData("w@", "w@h.d.example")]
    [InlineData("joe+", "joe+@h.d.example")]
    [InlineData("joe@host", "joe@host.d.example")]
    [InlineData("joe@a.b", "joe@a.b")]
    [InlineData("x@[]", "x@[]")]
    [InlineData("<>", "")]
    [InlineData("<@a:>", "")]
    [InlineData("\"a b\"@x.y", "a b@x.y")]
    public void Qualifies_an_address_in_a_field(string address, string envelope)
    {
        var settings = Settings(rewriter: Rewriter());
        var h = new HeaderRewriter(settings, null);
        h.Field(L("To: " + address + "\n"));
        h.Finish(false);
        h.HeaderRecipients.Select(S).Should().Equal(envelope);
    }

    [Theory]
    [InlineData("joe", "joe@h.d.example")]
    [InlineData("a b@x", "a b@x.d.example")]
    [InlineData("", "")]
    [InlineData("joe@[]", "joe@[]")]
    [InlineData("@r:joe@c.d", "@r:joe@c.d")] // quoted as an envelope address first: "@r:joe"@c.d has no route
    public void Qualifies_argv_addresses(string arg, string expected) =>
        S(CommandLine.Recipient(L(arg), Rewriter())).Should().Be(expected);

    [Theory]
    [InlineData("To: a@x", "To: a@x\n")]
    [InlineData("To:a@x,b@y", "To: a@x, b@y\n")]
    [InlineData("To: \"a\\b\"@x", "To: \"ab\"@x\n")]
    [InlineData("To: x (a (b) c)", "To: x (a b c)\n")]
    [InlineData("To: a)b@x", "To: \"a\\)b\"@x\n")]
    [InlineData("To: <a@x>", "To: <a@x>\n")]
    [InlineData("To: g: a, b;", "To: g: a, b;\n")]
    [InlineData("To: [1.2.3.4]", "To: [1.2.3.4]\n")]
    // qmail's token822 prints these bare, so they read back otherwise (fuzz/corpus/inject/crashes-fixed):
    [InlineData("To:\\", "To: \n")] // a lone trailing backslash: an empty atom after the colon's space
    [InlineData("To: D\\ ", "To: D \n")] // an escaped space stays in the atom, unquoted
    [InlineData("To: teB \\>", "To: teB >\n")] // an escaped '>' is an atom, printed as the special
    public void Tokenizes_and_prints(string field, string printed) =>
        S(Token822.Unparse(Token822.Parse(L(field))!)).Should().Be(printed);

    [Theory]
    [InlineData("To: (open")]
    [InlineData("To: \"open")]
    [InlineData("To: [open")]
    [InlineData("To: ) x")]
    [InlineData("To: ] x")]
    public void Refuses_what_does_not_tokenize(string field) => Token822.Parse(L(field)).Should().BeNull();

    [Fact]
    public void Folds_after_a_comma_past_eighty_columns()
    {
        var addresses = Enumerable.Range(0, 8).Select(i => $"someone{i}@example{i}.test").ToList();
        var tokens = Token822.Parse(L("To: " + string.Join(", ", addresses)))!;
        var printed = S(Token822.Unparse(tokens));
        printed.Should().Be(
            "To: someone0@example0.test, someone1@example1.test, someone2@example2.test,\n" +
            "  someone3@example3.test, someone4@example4.test, someone5@example5.test,\n" +
            "  someone6@example6.test, someone7@example7.test\n");
        printed.Split('\n').Should().OnlyContain(l => l.Length <= 80);
    }

    [Theory]
    [InlineData("To: x", FieldKind.To)]
    [InlineData("tO\t : x", FieldKind.To)]
    [InlineData("RESENT-BCC: x", FieldKind.ResentBcc)]
    [InlineData("Resent_Bcc: x", FieldKind.Unknown)]
    [InlineData("To-: x", FieldKind.Unknown)]
    [InlineData("Content-Length:1", FieldKind.ContentLength)]
    [InlineData("Mail-Followup-To: x", FieldKind.MailFollowupTo)]
    [InlineData("Apparently-To: x", FieldKind.ApparentlyTo)]
    public void Knows_field_names(string field, FieldKind kind) => HeaderField.Kind(L(field)).Should().Be(kind);

    [Theory]
    [InlineData("X-A: b", true)]
    [InlineData("X-A \t: b", true)]
    [InlineData(": b", false)]
    [InlineData("X A: b", false)]
    [InlineData("no colon", false)]
    [InlineData("X\u00e9: b", false)]
    public void Knows_valid_fields(string line, bool valid) => HeaderField.IsValid(L(line)).Should().Be(valid);

    [Theory]
    [InlineData(new[] { "p", "-n", "x" }, "n", 2)]
    [InlineData(new[] { "p", "-nf", "s", "x" }, "n,f=s", 3)]
    [InlineData(new[] { "p", "-fs", "x" }, "f=s", 2)]
    [InlineData(new[] { "p", "--", "-n" }, "", 2)]
    [InlineData(new[] { "p", "--x", "-n" }, "", 2)]
    [InlineData(new[] { "p", "-", "-n" }, "", 1)]
    [InlineData(new[] { "p", "x", "-n" }, "", 1)]
    [InlineData(new[] { "p", "-z" }, "?z:illegal option -- z", 1)]
    [InlineData(new[] { "p", "-f" }, "?f:option requires an argument -- f", 2)]
    public void Parses_options_as_qmail_getopt(string[] argv, string expected, int index)
    {
        var g = new QmailGetopt(argv.Select(L).ToList(), CommandLine.Options) { Report = false };
        var seen = new List<string>();
        int c;
        while ((c = g.Next()) != QmailGetopt.End)
        {
            if (c == '?') { seen.Add($"?{(char)g.Problem}:" + (g.Index < argv.Length ? "illegal option -- " : "option requires an argument -- ") + (char)g.Problem); break; }
            seen.Add(g.Value is { } v ? $"{(char)c}={S(v)}" : ((char)c).ToString());
        }
        string.Join(",", seen).Should().Be(expected);
        g.Index.Should().Be(index);
    }

    internal static InjectSettings Settings(AddressRewriter? rewriter = null, string? name = null, string user = "joe",
        string? host = null, string letters = "", List<byte[]>? mft = null, bool utf8 = false) => new()
    {
        Utf8 = utf8,
        NameComment = letters.Contains('c'), DeleteSender = letters.Contains('s'), DeleteFrom = letters.Contains('f'),
        DeleteMessageId = letters.Contains('i'), VerpRecipient = letters.Contains('r'), VerpMessage = letters.Contains('m'),
        MailUser = L(user), SenderUser = L(user), MailHost = host == null ? null : L(host), SenderHost = host == null ? null : L(host),
        FullName = name == null ? null : L(name), IdHost = L("id.example"), Rewriter = rewriter ?? Rewriter(),
        MailFollowupTo = mft, StartTime = 1704445623 /* 5 Jan 2024 09:07:03 */, Pid = 4242,
    };

    internal static (string Output, string Envelope) Inject(string message, InjectSettings settings, InjectOptions? options = null)
    {
        options ??= new InjectOptions { Strategy = RecipientStrategy.Header, Queue = false };
        var run = new Injection(settings, options);
        var o = new List<byte>();
        run.Run(MessageChunks.FromBytes(L(message)), () => { }, s => o.AddRange(s.ToArray()));
        return (S(o.ToArray()), InjectHome.EnvelopeText(run.Envelope().Encode()));
    }

    [Theory]
    [InlineData("\n", "\nbody\nmore")] // the empty line ends the 64 KiB read
    [InlineData("junk\n", "\njunk\nbody\nmore")] // the line that is no field ends it
    [InlineData("", "\nbody\nmore")] // the empty line starts the next read
    public void A_header_ending_where_a_read_ends_keeps_the_body_after_it(string last, string bodyOut)
    {
        const int Read = 65536; // MessageChunks' buffer
        var subject = "Subject: " + new string('x', Read - 10 - last.Length) + "\n";
        var (output, _) = Inject(subject + last + (last == "" ? "\n" : "") + "body\nmore", Settings());
        output.Should().EndWith(subject + bodyOut + "\n");
    }

    [Fact]
    public void Item_45_adds_date_message_id_from_and_cc_in_that_order_with_a_fixed_clock()
    {
        var (output, _) = Inject("Subject: x\n\nbody\n", Settings());
        output.Should().Be(
            "Return-Path: <joe@h.d.example>\n" +
            "Date: 5 Jan 2024 09:07:03 -0000\n" +
            "Message-ID: <20240105090703.4242.qmail@id.example>\n" +
            "From: joe@h.d.example\n" +
            "Cc: recipient list not shown: ;\n" +
            "Subject: x\n\nbody\n");
    }

    [Fact]
    public void Item_48_letters_with_a_fixed_clock()
    {
        Inject("To: a\n\n", Settings(letters: "r")).Envelope.Should().StartWith("Fjoe-@h.d.example-@[]\n");
        Inject("To: a\n\n", Settings(letters: "m")).Envelope.Should().StartWith("Fjoe-1704445623.4242@h.d.example\n");
        Inject("To: a\n\n", Settings(letters: "mr")).Envelope.Should().StartWith("Fjoe-1704445623.4242-@h.d.example-@[]\n");
        Inject("To: a\n\n", Settings(letters: "c", name: "Joe")).Output.Should().Contain("\nFrom: joe@h.d.example (Joe)\n");
        Inject("To: a\n\n", Settings(name: "Joe")).Output.Should().Contain("\nFrom: \"Joe\" <joe@h.d.example>\n");
        var deleted = Inject("Return-Path: <rp@x>\nFrom: f@x\nMessage-ID: <m@x>\nTo: a\n\n", Settings(letters: "fis"));
        deleted.Output.Should().NotContain("f@x").And.NotContain("<m@x>").And.Contain("Message-ID: <20240105090703.4242.qmail@id.example>");
        deleted.Envelope.Should().StartWith("Fjoe@h.d.example\n", "s: the Return-Path field does not set the sender");
    }

    [Fact]
    public void Mail_followup_to_lists_to_and_cc_in_reverse_collection_order_when_one_is_a_listed_list()
    {
        var (output, _) = Inject("To: a@x.y, list@l.example\nCc: c@x.y\n\n", Settings(mft: [L("LIST@L.EXAMPLE")]));
        output.Should().Contain("From: joe@h.d.example\nMail-Followup-To: c@x.y,\n  a@x.y,\n  list@l.example\nTo:");
    }

    [Fact]
    public void An_unparsable_sender_field_is_fatal()
    {
        var act = () => Inject("From: (unterminated\n\n", Settings());
        act.Should().Throw<InjectFatal>().Which.Text.Should().Equal(L("qmail-inject: fatal: unable to parse this line:\nFrom: (unterminated\n"));
    }

    // RFC 6532 outside JSMAIL_COMPAT=qmail. Strings here are UTF-8 bytes seen one char a byte (L and S are Latin-1).
    private static string U8(string s) => S(Encoding.UTF8.GetBytes(s));

    [Theory]
    [InlineData("To: Jörg Müller <jösé@x.example>", "To: Jörg Müller <jösé@x.example>", "To: \"Jörg\" \"Müller\" <\"jösé\"@x.example>")]
    [InlineData("Cc: bjørn", "Cc: bjørn@h.d.example", "Cc: \"bjørn\"@h.d.example")]
    [InlineData("From: (Grüße) a@b.example", "From: a@b.example (Grüße)", "From: a@b.example (Grüße)")]
    [InlineData("To: \"Quoted Ü\" <a@b.example>", "To: \"Quoted Ü\" <a@b.example>", "To: \"Quoted Ü\" <a@b.example>")]
    public void UTF8_words_stay_atoms_with_Utf8_and_are_quoted_as_qmail_quotes_them_without(string field, string utf8, string qmail)
    {
        var message = U8(field + "\n\nbody\n");
        Inject(message, Settings(utf8: true)).Output.Should().Contain("\n" + U8(utf8) + "\n");
        Inject(message, Settings()).Output.Should().Contain("\n" + U8(qmail) + "\n");
    }

    [Fact]
    public void Latin1_words_are_quoted_even_with_Utf8()
    {
        var (output, envelope) = Inject("To: Ren\u00e9 <r@x.example>\n\nbody\n", Settings(utf8: true));
        output.Should().Contain("\nTo: \"Ren\u00e9\" <r@x.example>\n");
        envelope.Should().Be("Fjoe@h.d.example\nTr@x.example\n", "a Latin-1 header needs no SMTPUTF8");
    }

    [Theory]
    [InlineData("To: a@x.example\nSubject: Grüße\n\nbody\n", "Ta@x.example\n\nX1\nMSMTPUTF8\n")]
    [InlineData("To: jösé@x.example\n\nbody\n", "Tjösé@x.example\n\nX1\nMSMTPUTF8\n")]
    [InlineData("To: a@x.example\n\nbody Grüße\n", "Ta@x.example\n")]
    public void A_message_that_needs_SMTPUTF8_is_marked_only_with_Utf8(string message, string recipientsAndMark)
    {
        Inject(U8(message), Settings(utf8: true)).Envelope.Should().Be("Fjoe@h.d.example\n" + U8(recipientsAndMark));
        Inject(U8(message), Settings()).Envelope.Should().NotContain("SMTPUTF8");
    }

    [Theory]
    [InlineData(null, true)]
    [InlineData("qmail", false)]
    [InlineData("other", true)]
    public void Utf8_is_on_unless_JSMAIL_COMPAT_is_qmail(string? compat, bool utf8) =>
        Jsmail.Inject.Settings.Environment.From(n => n == "JSMAIL_COMPAT" && compat != null ? L(compat) : null)
            .ToSettings(new Jsmail.Inject.Settings.Controls(Rewriter(), L("id")), null, 0, 1).Utf8.Should().Be(utf8);
}
