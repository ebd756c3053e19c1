using System.Text;

namespace Jsmail.Send.Tests;

/// <summary>
/// MT-PRIORITY through the real jsmail-send (docs/jsmail-send.md): the
/// priority jsmail-todo keeps in rparam/ orders the messages waiting for the
/// one remote slot, held busy by the test spawner until the test says.
/// </summary>
public class PriorityFlowTests
{
    private static byte[] With(byte[] envelope, string block) => [.. envelope, .. Encoding.Latin1.GetBytes(block)];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Waiting_messages_get_the_slot_by_priority_but_not_under_qmail_compatibility(bool compat)
    {
        using var h = new SendHarness();
        h.Home.WriteControl("concurrencyremote", "1\n");
        if (compat) h.Environment["JSMAIL_COMPAT"] = "qmail";
        h.Start();
        h.Queue(SendHarness.Envelope("s@local.example", "hold@remote.example"));
        h.WaitForLog("starting delivery 1: ");
        h.Queue(With(SendHarness.Envelope("s@local.example", "low@remote.example"), "X1\0MMT-PRIORITY=-3\0\0"));
        h.Queue(SendHarness.Envelope("s@local.example", "plain@remote.example"));
        h.Queue(With(SendHarness.Envelope("s@local.example", "high@remote.example"), "X1\0MMT-PRIORITY=+5\0\0"));
        h.WaitForLog("info msg", 4);
        File.WriteAllText(Path.Combine(h.Home.Path, "release"), "");
        h.WaitForLog("end msg", 4);

        var order = h.LogLines.Where(l => l.Contains("starting delivery")).Select(l => l[(l.LastIndexOf(' ') + 1)..]).ToList();
        if (!compat)
            order.Should().Equal(["hold@remote.example", "high@remote.example", "plain@remote.example", "low@remote.example"], h.Log);
        else
        {
            // qmail's way: the first to come while the slot is busy is chosen at once; then due order (equal here)
            order.Take(2).Should().Equal(["hold@remote.example", "low@remote.example"], h.Log);
            order.Skip(2).Should().BeEquivalentTo(["plain@remote.example", "high@remote.example"]);
        }
    }
}
