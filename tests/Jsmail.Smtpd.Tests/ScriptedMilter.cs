using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Jsmail.Common.Smtp.Milter;
using P = Jsmail.Common.Smtp.Milter.MilterProtocol;

namespace Jsmail.Smtpd.Tests;

/// <summary>
/// A milter written for the tests, on a loopback port: it negotiates, records
/// every packet jsmail sends (by connection), and answers each command as
/// <see cref="Answer"/> says: by default continue, and at end of message the
/// <see cref="AtEnd"/> packets (edits, then a decision). It can also hang,
/// close mid-message, or answer garbage at a chosen command.
/// </summary>
public sealed class ScriptedMilter : IDisposable
{
    public enum Misbehaviour { None, Hang, Crash, Garbage }

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<List<MilterPacket>> _connections = new();
    private readonly Task _accepting;

    /// <summary>The steps and actions the milter asks for in its negotiation reply.</summary>
    public P.Steps Steps { get; init; }
    public P.Actions Actions { get; init; } = P.Actions.All & ~P.Actions.SetSymList;
    /// <summary>The replies to a command (by its code); null or missing: continue (nothing to no-reply commands).</summary>
    public Dictionary<byte, MilterPacket[]> Answer { get; } = new();
    /// <summary>What the milter sends after SMFIC_BODYEOB, its decision last.</summary>
    public List<MilterPacket> AtEnd { get; } = [new(P.Continue, [])];
    public Misbehaviour Fault { get; init; }
    /// <summary>The command the fault happens at.</summary>
    public byte FaultAt { get; init; } = P.EndOfBody;

    public string Socket => $"inet:127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    public ScriptedMilter()
    {
        _listener.Start();
        _accepting = Task.Run(AcceptAsync);
    }

    /// <summary>The packets of each connection, in order.</summary>
    public List<List<MilterPacket>> Seen
    {
        get { lock (_connections) return _connections.Select(c => c.ToList()).ToList(); }
    }

    /// <summary>The commands jsmail sent on all connections, as letters, macros left out.</summary>
    public string Commands => string.Join("|", Seen.Select(c => new string(c.Where(p => p.Code != P.Macro).Select(p => (char)p.Code).ToArray())));

    public static MilterPacket Packet(byte code, params string[] strings)
    {
        var b = new MilterPacketBuilder(code);
        foreach (var s in strings) b.String(s);
        return b.Build();
    }

    /// <summary>A packet whose data is not strings (a replaced body's chunk).</summary>
    public static MilterPacket Raw(byte code, string data) => new(code, Encoding.Latin1.GetBytes(data));

    public static MilterPacket Indexed(byte code, uint index, string name, string value) =>
        new MilterPacketBuilder(code).UInt32(index).String(name).String(value).Build();

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket s;
            try { s = await _listener.AcceptSocketAsync(_stop.Token); }
            catch (Exception) { return; }
            var seen = new List<MilterPacket>();
            lock (_connections) _connections.Add(seen);
            _ = Task.Run(() => ServeAsync(s, seen));
        }
    }

    private async Task ServeAsync(Socket s, List<MilterPacket> seen)
    {
        using var _ = s;
        try
        {
            while (true)
            {
                var packet = await ReadAsync(s);
                if (packet == null) return;
                lock (_connections) seen.Add(packet.Value);
                var code = packet.Value.Code;
                if (Fault != Misbehaviour.None && code == FaultAt)
                {
                    switch (Fault)
                    {
                        case Misbehaviour.Hang: await Task.Delay(Timeout.Infinite, _stop.Token); return;
                        case Misbehaviour.Crash:
                            // At end of message: the edits, then gone before the decision.
                            if (code == P.EndOfBody) foreach (var edit in AtEnd.SkipLast(1)) await s.SendAsync(edit.Encode());
                            return;
                        case Misbehaviour.Garbage: await s.SendAsync("\0\0\0\u0003zz!"u8.ToArray()); continue;
                    }
                }
                foreach (var reply in Replies(code)) await s.SendAsync(reply.Encode());
                if (code == P.Quit) return;
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException) { }
    }

    private IEnumerable<MilterPacket> Replies(byte code)
    {
        if (code == P.OptNeg)
            return [new MilterPacketBuilder(P.OptNeg).UInt32(6).UInt32((uint)Actions).UInt32((uint)Steps).Build()];
        if (Answer.TryGetValue(code, out var own)) return own;
        var noReply = code switch
        {
            P.Macro or P.Abort or P.Quit => true,
            P.Connect => Steps.HasFlag(P.Steps.NoReplyConnect),
            P.Helo => Steps.HasFlag(P.Steps.NoReplyHelo),
            P.Mail => Steps.HasFlag(P.Steps.NoReplyMail),
            P.Rcpt => Steps.HasFlag(P.Steps.NoReplyRcpt),
            P.Data => Steps.HasFlag(P.Steps.NoReplyData),
            P.Header => Steps.HasFlag(P.Steps.NoReplyHeader),
            P.EndOfHeaders => Steps.HasFlag(P.Steps.NoReplyEoh),
            P.Body => Steps.HasFlag(P.Steps.NoReplyBody),
            _ => false,
        };
        if (noReply) return [];
        return code == P.EndOfBody ? AtEnd : [new MilterPacket(P.Continue, [])];
    }

    private static async Task<MilterPacket?> ReadAsync(Socket s)
    {
        var header = new byte[4];
        if (!await FillAsync(s, header)) return null;
        var body = new byte[BinaryPrimitives.ReadUInt32BigEndian(header)];
        if (!await FillAsync(s, body)) return null;
        return new MilterPacket(body[0], body[1..]);
    }

    private static async Task<bool> FillAsync(Socket s, byte[] buffer)
    {
        var got = 0;
        while (got < buffer.Length)
        {
            var n = await s.ReceiveAsync(buffer.AsMemory(got), SocketFlags.None);
            if (n == 0) return false;
            got += n;
        }
        return true;
    }

    public static string Text(byte[] b) => Encoding.Latin1.GetString(b);

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        try { _accepting.Wait(5000); } catch (AggregateException) { }
    }
}
