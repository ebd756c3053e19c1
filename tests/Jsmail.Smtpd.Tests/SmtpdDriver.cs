using System.Reflection;
using Xunit.Sdk;

namespace Jsmail.Smtpd.Tests;

/// <summary>
/// What a dialogue test talks to. Every dialogue test runs once for each, with
/// the same bytes expected: the replies are the session core's, whichever
/// driver carries them (<see cref="SmtpdHome.Talk(SmtpdDriver, string, bool, IDictionary{string, string?}?, IEnumerable{string}?)"/>).
/// </summary>
public enum SmtpdDriver
{
    /// <summary>jsmail-smtpd started for the one connection, as tcpserver starts it: the client on fds 0 and 1.</summary>
    PerConnection,
    /// <summary>jsmail-smtpd's server mode, started for the one conversation over loopback TCP (<see cref="ServerModeServer.TalkOnce"/>).</summary>
    Server,
}

public static class SmtpdDrivers
{
    public static readonly SmtpdDriver[] All = [SmtpdDriver.PerConnection, SmtpdDriver.Server];
}

/// <summary>
/// A dialogue test's data for each driver: the driver first, then these
/// arguments (as <c>[InlineData]</c> gives them), or none (a test that was a <c>[Fact]</c>).
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = true)]
public sealed class ForEachDriverAttribute(params object?[] data) : DataAttribute
{
    public override IEnumerable<object?[]> GetData(MethodInfo testMethod)
    {
        foreach (var driver in SmtpdDrivers.All) yield return [driver, .. data];
    }
}

/// <summary>Every row of a static <see cref="TheoryData"/> property of the test class, for each driver (driver first).</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ForEachDriverAndCaseAttribute(string member) : DataAttribute
{
    public override IEnumerable<object?[]> GetData(MethodInfo testMethod)
    {
        var property = testMethod.DeclaringType!.GetProperty(member, BindingFlags.Public | BindingFlags.Static)
            ?? throw new ArgumentException($"{testMethod.DeclaringType.Name} has no public static {member}");
        var rows = (IEnumerable<object?[]>)property.GetValue(null)!;
        foreach (var driver in SmtpdDrivers.All)
            foreach (var row in rows) yield return [driver, .. row];
    }
}
