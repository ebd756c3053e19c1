using System.Text;
using Jsmail.Common.Smtp.Session;

namespace Jsmail.Smtpd.Tests;

/// <summary>A message sink for session-core scripts: remembers every byte and whether it was aborted.</summary>
internal sealed class RecordingSink(int pid = 4242) : IMessageSink
{
    public readonly List<byte> Bytes = new();
    public bool Aborted;
    public int Pid => pid;
    public void Write(ReadOnlySpan<byte> data) => Bytes.AddRange(data.ToArray());
    public void Abort() => Aborted = true;

    /// <summary>The message without the Received line smtpd puts on top (two lines).</summary>
    public string Body
    {
        get
        {
            var s = Encoding.Latin1.GetString(Bytes.ToArray());
            return s[(s.IndexOf('\n', s.IndexOf('\n') + 1) + 1)..];
        }
    }
}
