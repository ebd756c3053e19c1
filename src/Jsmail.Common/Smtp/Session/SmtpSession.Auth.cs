using System.Text;
using Jsmail.Common.Os;

namespace Jsmail.Common.Smtp.Session;

/// <summary>STARTTLS (RFC 3207), AUTH PLAIN and LOGIN (RFC 4954) and submission's rule (RFC 6409).</summary>
public sealed partial class SmtpSession
{
    /// <summary>Failed AUTH attempts after which the next AUTH closes the connection.</summary>
    public const int MaxAuthFailures = 3;

    private enum AuthStep { PlainMessage, LoginUser, LoginPassword }

    private bool _inTls;
    private string? _tlsDescription;
    private byte[]? _authUser;
    private AuthStep? _authStep;
    private byte[] _loginUser = [];
    private int _authFailures;
    private string _authMethod = "plain"; // for a [auth] plugin's SMTPAUTHMETHOD

    // While checkpassword runs: who asked, and its fd 3 bytes (the password among them) to clear after the run.
    private byte[]? _pendingUser, _authInput;

    /// <summary>Failed AUTH attempts: they survive STARTTLS, and the handover to jsmail-smtpd-tls.</summary>
    public int AuthFailures
    {
        get => _authFailures;
        set => _authFailures = Math.Max(0, value);
    }

    public bool Authenticated => _authUser != null;

    private bool StartTlsOffered => settings.TlsCertificate != null && tls != null && !_inTls;
    private bool AuthConfigured => settings.Has(Standards.Auth) && auth != null;
    private bool AuthOffered => AuthConfigured && (_inTls || !settings.AuthRequiresTls);

    private SessionStep StartTls(ReadOnlySpan<byte> arg)
    {
        if (settings.TlsCertificate == null || tls == null) return Reply(SmtpReplyId.Unimplemented);
        if (_inTls) return Reply(503, "TLS already started (#5.5.1)");
        if (!arg.IsEmpty) return Reply(501, "syntax: STARTTLS takes no parameters (#5.5.4)");
        if (!tls.Prepare(out var problem))
        {
            _log($"{SmtpdSettings.CertificateFile} unusable ({problem}): STARTTLS refused");
            return Reply(454, "TLS not available due to temporary reason (#4.7.0)");
        }
        Reply(220, "ready to start TLS", "2.0.0");
        return SessionStep.StartTls;
    }

    /// <summary>
    /// The handshake succeeded: RFC 3207 §4.2, everything the client said
    /// before it is forgotten, so it must say EHLO again.
    /// </summary>
    public void TlsStarted(string description)
    {
        _inTls = true;
        _tlsDescription = description;
        _helo = null;
        _ehlo = false;
        _heloRefused = false;
        _authUser = null;
        _authStep = null;
        AbortTransaction();
    }

    private SessionStep Auth(ReadOnlySpan<byte> arg)
    {
        if (!AuthConfigured) return Reply(SmtpReplyId.Unimplemented);
        if (_authFailures >= MaxAuthFailures)
        {
            Reply(421, "too many failed authentications, closing (#4.7.0)");
            return CloseWith(1);
        }
        if (_authUser != null) return Reply(503, "already authenticated (#5.5.1)");
        if (_transaction.SeenMail || _transaction.Chunking) return Reply(503, "AUTH not permitted during a mail transaction (#5.5.1)");
        if (!_ehlo) return Reply(503, "EHLO first (#5.5.1)");
        if (!AuthOffered) return Reply(538, "encryption required for requested authentication mechanism (#5.7.11)");

        var sp = arg.IndexOf((byte)' ');
        var mechanism = sp < 0 ? arg : arg[..sp];
        var initial = sp < 0 ? default : arg[(sp + 1)..];
        _authMethod = Common.Control.AsciiCaseInsensitive.Equals(mechanism, "LOGIN"u8) ? "login" : "plain";
        if (mechanism.IsEmpty || initial.IndexOf((byte)' ') >= 0 || (sp >= 0 && initial.IsEmpty))
            return Reply(501, "syntax: AUTH mechanism [initial-response] (#5.5.4)");
        if (Common.Control.AsciiCaseInsensitive.Equals(mechanism, "PLAIN"u8))
        {
            if (sp < 0) return Challenge(AuthStep.PlainMessage, ""u8);
            return Respond(AuthStep.PlainMessage, initial, isInitial: true);
        }
        if (Common.Control.AsciiCaseInsensitive.Equals(mechanism, "LOGIN"u8))
        {
            if (sp < 0) return Challenge(AuthStep.LoginUser, "Username:"u8);
            return Respond(AuthStep.LoginUser, initial, isInitial: true);
        }
        return Reply(504, "unrecognized authentication type (#5.5.4)");
    }

