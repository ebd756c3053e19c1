using System.Text;
using Jsmail.Common.Queue;

namespace Jsmail.Queue.Tests;

/// <summary>jsmail-queued's wire codec, without a socket: frames in, requests and replies out.</summary>
public class QueueServiceProtocolTests
{
    private static readonly byte[] Envelope = Encoding.ASCII.GetBytes("Fa@x\0Tb@y\0\0X1\0MSIZE=30\0\0");

    [Fact]
    public void A_request_is_a_length_the_version_and_the_envelope_as_is()
    {
        var frame = QueueServiceProtocol.EncodeRequest(Envelope);
        frame[..4].Should().Equal(0, 0, 0, (byte)(Envelope.Length + 1));
        frame[4].Should().Be(QueueServiceProtocol.Version);
        frame[5..].Should().Equal(Envelope);

        var frames = new QueueServiceFrames(QueueServiceProtocol.MaxRequestBody);
        frame.CopyTo(frames.Space(frame.Length));
        frames.Advance(frame.Length);
        frames.TryTake(out var body).Should().BeTrue();
        QueueServiceProtocol.TryDecodeRequest(body, out var envelope).Should().BeTrue();
        envelope.ToArray().Should().Equal(Envelope);
    }

    [Fact]
    public void A_request_of_another_version_is_not_decoded()
    {
        QueueServiceProtocol.TryDecodeRequest(new byte[] { 2, (byte)'F', 0, 0 }, out _).Should().BeFalse();
        QueueServiceProtocol.TryDecodeRequest(Array.Empty<byte>(), out _).Should().BeFalse();
    }

    [Fact]
    public void A_reply_carries_exit_code_pid_id_and_custom_text_and_maps_as_jsmail_queues_exit_does()
    {
        var text = Encoding.ASCII.GetBytes("Dvirus found (#5.7.1)");
        var frame = QueueServiceProtocol.EncodeReply(new QueueServiceReply(82, 4242, 123456789012, text));
        QueueServiceProtocol.TryDecodeReply(frame.AsSpan(4), out var reply).Should().BeTrue();
        reply.ExitCode.Should().Be(82);
        reply.QueuePid.Should().Be(4242);
        reply.MessageId.Should().Be(123456789012);
        reply.ToResult().Text.Should().Equal(QueueResult.FromExit(82, false, text).Text);
        reply.ToResult().ToString().Should().Be("Dvirus found (#5.7.1)");

        QueueServiceProtocol.TryDecodeReply(QueueServiceProtocol.EncodeReply(new QueueServiceReply(0, 1, 2, [])).AsSpan(4), out var ok)
            .Should().BeTrue();
        ok.ToResult().Success.Should().BeTrue();
        QueueServiceProtocol.TryDecodeReply(new byte[5], out _).Should().BeFalse("shorter than the fixed part");
    }

    [Fact]
    public void Frames_arriving_a_byte_at_a_time_come_out_whole_and_in_order()
    {
        var stream = QueueServiceProtocol.EncodeRequest(Envelope).Concat(QueueServiceProtocol.EncodeRequest([(byte)'F', 0, 0])).ToArray();
        var frames = new QueueServiceFrames(QueueServiceProtocol.MaxRequestBody);
        var bodies = new List<byte[]>();
        foreach (var b in stream)
        {
            frames.Space(1).Span[0] = b;
            frames.Advance(1);
            while (frames.TryTake(out var body)) bodies.Add(body);
        }
        bodies.Should().HaveCount(2);
        bodies[0][1..].Should().Equal(Envelope);
        bodies[1].Should().Equal(1, (byte)'F', 0, 0);
    }

    [Fact]
    public void A_length_over_the_limit_breaks_the_stream_without_buffering_it()
    {
        var frames = new QueueServiceFrames(100);
        new byte[] { 0, 0, 0, 101 }.CopyTo(frames.Space(4));
        frames.Advance(4);
        frames.TryTake(out _).Should().BeFalse();
        frames.Broken.Should().BeTrue();

        var negative = new QueueServiceFrames(100);
        new byte[] { 0xFF, 0xFF, 0xFF, 0xFF }.CopyTo(negative.Space(4));
        negative.Advance(4);
        negative.TryTake(out _).Should().BeFalse();
        negative.Broken.Should().BeTrue();
    }
}
