using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using P = Jsmail.Common.Smtp.Milter.MilterProtocol;

namespace Jsmail.Common.Smtp.Milter;

/// <summary>
/// The socket to one filter for one SMTP session: connect and negotiate,
/// then send packets and read replies, each with its deadline. All waits are
/// awaited: server mode never blocks a thread on a filter. Every failure
/// (refused, timed out, closed, garbage) is an exception the chain turns into
/// the filter's default action.
/// </summary>
public sealed class MilterConnection(MilterSpec spec) : IDisposable
{
    private Socket? _socket;
    private readonly byte[] _header = new byte[4];

    public MilterSpec Spec => spec;
    public P.Actions Actions { get; private set; }
    public P.Steps Steps { get; private set; }
    /// <summary>The filter's own macro sets by SMFIM_* stage, from its negotiation reply.</summary>
    public Dictionary<int, string[]> SymbolLists { get; } = new();

    public bool IsOpen => _socket != null;

    /// <summary>Connects and negotiates: version 6, every action, every step flag jsmail honours.</summary>
    public async Task OpenAsync(CancellationToken cancel)
    {
        using var deadline = Deadline(spec.ConnectTimeout, cancel);
        var socket = await spec.Endpoint.ConnectAsync(deadline.Token);
        _socket = socket;
        var offer = new MilterPacketBuilder(P.OptNeg).UInt32(P.Version).UInt32((uint)P.Actions.All).UInt32((uint)P.Steps.Supported).Build();
        await SendAsync(offer, cancel);
        var reply = await ReadAsync(spec.CommandTimeout, cancel);
        Negotiated(reply);
    }

    /// <summary>The filter's answer to SMFIC_OPTNEG: its version, actions and steps, and maybe symbol lists.</summary>
    private void Negotiated(MilterPacket reply)
    {
        if (reply.Code != P.OptNeg || reply.Data.Length < 12) throw new MilterProtocolException("no negotiation reply");
        var d = reply.Data.AsSpan();
        var version = BinaryPrimitives.ReadUInt32BigEndian(d);
        if (version < 2) throw new MilterProtocolException($"protocol version {version}");
        Actions = (P.Actions)BinaryPrimitives.ReadUInt32BigEndian(d[4..]) & P.Actions.All;
        // Steps a filter of an older version does not know stay off; the ones jsmail does not offer are ignored.
        Steps = (P.Steps)BinaryPrimitives.ReadUInt32BigEndian(d[8..]) & P.Steps.Supported;
        var rest = d[12..];
        while (rest.Length >= 4)
        {
            var stage = (int)BinaryPrimitives.ReadUInt32BigEndian(rest);
            rest = rest[4..];
            var nul = rest.IndexOf((byte)0);
            var list = nul < 0 ? rest : rest[..nul];
            if ((Actions & P.Actions.SetSymList) != 0) SymbolLists[stage] = MilterMacros.ParseList(list);
            rest = nul < 0 ? default : rest[(nul + 1)..];
        }
    }

    public bool Has(P.Steps s) => (Steps & s) != 0;

    public async Task SendAsync(MilterPacket packet, CancellationToken cancel)
    {
        using var deadline = Deadline(spec.CommandTimeout, cancel);
        await _socket!.SendAsync(packet.Encode(), SocketFlags.None, deadline.Token);
    }

    /// <summary>The next reply that is not SMFIR_PROGRESS; progress restarts the deadline, as it is meant to.</summary>
    public async Task<MilterPacket> ReadAsync(TimeSpan timeout, CancellationToken cancel)
    {
        while (true)
        {
            using var deadline = Deadline(timeout, cancel);
            await FillAsync(_header, deadline.Token);
            var length = MilterPacket.FrameLength(_header) ?? throw new MilterProtocolException("a packet length no filter sends");
            var body = new byte[length];
            await FillAsync(body, deadline.Token);
            var packet = new MilterPacket(body[0], body[1..]);
            if (packet.Code != P.Progress) return packet;
        }
    }

    private async Task FillAsync(byte[] buffer, CancellationToken cancel)
    {
        var got = 0;
        while (got < buffer.Length)
        {
            var n = await _socket!.ReceiveAsync(buffer.AsMemory(got), SocketFlags.None, cancel);
            if (n == 0) throw new MilterProtocolException("the filter closed the connection");
            got += n;
        }
    }

    private static CancellationTokenSource Deadline(TimeSpan timeout, CancellationToken cancel)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        cts.CancelAfter(timeout);
        return cts;
    }

    /// <summary>SMFIC_QUIT on a socket that is going away: sent if it fits at once, never waited for.</summary>
    public void TrySendQuit()
    {
        if (_socket is not { } s) return;
        try
        {
            s.Blocking = false;
            s.Send(new MilterPacket(P.Quit, []).Encode());
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }

    public void Dispose()
    {
        _socket?.Dispose();
        _socket = null;
    }
}
