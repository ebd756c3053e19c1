namespace Jsmail.Common.Smtp.Session;

/// <summary>
/// While milters, or policy services asked at END-OF-MESSAGE, are configured,
/// a message is held here whole until they have had their say: only the
/// version they leave (edited, held for the quarantine, or not at all) is
/// written into the real sink, so nothing reaches the queue half-edited and
/// fields can still go on top of it.
/// </summary>
internal sealed class HeldMessageSink(IMessageSink inner) : IMessageSink
{
    private readonly MemoryStream _held = new();

    public IMessageSink Inner => inner;
    public int Pid => inner.Pid;
    public void Write(ReadOnlySpan<byte> data) => _held.Write(data);
    public void Abort() => inner.Abort();
    public ReadOnlySpan<byte> Held => _held.GetBuffer().AsSpan(0, (int)_held.Length);
}
