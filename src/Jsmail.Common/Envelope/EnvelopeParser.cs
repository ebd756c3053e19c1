using System.Buffers;

namespace Jsmail.Common.Envelope;

public enum EnvelopeStatus
{
    /// <summary>More bytes are needed.</summary>
    Reading,
    /// <summary>The final NUL has been read.</summary>
    Complete,
    /// <summary>An address reached 1003 bytes without its NUL (qmail-queue exit 11).</summary>
    AddressTooLong,
    /// <summary>First byte not F, or a record byte other than T or NUL (exit 91).</summary>
    BadFormat,
}

/// <summary>
/// qmail-queue's envelope (fd 1) as a push parser: <c>F&lt;sender&gt;\0 {T&lt;rcpt&gt;\0} \0</c>.
/// Bytes arrive in whatever chunks the pipe gives; each F and T record is copied
/// verbatim (type byte and NUL included) to the output, which is exactly what
/// qmail-queue writes into intd/. Addresses are not otherwise validated: qmail
/// accepts any bytes but NUL.
/// </summary>
public sealed class EnvelopeParser
{
    public const int MaxAddress = 1002;

    private enum State { ExpectSender, InAddress, ExpectRecord }

    private State _state = State.ExpectSender;
    private int _addressLength;

    public EnvelopeStatus Status { get; private set; } = EnvelopeStatus.Reading;
    public int RecipientCount { get; private set; }

    /// <summary>
    /// Consumes bytes from input until the envelope ends, fails or the input runs out.
    /// Returns how many bytes were consumed: after Complete, the rest of the input
    /// (an extension block, or trailing bytes qmail ignores) is left unread.
    /// </summary>
    public int Feed(ReadOnlySpan<byte> input, IBufferWriter<byte> output)
    {
        var i = 0;
        while (i < input.Length && Status == EnvelopeStatus.Reading)
        {
            switch (_state)
            {
                case State.ExpectSender:
                    if (input[i] != (byte)'F') { Status = EnvelopeStatus.BadFormat; return i; }
                    Put(output, input[i++]);
                    _state = State.InAddress;
                    _addressLength = 0;
                    break;

                case State.InAddress:
                {
                    var rest = input[i..];
                    var nul = rest.IndexOf((byte)0);
                    var take = nul < 0 ? rest.Length : nul;
                    if (_addressLength + take > MaxAddress)
                    {
                        Status = EnvelopeStatus.AddressTooLong;
                        return i + (MaxAddress + 1 - _addressLength);
                    }
                    output.Write(rest[..take]);
                    _addressLength += take;
                    i += take;
                    if (nul >= 0)
                    {
                        Put(output, 0);
                        i++;
                        _state = State.ExpectRecord;
                    }
                    break;
                }

                case State.ExpectRecord:
                    var b = input[i++];
                    if (b == 0) { Status = EnvelopeStatus.Complete; return i; }
                    if (b != (byte)'T') { Status = EnvelopeStatus.BadFormat; return i; }
                    Put(output, b);
                    RecipientCount++;
                    _state = State.InAddress;
                    _addressLength = 0;
                    break;
            }
        }
        return i;
    }

    private static void Put(IBufferWriter<byte> output, byte b)
    {
        output.GetSpan(1)[0] = b;
        output.Advance(1);
    }
}
