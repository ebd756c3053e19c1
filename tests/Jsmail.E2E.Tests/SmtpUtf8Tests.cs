#nullable disable warnings
using System.Text;
using Jsmail.TestSupport;

namespace Jsmail.E2E.Tests;

/// <summary>
/// SMTPUTF8 (RFC 6531/6532) through local delivery and jsmail-inject: a real
/// SMTP client (Python's smtplib, MAIL ... SMTPUTF8) and jsmail-inject hand
/// UTF-8 addresses and header fields to the supervised MTA; jsmail-lspawn finds
/// the users by their UTF-8 local parts in users/cdb, jsmail-local writes the
/// Maildir, the mbox and the forward of a `.qmail-jösé` file; a message that
/// needs SMTPUTF8 is returned 5.6.7 by jsmail-remote when the peer (Postfix's
/// smtp-sink, which offers 8BITMIME but not SMTPUTF8) cannot take it.
/// </summary>
public sealed class SmtpUtf8Tests : IDisposable
{
    private const string Jose = "jösé"; // the UTF-8 local part assigned to _box
    private readonly LocalUsers _users = new();
    private readonly LocalUsers.User _box, _lists;
    private readonly SmtpSink _sink = new();
    private readonly SupervisedMta _mta;

    private const string Client = """
        import smtplib, sys
        port, sender, subject = int(sys.argv[1]), sys.argv[2], sys.argv[3]
        s = smtplib.SMTP('127.0.0.1', port, local_hostname='client.example', timeout=60)
        s.ehlo()
        assert s.has_extn('smtputf8'), 'SMTPUTF8 not offered'
        code, msg = s.mail(sender, ['SMTPUTF8']); assert code == 250, (code, msg)
        for r in sys.argv[4:]:
            code, msg = s.rcpt(r); assert code == 250, (code, msg)
        body = 'From: Jörg Müller <%s>\r\nTo: %s\r\nSubject: %s Grüße\r\n\r\nbody ✓\r\n' % (sender, ', '.join(sys.argv[4:]), subject)
        code, msg = s.data(body.encode('utf-8')); assert code == 250, (code, msg)
        s.quit()
        """;

    public SmtpUtf8Tests()
    {
        var maildirmake = Repo.Program("jsmail-maildirmake");
        _box = _users.Add("u8box", maildirmake);
        _lists = _users.Add("u8lst", maildirmake);
        _mta = new SupervisedMta(_sink.Port, [_box, _lists]);
        // jösé is _box's by exact assignment; <lists>-<ext> is _lists' with ext, so .qmail-<ext> decides
        var assign = File.ReadAllText(Path.Combine(_mta.Home.Path, "users", "assign"), Encoding.UTF8);
        assign = $"={Jose}:{_box.Name}:{_box.Uid}:{_box.Gid}:{_box.Home}:::\n" +
                 $"+{_lists.Name}-:{_lists.Name}:{_lists.Uid}:{_lists.Gid}:{_lists.Home}:-::\n" + assign;
        File.WriteAllText(Path.Combine(_mta.Home.Path, "users", "assign"), assign, new UTF8Encoding(false));
        Run.Process(_mta.Home.Bin("qmail-newu"), []).ExitCode.Should().Be(0);
        // the file name is ASCII-lowercased by qmail's rule, so JöSé and jösé both find it; Ö would not
        File.WriteAllText(Path.Combine(_lists.Home, ".qmail-" + Jose), $"./mbox\n&{Jose}@{SupervisedMta.LocalDomain}\n", new UTF8Encoding(false));
        File.WriteAllText(Path.Combine(_lists.Home, ".qmail-fwd"), $"&far@{SupervisedMta.RemoteDomain}\n");
        LocalUsers.Sh("chown \"$3:$3\" \"$1\" \"$2\" && chmod 0644 \"$1\" \"$2\"",
            Path.Combine(_lists.Home, ".qmail-" + Jose), Path.Combine(_lists.Home, ".qmail-fwd"), _lists.Name);
        _mta.Start();
    }

    private static string At(string local) => local + "@" + SupervisedMta.LocalDomain;

    private static List<string> Maildir(LocalUsers.User u) =>
        new[] { "new", "cur" }.Select(d => Path.Combine(u.Maildir, d)).Where(Directory.Exists)
            .SelectMany(Directory.EnumerateFiles).Select(f => File.ReadAllText(f, Encoding.UTF8)).ToList();

