using Jsmail.TestSupport;

namespace Jsmail.Faults.Tests;

/// <summary>
/// The queue as jsmail-send will read it: todo/ entries (each must have its
/// mess and intd), messages still being delivered (info/), and mess files
/// that no todo or info names, left by a queue writer killed before its todo
/// link (qmail-clean removes them after 36 hours).
/// </summary>
public sealed record QueueState(int Todo, int Info, int Bounce, List<string> TodoWithoutFiles, int Orphans)
{
    public static QueueState Read(TestHome home)
    {
        static HashSet<string> Ids(TestHome home, string dir) => home.Entries(dir).Select(Path.GetFileName).OfType<string>().ToHashSet();
        var todo = Ids(home, "todo");
        var mess = Ids(home, "mess");
        var intd = Ids(home, "intd");
        var info = Ids(home, "info");
        var bounce = Ids(home, "bounce");
        // read while jsmail-send's tree is down: nothing moves but new messages, whose files come before their todo link
        var incomplete = todo.Where(id => !intd.Contains(id) || !mess.Contains(id)).ToList();
        var orphans = mess.Count(id => !todo.Contains(id) && !info.Contains(id) && !intd.Contains(id) && !bounce.Contains(id));
        return new QueueState(todo.Count, info.Count, bounce.Count, incomplete, orphans);
    }

    /// <summary>Nothing left to deliver.</summary>
    public bool Idle => Todo == 0 && Info == 0 && Bounce == 0;

    public override string ToString() => $"todo {Todo}, info {Info}, bounce {Bounce}, mess without todo or info {Orphans}";
}
