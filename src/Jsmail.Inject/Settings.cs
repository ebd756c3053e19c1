using Jsmail.Common.Control;
using Jsmail.Common.Os;

namespace Jsmail.Inject;

/// <summary>Gathering <see cref="InjectSettings"/> from the environment and the control files.</summary>
public static class Settings
{
    /// <summary>The environment variables qmail-inject reads (interfaces §9.2), raw bytes, null when unset.</summary>
    public sealed record Environment(
        byte[]? QmailInject, byte[]? MailHost, byte[]? SenderHost, byte[] MailUser, byte[]? SenderUser, byte[]? FullName,
        bool Compat = false)
    {
        public static Environment Read() => From(Libc.Getenv);

        public static Environment From(Func<string, byte[]?> getenv) => new(
            QmailInject: getenv("QMAILINJECT"),
            MailHost: getenv("QMAILHOST") ?? getenv("MAILHOST"),
            SenderHost: getenv("QMAILSHOST"),
            MailUser: getenv("QMAILUSER") ?? getenv("MAILUSER") ?? getenv("USER") ?? getenv("LOGNAME") ?? "anonymous"u8.ToArray(),
            SenderUser: getenv("QMAILSUSER"),
            FullName: getenv("QMAILNAME") ?? getenv("MAILNAME") ?? getenv("NAME"),
            Compat: getenv("JSMAIL_COMPAT") is { } compat && compat.AsSpan().SequenceEqual("qmail"u8));

        public InjectSettings ToSettings(Controls controls, List<byte[]>? mailFollowupTo, long startTime, int pid)
        {
            var letters = QmailInject ?? [];
            return new InjectSettings
            {
                NameComment = letters.Contains((byte)'c'),
                DeleteSender = letters.Contains((byte)'s'),
                DeleteFrom = letters.Contains((byte)'f'),
                DeleteMessageId = letters.Contains((byte)'i'),
                VerpRecipient = letters.Contains((byte)'r'),
                VerpMessage = letters.Contains((byte)'m'),
                MailUser = MailUser,
                MailHost = MailHost,
                SenderUser = SenderUser ?? MailUser,
                SenderHost = SenderHost ?? MailHost,
                FullName = FullName,
                Utf8 = !Compat,
                IdHost = controls.IdHost,
                Rewriter = controls.Rewriter,
                MailFollowupTo = mailFollowupTo,
                StartTime = startTime,
                Pid = pid,
            };
        }
    }

    /// <summary>defaultdomain, defaulthost, plusdomain and idhost, each overridden by its QMAIL variable.</summary>
    public sealed record Controls(AddressRewriter Rewriter, byte[] IdHost)
    {
        /// <summary>Read and tokenized one at a time in qmail-inject's order, so the first problem is the one reported.</summary>
        public static Controls Read(ControlReader reader) => Read(name => Line(reader, name), Libc.Getenv);

        public static Controls Read(Func<string, byte[]> control, Func<string, byte[]?> getenv)
        {
            var domain = InjectSettings.ControlTokens((byte)'.', Value("defaultdomain", "QMAILDEFAULTDOMAIN"));
            var host = InjectSettings.ControlTokens((byte)'@', Value("defaulthost", "QMAILDEFAULTHOST"));
            var plus = InjectSettings.ControlTokens((byte)'.', Value("plusdomain", "QMAILPLUSDOMAIN"));
            var idhost = Value("idhost", "QMAILIDHOST");
            return new Controls(new AddressRewriter(host, domain, plus), idhost);

            // The file is read even when the variable overrides it, so an unreadable one is still fatal.
            byte[] Value(string name, string variable)
            {
                var file = control(name);
                return getenv(variable) ?? file;
            }
        }

        private static byte[] Line(ControlReader reader, string name)
        {
            try { return reader.ReadLine(name, fallbackToMe: true, System.Text.Encoding.ASCII.GetBytes(name)); }
            catch (ControlReadException) { throw InjectFatal.ReadError(); }
        }
    }

    /// <summary>
    /// The QMAILMFTFILE list (control-list syntax, path relative to the caller's
    /// directory); null when the variable is unset or the file does not exist.
    /// </summary>
    public static List<byte[]>? ReadMailFollowupTo(byte[]? path)
    {
        if (path == null) return null;
        var name = System.Text.Encoding.UTF8.GetString(path);
        using var file = OwnedFd.Open(name, Libc.O_RDONLY | Libc.O_NONBLOCK | Libc.O_CLOEXEC, 0);
        if (!file.IsOpen)
        {
            if (Libc.Errno == Errno.ENOENT) return null;
            throw InjectFatal.ReadError();
        }
        return ControlParse.List(FdRead.AllOrNull(file.Fd) ?? throw InjectFatal.ReadError());
    }
}