    /// <summary>A line sent while an AUTH exchange waits for the client: a response, never a command.</summary>
    private SessionStep AuthResponse(ReadOnlySpan<byte> line)
    {
        if (line.Length > 0 && line[^1] == (byte)'\r') line = line[..^1];
        var step = _authStep!.Value;
        _authStep = null;
        return Respond(step, line, isInitial: false);
    }

    private SessionStep Respond(AuthStep step, ReadOnlySpan<byte> response, bool isInitial)
    {
        switch (SmtpAuthCodec.DecodeResponse(response, isInitial, out var decoded))
        {
            case SmtpAuthFault.Cancelled: return Reply(501, "authentication cancelled (#5.0.0)");
            case SmtpAuthFault.BadBase64: return Reply(501, "cannot decode response (#5.5.2)");
        }
        switch (step)
        {
            case AuthStep.LoginUser:
                _loginUser = decoded;
                return Challenge(AuthStep.LoginPassword, "Password:"u8);
            case AuthStep.LoginPassword:
                var user = _loginUser;
                _loginUser = [];
                return Verify(user, decoded);
            default:
                if (SmtpAuthCodec.SplitPlain(decoded, out var u, out var p) != SmtpAuthFault.None)
                {
                    Array.Clear(decoded);
                    return Failed(null);
                }
                Array.Clear(decoded);
                return Verify(u, p);
        }
    }

    /// <summary>checkpassword decides, as an effect: the password lives on only in the request's fd 3 bytes.</summary>
    private SessionStep Verify(byte[] user, byte[] password)
    {
        try
        {
            var timestamp = auth!.Timestamp(clock());
            if (!SmtpAuthCodec.Acceptable(user, password, timestamp)) return Failed(user);
            _pendingUser = user;
            PendingEffect = new AuthenticateEffect(auth.Request(user, password, timestamp, out _authInput));
            return SessionStep.Effect;
        }
        finally { Array.Clear(password); }
    }

    /// <summary>The checkpassword program of an <see cref="AuthenticateEffect"/> ran.</summary>
    public SessionStep AuthenticateDone(ChildResult result)
    {
        if (PendingEffect is not AuthenticateEffect || _pendingUser is not { } user)
            throw new InvalidOperationException("no authentication pending");
        PendingEffect = null;
        _pendingUser = null;
        if (_authInput != null) Array.Clear(_authInput);
        _authInput = null;
        switch (Checkpassword.Verdict(result))
        {
            case AuthVerdict.Accepted:
                return SppAuth(user, _authMethod, (_, _) =>
                {
                    _authUser = user;
                    _log("authenticated as " + Printable(user));
                    return Reply(235, "authentication successful", "2.7.0");
                });
            case AuthVerdict.Rejected:
                return Failed(user);
            default:
                _log("checkpassword failed temporarily for " + Printable(user));
                return Reply(454, "temporary authentication failure (#4.7.0)");
        }
    }

    private SessionStep Failed(byte[]? user)
    {
        _authFailures++;
        _log("authentication failed" + (user == null ? "" : " for " + Printable(user)));
        return Reply(535, "authentication failed (#5.7.8)");
    }

    private SessionStep Challenge(AuthStep next, ReadOnlySpan<byte> prompt)
    {
        _authStep = next;
        _out.AddRange("334 "u8);
        _out.AddRange(SmtpAuthCodec.EncodeBase64(prompt));
        _out.AddRange("\r\n"u8);
        return SessionStep.Command;
    }

    /// <summary>An over-long line in an AUTH exchange ends the exchange (RFC 4954 §4: 500 5.5.6).</summary>
    private SessionStep AuthLineTooLong()
    {
        _authStep = null;
        _loginUser = [];
        return Reply(500, "authentication exchange line is too long (#5.5.6)");
    }

    /// <summary>The protocol for the Received line's "with" (RFC 3848), the TLS parameters as a comment.</summary>
    private string ReceivedProtocol()
    {
        if (settings.Compat || (_protocol ?? BaseProtocol) == "SMTP") return "SMTP";
        var p = "ESMTP" + (_inTls ? "S" : "") + (_authUser != null ? "A" : "");
        return _inTls && _tlsDescription != null ? p + " (" + _tlsDescription + ")" : p;
    }

    private static string Printable(byte[] user)
    {
        var sb = new StringBuilder(Math.Min(user.Length, 64));
        foreach (var b in user.AsSpan(0, Math.Min(user.Length, 64))) sb.Append(SmtpReceived.IsSafe(b) ? (char)b : '?');
        return sb.ToString();
    }
}
