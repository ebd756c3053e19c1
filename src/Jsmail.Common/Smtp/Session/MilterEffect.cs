using Jsmail.Common.Smtp.Milter;

namespace Jsmail.Common.Smtp.Session;

/// <summary>
/// Ask the session's milters about a stage (<see cref="MilterChain.RunAsync"/>,
/// or <see cref="MilterChain.Run"/> in a blocking driver); resume with
/// <see cref="SmtpSession.MilterDone"/>. The chain keeps its sockets between
/// stages and closes them when the session ends.
/// </summary>
public sealed record MilterEffect(MilterChain Chain, MilterRequest Request) : SessionEffect;
