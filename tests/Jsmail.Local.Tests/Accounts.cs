using Jsmail.TestSupport;

namespace Jsmail.Local.Tests;

/// <summary>Real accounts (useradd) with homes under a scratch directory, removed at the end.</summary>
public sealed class Accounts : IDisposable
{
    private readonly List<string> _users = [];
    public TempDir Dir { get; } = new("jsmail-users");

    public sealed record User(string Name, uint Uid, uint Gid, string Home);

    public User Add(string prefix)
    {
        var name = prefix + Guid.NewGuid().ToString("N")[..6];
        var home = Path.Combine(Dir.Path, name);
        Directory.CreateDirectory(home);
        Sh($"useradd -M -d '{home}' -s /bin/sh -U '{name}'");
        _users.Add(name);
        Sh($"chown '{name}:{name}' '{home}' && chmod 0755 '{home}'");
        var id = Sh($"id -u '{name}'; id -g '{name}'").Out.Split('\n');
        return new User(name, uint.Parse(id[0]), uint.Parse(id[1]), home);
    }

    public static RunResult Sh(string script, params string[] args)
    {
        var r = Run.Shell(script, args: args);
        if (r.ExitCode != 0) throw new InvalidOperationException($"{script}: {r.Err}");
        return r;
    }

    public void Dispose()
    {
        foreach (var u in _users) Run.Shell($"userdel '{u}'; groupdel '{u}' 2>/dev/null; true");
        Dir.Dispose();
    }
}
