using System.Net;
using System.Net.Sockets;
using System.Text;
using Jsmail.Common.Metrics;
using Prometheus;

namespace Jsmail.Common.Tests.Metrics;

/// <summary>The metrics endpoint's HTTP: the request heads it tells apart, its responses, and a real exchange over loopback.</summary>
public sealed class MetricsRequestTests
{
    [Theory]
    [InlineData("GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", MetricsRequest.Kind.Metrics)]
    [InlineData("GET /metrics?name[]=x HTTP/1.0\r\n\r\n", MetricsRequest.Kind.Metrics)]
    [InlineData("HEAD /metrics HTTP/1.1\r\n\r\n", MetricsRequest.Kind.MetricsHead)]
    [InlineData("GET / HTTP/1.1\r\n\r\n", MetricsRequest.Kind.NotFound)]
    [InlineData("GET /metricsx HTTP/1.1\r\n\r\n", MetricsRequest.Kind.NotFound)]
    [InlineData("POST /metrics HTTP/1.1\r\n\r\n", MetricsRequest.Kind.MethodNotAllowed)]
    [InlineData("GET /metrics\r\n\r\n", MetricsRequest.Kind.BadRequest)]
    [InlineData("GET /metrics SMTP/1.1\r\n\r\n", MetricsRequest.Kind.BadRequest)]
    [InlineData("", MetricsRequest.Kind.BadRequest)]
    public void Request_heads_are_told_apart(string head, MetricsRequest.Kind kind) =>
        MetricsRequest.Parse(Encoding.ASCII.GetBytes(head)).Should().Be(kind);

    [Fact]
    public void A_head_past_the_limit_is_too_large() =>
        MetricsRequest.Parse(Encoding.ASCII.GetBytes("GET /metrics HTTP/1.1\r\nX: " + new string('a', MetricsResponder.MaxRequestBytes)))
            .Should().Be(MetricsRequest.Kind.TooLarge);

    [Fact]
    public void The_response_says_the_text_format_version_its_length_and_close()
    {
        var text = Encoding.ASCII.GetString(MetricsRequest.Response(MetricsRequest.Kind.Metrics, "a 1\n"u8.ToArray()));
        text.Should().Be("HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: 4\r\n" +
            "Connection: close\r\n\r\na 1\n");
        Encoding.ASCII.GetString(MetricsRequest.Response(MetricsRequest.Kind.MetricsHead, "a 1\n"u8.ToArray()))
            .Should().EndWith("Content-Length: 4\r\nConnection: close\r\n\r\n");
        Encoding.ASCII.GetString(MetricsRequest.Response(MetricsRequest.Kind.MethodNotAllowed, null)).Should().Contain("\r\nAllow: GET, HEAD\r\n");
    }

    [Theory]
    [InlineData("9101", "127.0.0.1:9101")]
    [InlineData("0.0.0.0:9101", "0.0.0.0:9101")]
    [InlineData("[::1]:9101", "[::1]:9101")]
    [InlineData(" 127.0.0.2:80 ", "127.0.0.2:80")]
    public void Addresses_parse_with_loopback_for_a_bare_port(string text, string endpoint)
    {
        MetricsAddress.TryParse(text, out var e, out var error).Should().BeTrue(error);
        e!.ToString().Should().Be(endpoint);
    }

    [Theory]
    [InlineData("localhost:9101")]
    [InlineData("127.0.0.1:0")]
    [InlineData("127.0.0.1:65536")]
    [InlineData("::1:9101")]
    [InlineData("[::1]9101")]
    [InlineData("")]
    public void Bad_addresses_are_refused(string text) => MetricsAddress.TryParse(text, out _, out _).Should().BeFalse();

    [Fact]
    public async Task A_scrape_over_loopback_gets_the_registry_and_other_paths_get_404()
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        var counter = Prometheus.Metrics.WithCustomRegistry(registry).CreateCounter("jsmail_test_scraped_total", "Scraped.");
        counter.Inc(5);
        using var responder = MetricsResponder.Start(new IPEndPoint(IPAddress.Loopback, 0), registry);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var url = $"http://{responder.Endpoint}";
        var scrape = await http.GetAsync(url + "/metrics");
        scrape.StatusCode.Should().Be(HttpStatusCode.OK);
        scrape.Content.Headers.ContentType!.ToString().Should().Be("text/plain; version=0.0.4; charset=utf-8");
        (await scrape.Content.ReadAsStringAsync()).Should().Contain("jsmail_test_scraped_total 5\n");
        counter.Inc();
        (await http.GetStringAsync(url + "/metrics")).Should().Contain("jsmail_test_scraped_total 6\n");
        (await http.GetAsync(url + "/")).StatusCode.Should().Be(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_client_that_never_finishes_its_request_does_not_stop_others()
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        using var responder = MetricsResponder.Start(new IPEndPoint(IPAddress.Loopback, 0), registry);
        var silent = new List<Socket>();
        try
        {
            for (var i = 0; i < MetricsResponder.MaxClients - 1; i++)
            {
                var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await s.ConnectAsync(responder.Endpoint);
                await s.SendAsync("GET /metr"u8.ToArray(), SocketFlags.None);
                silent.Add(s);
            }
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
            (await http.GetAsync($"http://{responder.Endpoint}/metrics")).StatusCode.Should().Be(HttpStatusCode.OK);
        }
        finally { foreach (var s in silent) s.Dispose(); }
    }
}

/// <summary>control/metrics and its kin: absent or empty is off, and JSMAIL_COMPAT=qmail never reads it.</summary>
public sealed class MetricsControlTests : IDisposable
{
    private readonly Jsmail.TestSupport.TempDir _home = new("jsmail-metrics-home");

    public MetricsControlTests() => Directory.CreateDirectory(_home["control"]);
    public void Dispose() => _home.Dispose();

    private IPEndPoint? Read(string? content, bool compat = false)
    {
        if (content != null) File.WriteAllText(_home["control/metrics"], content);
        return MetricsAddress.FromControl(new Jsmail.Common.Control.ControlReader(_home.Path), "metrics", compat);
    }

    [Fact]
    public void Absent_or_empty_is_off() { Read(null).Should().BeNull(); Read("").Should().BeNull(); }

    [Fact]
    public void An_address_is_read_and_a_bare_port_is_loopback() => Read("9701\n")!.ToString().Should().Be("127.0.0.1:9701");

    [Fact]
    public void Compat_mode_never_serves_metrics() => Read("127.0.0.1:9701\n", compat: true).Should().BeNull();

    [Fact]
    public void A_line_that_is_no_address_is_an_error() =>
        FluentActions.Invoking(() => Read("localhost:9701\n")).Should().Throw<MetricsAddressException>().WithMessage("control/metrics: *");
}
