using System.Text;

namespace Jsmail.Common.Smtp.Policy;

/// <summary>The SMTP stages at which a policy service is asked (Postfix's protocol_state).</summary>
[Flags]
public enum PolicyStages
{
    None = 0,
    Helo = 1, Mail = 2, Rcpt = 4, Data = 8, EndOfMessage = 16,
    /// <summary>When the client connects, before the greeting (Postfix's smtpd_client_restrictions with smtpd_delay_reject=no).</summary>
    Connect = 32,
}

/// <summary>What the session does when a service cannot be asked (unreachable, hung, or answering garbage).</summary>
public enum PolicyFallback
{
    /// <summary>Postfix's smtpd_policy_service_default_action: 451 4.3.5 Server configuration problem.</summary>
    Tempfail,
    /// <summary>As if the service had answered DUNNO.</summary>
    Dunno,
}

/// <summary>
/// One line of control/policy: where the service listens, in Postfix's syntax
/// (<c>inet:host:port</c> or <c>unix:/path</c>), and the settings that go with
/// it, as words <c>name=value</c> after it (docs/policy.md). Each setting's
/// default is Postfix's for its smtpd_policy_service_* parameter.
/// </summary>
public sealed record PolicyService(FilterEndpoint Endpoint)
{
    public PolicyStages Stages { get; init; } = PolicyStages.Rcpt;
    /// <summary>For connecting, sending the request and reading the answer together.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(100);
    public PolicyFallback Fallback { get; init; } = PolicyFallback.Tempfail;
    /// <summary>A kept connection unused this long is closed rather than reused.</summary>
    public TimeSpan MaxIdle { get; init; } = TimeSpan.FromSeconds(300);
    /// <summary>A kept connection this old is closed rather than reused.</summary>
    public TimeSpan MaxTtl { get; init; } = TimeSpan.FromSeconds(1000);
    /// <summary>Requests per connection before it is closed; 0: no limit.</summary>
    public int RequestLimit { get; init; }

    /// <summary>The line's own text, for log lines.</summary>
    public string Name => Endpoint.Text;

    /// <summary>Reads one line; null with <paramref name="problem"/> set when it is not understood.</summary>
    /// <param name="home">what a relative unix: path is relative to</param>
    public static PolicyService? Parse(ReadOnlySpan<byte> line, string home, out string? problem)
    {
        var words = Encoding.UTF8.GetString(line).Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        problem = null;
        if (words.Length == 0) { problem = "empty line"; return null; }
        if (FilterEndpoint.Parse(words[0], home) is not { } endpoint)
        {
            problem = $"{words[0]}: not inet:host:port or unix:/path";
            return null;
        }
        var service = new PolicyService(endpoint);
        foreach (var word in words.AsSpan(1))
        {
            var eq = word.IndexOf('=');
            var (name, value) = eq < 0 ? (word, "") : (word[..eq], word[(eq + 1)..]);
            service = name.ToLowerInvariant() switch
            {
                "stages" => ParseStages(value) is { } s ? service with { Stages = s } : null,
                "timeout" => Seconds(value) is { } t && t > TimeSpan.Zero ? service with { Timeout = t } : null,
                "default" => value.ToLowerInvariant() switch
                {
                    "tempfail" => service with { Fallback = PolicyFallback.Tempfail },
                    "dunno" or "accept" => service with { Fallback = PolicyFallback.Dunno },
                    _ => null,
                },
                "max_idle" => Seconds(value) is { } i ? service with { MaxIdle = i } : null,
                "max_ttl" => Seconds(value) is { } l ? service with { MaxTtl = l } : null,
                "request_limit" => int.TryParse(value, out var n) && n >= 0 ? service with { RequestLimit = n } : null,
                _ => null,
            };
            if (service == null)
            {
                problem = $"{words[0]}: {word}: not understood";
                return null;
            }
        }
        return service;
    }

    private static TimeSpan? Seconds(string value) =>
        uint.TryParse(value.EndsWith('s') ? value[..^1] : value, out var n) ? TimeSpan.FromSeconds(n) : null;

    private static PolicyStages? ParseStages(string value)
    {
        var stages = PolicyStages.None;
        foreach (var name in value.Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var stage = name.ToUpperInvariant() switch
            {
                "CONNECT" => PolicyStages.Connect,
                "HELO" or "EHLO" => PolicyStages.Helo,
                "MAIL" => PolicyStages.Mail,
                "RCPT" => PolicyStages.Rcpt,
                "DATA" => PolicyStages.Data,
                "END-OF-MESSAGE" or "EOM" => PolicyStages.EndOfMessage,
                _ => PolicyStages.None,
            };
            if (stage == PolicyStages.None) return null;
            stages |= stage;
        }
        return stages == PolicyStages.None ? null : stages;
    }
}