    [Fact]
    public void A_UTF8_local_part_reaches_a_Maildir_an_mbox_by_its_qmail_file_and_a_forward_with_its_bytes_intact()
    {
        const string sender = "sénder@client.example";
        var tag = "u8-" + Guid.NewGuid().ToString("N")[..10];
        var r = Run.Process("/usr/bin/python3", ["-c", Client, _mta.SmtpPort.ToString(), sender, tag,
            At(Jose), At(_lists.Name + "-JöSé")]);
        r.ExitCode.Should().Be(0, r.Out + r.Err);

        // direct, and forwarded by .qmail-jösé: two copies in jösé's Maildir
        Wait.Until(() => Maildir(_box).Count(m => m.Contains(tag)) == 2, 60).Should().BeTrue(_mta.Log);
        var copies = Maildir(_box).Where(m => m.Contains(tag)).ToList();
        var direct = copies.Single(m => !m.Contains("Delivered-To: " + At(_lists.Name + "-JöSé")));
        direct.Should().StartWith($"Return-Path: <{sender}>\nDelivered-To: {At(Jose)}\nReceived: ")
            .And.Contain($"From: Jörg Müller <{sender}>\n").And.Contain($"Subject: {tag} Grüße\n").And.EndWith("\nbody ✓\n");
        var forwarded = copies.Single(m => m != direct);
        forwarded.Should().StartWith($"Return-Path: <{sender}>\nDelivered-To: {At(Jose)}\nReceived: ")
            .And.Contain($"\nDelivered-To: {At(_lists.Name + "-JöSé")}\nReceived: ");

        var mbox = File.ReadAllText(Path.Combine(_lists.Home, "mbox"), Encoding.UTF8);
        mbox.Should().StartWith($"From {sender} ").And.Contain($"\nReturn-Path: <{sender}>\nDelivered-To: {At(_lists.Name + "-JöSé")}\n")
            .And.Contain($"Subject: {tag} Grüße\n");
        _mta.Log.Should().Contain("did_1+1+0");
    }

    [Fact]
    public void Jsmail_inject_keeps_UTF8_headers_delivers_locally_and_its_mark_holds_the_message_and_a_forward_from_a_peer_without_SMTPUTF8()
    {
        var tag = "inj-" + Guid.NewGuid().ToString("N")[..10];
        // ASCII envelope (sender _box, far@remote.test): only the mark from the UTF-8 header keeps these from smtp-sink, which offers 8BITMIME
        Inject(tag, $"To: José <{At(Jose)}>, Far <far@{SupervisedMta.RemoteDomain}>\n");
        Inject(tag + "-fwd", $"To: {At(_lists.Name + "-fwd")}\n");

        Wait.Until(() => Maildir(_box).Count(m => m.Contains(tag)) == 3, 60).Should().BeTrue(_mta.Log);
        var mail = Maildir(_box).Where(m => m.Contains(tag)).ToList();
        var delivered = mail.Single(m => !m.Contains("Subject: failure notice"));
        delivered.Should().StartWith($"Return-Path: <{At(_box.Name)}>\nDelivered-To: {At(Jose)}\n")
            .And.Contain($"\nFrom: Jörg Müller <{At(Jose)}>\n", "RFC 6532: the UTF-8 display name and local part unquoted")
            .And.Contain($"\nTo: José <{At(Jose)}>, Far <far@{SupervisedMta.RemoteDomain}>\n").And.EndWith("\nbody ✓\n");
        var bounces = mail.Where(m => m.Contains("Subject: failure notice")).ToList();
        bounces.Should().HaveCount(2, "the injected message and the forward of the other are both returned");
        foreach (var bounce in bounces)
            bounce.Should().Contain($"<far@{SupervisedMta.RemoteDomain}>:\nConnected to 127.0.0.1 but it does not support SMTPUTF8, which this message needs. (#5.6.7)");
        bounces.Should().ContainSingle(b => b.Contains($"Subject: {tag}-fwd Grüße") && b.Contains("Delivered-To: " + At(_lists.Name + "-fwd")));
        _sink.Messages().Should().BeEmpty("nothing that needs SMTPUTF8 went to the peer without it");
    }

    private void Inject(string tag, string recipients)
    {
        var env = new Dictionary<string, string?> { ["JSMAIL_COMPAT"] = null, ["QMAILINJECT"] = null, ["QMAILQUEUE"] = null };
        var message = Encoding.UTF8.GetBytes($"From: Jörg Müller <{At(Jose)}>\n{recipients}Subject: {tag} Grüße\n\nbody ✓\n");
        var r = Run.Process(_mta.Home.Bin("qmail-inject"), ["-f", At(_box.Name)], message, env, timeoutMs: 60_000);
        r.ExitCode.Should().Be(0, r.Err);
    }

    public void Dispose()
    {
        _mta.Dispose();
        _sink.Dispose();
        _users.Dispose();
    }
}
