using System.Net;
using Jsmail.Common.Tcp;

namespace Jsmail.Common.Tests.Tcp;

public class ConnectionLimitsTests
{
    private static readonly IPAddress A = IPAddress.Parse("192.0.2.1");
    private static readonly IPAddress B = IPAddress.Parse("192.0.2.2");
    private static readonly IPAddress V6 = IPAddress.Parse("2001:db8::1");

    private static TimeSpan At(double seconds) => TimeSpan.FromSeconds(seconds);

    [Fact]
    public void The_global_limit_counts_every_client_and_frees_a_place_on_release()
    {
        var limits = new ConnectionLimits(maxConnections: 2, maxPerClient: 0, maxPerClientPerMinute: 0);

        limits.TryAdmit(A, At(0)).Should().Be(ConnectionLimit.None);
        limits.TryAdmit(B, At(0)).Should().Be(ConnectionLimit.None);
        limits.TryAdmit(V6, At(0)).Should().Be(ConnectionLimit.Global);
        limits.Open.Should().Be(2);

        limits.Release(A);
        limits.TryAdmit(V6, At(1)).Should().Be(ConnectionLimit.None);
        limits.Open.Should().Be(2);
    }

    [Fact]
    public void The_per_client_limit_leaves_other_clients_alone()
    {
        var limits = new ConnectionLimits(maxConnections: 10, maxPerClient: 2, maxPerClientPerMinute: 0);

        limits.TryAdmit(A, At(0)).Should().Be(ConnectionLimit.None);
        limits.TryAdmit(A, At(0)).Should().Be(ConnectionLimit.None);
        limits.TryAdmit(A, At(0)).Should().Be(ConnectionLimit.PerClient);
        limits.TryAdmit(B, At(0)).Should().Be(ConnectionLimit.None);
        limits.OpenFrom(A).Should().Be(2);

        limits.Release(A);
        limits.TryAdmit(A, At(0)).Should().Be(ConnectionLimit.None);
    }

    [Fact]
    public void An_IPv4_mapped_address_is_the_same_client_as_its_IPv4_address()
    {
        var limits = new ConnectionLimits(maxConnections: 0, maxPerClient: 1, maxPerClientPerMinute: 0);

        limits.TryAdmit(A, At(0)).Should().Be(ConnectionLimit.None);
        limits.TryAdmit(A.MapToIPv6(), At(0)).Should().Be(ConnectionLimit.PerClient);
        limits.Release(A.MapToIPv6());
        limits.OpenFrom(A).Should().Be(0);
    }

    [Fact]
    public void The_rate_is_a_sliding_minute_of_admissions()
    {
        var limits = new ConnectionLimits(maxConnections: 0, maxPerClient: 0, maxPerClientPerMinute: 3);

        limits.TryAdmit(A, At(0)).Should().Be(ConnectionLimit.None);
        limits.TryAdmit(A, At(20)).Should().Be(ConnectionLimit.None);
        limits.TryAdmit(A, At(40)).Should().Be(ConnectionLimit.None);
        limits.Release(A);
        limits.Release(A);
        limits.Release(A);
        // Released connections still count for the minute they were opened in.
        limits.TryAdmit(A, At(59.9)).Should().Be(ConnectionLimit.PerClientRate);
        limits.TryAdmit(B, At(59.9)).Should().Be(ConnectionLimit.None);
        // The admission at 0 leaves the window at 60; refused attempts never counted.
        limits.TryAdmit(A, At(60)).Should().Be(ConnectionLimit.None);
        limits.TryAdmit(A, At(70)).Should().Be(ConnectionLimit.PerClientRate);
        limits.TryAdmit(A, At(80)).Should().Be(ConnectionLimit.None);
    }

    [Fact]
    public void Limits_are_tried_global_first_then_per_client_then_rate()
    {
        var limits = new ConnectionLimits(maxConnections: 2, maxPerClient: 1, maxPerClientPerMinute: 1);
        limits.TryAdmit(A, At(0)).Should().Be(ConnectionLimit.None);

        limits.TryAdmit(A, At(1)).Should().Be(ConnectionLimit.PerClient);
        limits.Release(A);
        limits.TryAdmit(A, At(2)).Should().Be(ConnectionLimit.PerClientRate);
        limits.TryAdmit(B, At(3)).Should().Be(ConnectionLimit.None);
        limits.TryAdmit(V6, At(4)).Should().Be(ConnectionLimit.None);
        limits.TryAdmit(A, At(5)).Should().Be(ConnectionLimit.Global);
    }

    [Fact]
    public void Zero_is_no_limit()
    {
        var limits = new ConnectionLimits(0, 0, 0);

        for (var i = 0; i < 1000; i++)
            limits.TryAdmit(A, At(0)).Should().Be(ConnectionLimit.None);
        limits.Open.Should().Be(1000);
    }

    [Fact]
    public void Releasing_what_was_not_admitted_is_a_bug()
    {
        var limits = new ConnectionLimits(0, 0, 0);
        limits.TryAdmit(A, At(0));
        limits.Release(A);

        FluentActions.Invoking(() => limits.Release(A)).Should().Throw<InvalidOperationException>();
        FluentActions.Invoking(() => limits.Release(B)).Should().Throw<InvalidOperationException>();
    }

    [Fact]
    public void A_client_is_forgotten_once_it_has_no_connection_and_no_admission_in_the_minute()
    {
        var limits = new ConnectionLimits(maxConnections: 0, maxPerClient: 1, maxPerClientPerMinute: 1);
        for (var i = 0; i < 100; i++)
        {
            var client = new IPAddress([10, 0, 0, (byte)i]);
            limits.TryAdmit(client, At(i)).Should().Be(ConnectionLimit.None);
            limits.Release(client);
        }

        limits.TryAdmit(A, At(1000)).Should().Be(ConnectionLimit.None);
        limits.TrackedClients.Should().Be(1);
    }
}
