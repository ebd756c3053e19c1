using Jsmail.Common.Smtp.Milter;

namespace Jsmail.Common.Smtp.Session;

/// <summary>
/// Ask the session's milters about a stage (<see cref="MilterChain.RunAsync"/>,
/// or <see cref="MilterChain.Run"/> in a blocking driver); resume with
/// <see cref="SmtpSession.MilterDone"/>. The chain keeps its sockets between
/// stages and closes them when the session ends.
/// </summary>
public sealed record MilterEffect(MilterChain Chain, MilterRequest Request) : SessionEffect;

/// <summary>
/// While milters are configured, a message is held here whole until they have
/// seen it: only the version they leave (edited, or not at all) is written
/// into the real sink, so nothing reaches the queue half-edited.
/// </summary>
internal sealed class MilterHeldSink(IMessageSink inner) : IMessageSink
{
    private readonly MemoryStream _held = new();

    public IMessageSink Inner => inner;
    public int Pid => inner.Pid;
    public void Write(ReadOnlySpan<byte> data) => _held.Write(data);
    public void Abort() => inner.Abort();
    public ReadOnlySpan<byte> Held => _held.GetBuffer().AsSpan(0, (int)_held.Length);
}
