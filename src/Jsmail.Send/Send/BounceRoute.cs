namespace Jsmail.Send.Send;

public enum BounceKind { Single, Double, Discard }

/// <summary>
/// Where a message's bounce goes (interfaces §2.10): to its sender from
/// <c>&lt;&gt;</c>; a bounce of a bounce (empty sender) to doublebounceto from
/// <c>#@[]</c>; a bounce of a double bounce (sender <c>#@[]</c>) nowhere. Pure.
/// </summary>
public readonly record struct BounceRoute(BounceKind Kind, byte[] Sender, byte[] Recipient)
{
    /// <param name="sender">the message's sender, VERP marker stripped</param>
    public static BounceRoute For(byte[] sender, byte[] doubleBounceTo)
    {
        if (sender.AsSpan().SequenceEqual("#@[]"u8)) return new(BounceKind.Discard, [], []);
        return sender.Length > 0
            ? new(BounceKind.Single, [], sender)
            : new(BounceKind.Double, "#@[]"u8.ToArray(), doubleBounceTo);
    }
}
