using Jsmail.Common.Smtp.Policy;

namespace Jsmail.Common.Smtp.Session;

/// <summary>
/// Ask one policy service (control/policy) and wait for its answer, at most
/// the service's timeout; resume with <see cref="SmtpSession.PolicyDone"/>.
/// </summary>
public sealed record PolicyEffect(PolicyClient Client, byte[] Request) : SessionEffect;
