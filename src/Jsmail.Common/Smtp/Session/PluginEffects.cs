using Jsmail.Common.Os;

namespace Jsmail.Common.Smtp.Session;

/// <summary>Run one qmail-spp plugin (its deadline in the request); resume with <see cref="SmtpSession.SppPluginDone"/>.</summary>
public sealed record SppPluginEffect(ChildRequest Request) : SessionEffect;
