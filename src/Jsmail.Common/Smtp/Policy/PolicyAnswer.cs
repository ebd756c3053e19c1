using Jsmail.Common.Smtp.Hooks;

namespace Jsmail.Common.Smtp.Policy;

/// <summary>A service's verdict, or why there is none (then <see cref="Verdict"/> is null and the service's default applies).</summary>
public readonly record struct PolicyAnswer(HookVerdict? Verdict, string? Failure)
{
    public static PolicyAnswer Failed(string why) => new(null, why);
}
