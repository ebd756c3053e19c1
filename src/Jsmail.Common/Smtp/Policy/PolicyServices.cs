using Jsmail.Common.Control;
using Jsmail.Common.Os;

namespace Jsmail.Common.Smtp.Policy;

/// <summary>control/policy: the policy services, asked in the file's order.</summary>
public static class PolicyServices
{
    public const string File = "policy";

    /// <summary>
    /// One client per line (a missing file: none). A line that is not understood
    /// makes the controls unreadable ("unable to read control/policy: Invalid
    /// argument"), as qmail treats a control it cannot use: refusing mail with
    /// 421 is safer than skipping a filter the site relies on.
    /// </summary>
    public static IReadOnlyList<PolicyClient> Read(ControlReader controls, string home)
    {
        var lines = controls.ReadList(File);
        if (lines.Count == 0) return [];
        var clients = new List<PolicyClient>(lines.Count);
        foreach (var line in lines)
        {
            if (PolicyService.Parse(line, home, out _) is not { } service)
                throw new ControlReadException(File, Errno.EINVAL);
            clients.Add(new PolicyClient(service));
        }
        return clients;
    }
}
