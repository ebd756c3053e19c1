using System.Runtime.InteropServices;
using System.Text;

namespace Jsmail.Common.Smtp.Plugins.Native;

/// <summary>A plugin that cannot be used; the program refuses to start with this message.</summary>
public sealed class NativePluginException(string message) : Exception(message);

/// <summary>
/// Loads control/plugins (one library path a line, arguments after the first
/// space; '#' lines and empty lines ignored) once per process: a library is
/// never unloaded, since its callbacks may still be running on an abandoned
/// thread after a deadline.
/// </summary>
public static unsafe class NativePluginLoader
{
    public const string ControlFile = "plugins";
    /// <summary>Seconds a callback may take before its session gets 451 4.3.0 (default 10).</summary>
    public const string TimeoutFile = "plugintimeout";

    private static NativePlugin? _registering;
    /// <summary>The api table for each version a plugin may be built for: a plugin sees the version it asked for (plugin.h, "Versions").</summary>
    private static readonly NativeAbi.Api*[] ApiTables = [CreateApi(1), CreateApi(2)];

    /// <summary>The plugins of control/plugins; null when the file is absent or under JSMAIL_COMPAT=qmail.</summary>
    /// <exception cref="NativePluginException">a library cannot be used: the program must not start</exception>
    public static NativePlugins? Load(string home, bool compat)
    {
        if (compat) return null;
        var file = System.IO.Path.Combine(home, "control", ControlFile);
        if (!File.Exists(file)) return null;
        var plugins = new List<NativePlugin>();
        foreach (var raw in File.ReadAllLines(file))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            var space = line.IndexOf(' ');
            var path = space < 0 ? line : line[..space];
            var args = space < 0 ? "" : line[(space + 1)..].Trim();
            plugins.Add(LoadOne(path, args));
        }
        var timeout = (int)Math.Min(new Jsmail.Common.Control.ControlReader(home).ReadInt(TimeoutFile, 10), 3600);
        return new NativePlugins(plugins, timeout);
    }

    private static NativePlugin LoadOne(string path, string args)
    {
        RefuseThreadLocalStorageInAStaticProgram(path);
        if (!NativeLibrary.TryLoad(path, out var library))
            throw new NativePluginException($"plugin {path}: cannot be loaded (missing, or not a shared library for this system)");
        var version = (delegate* unmanaged<uint>)Export(library, path, "jsmail_plugin_abi_version");
        var init = (delegate* unmanaged<byte*, NativeAbi.Registrar*, int>)Export(library, path, "jsmail_plugin_init");
        var got = version();
        if (got is < NativeAbi.OldestVersion or > NativeAbi.Version)
            throw new NativePluginException(
                $"plugin {path}: ABI version {got}, this jsmail speaks versions {NativeAbi.OldestVersion} to {NativeAbi.Version}");
        var plugin = new NativePlugin(path);
        var registrar = new NativeAbi.Registrar
        {
            AbiVersion = got, Api = ApiTables[got - NativeAbi.OldestVersion],
            SetData = &SetData, Hook = &Hook, EhloKeyword = &EhloKeyword,
            MailParameter = &MailParameter, RcptParameter = &RcptParameter, Verb = &Verb,
        };
        var argBytes = Encoding.UTF8.GetBytes(args + "\0");
        int status;
        lock (typeof(NativePluginLoader))
        {
            _registering = plugin;
            try { fixed (byte* a = argBytes) status = init(a, &registrar); }
            finally { _registering = null; }
        }
        if (status != 0) throw new NativePluginException($"plugin {path}: jsmail_plugin_init failed with {status}");
        return plugin;
    }

    /// <summary>
    /// A statically linked program (the per-connection jsmail-smtpd) has no
    /// dynamic loader to set up a library's own thread-local storage: a C#
    /// (Native AOT) plugin, which has some, would crash it at its first call.
    /// Refused here instead, with the reason, as any plugin that cannot be used.
    /// </summary>
    private static void RefuseThreadLocalStorageInAStaticProgram(string path)
    {
        if (!File.Exists(path) || ElfSegments.OfFile("/proc/self/exe").Contains(ElfSegments.Interpreter)) return;
        if (ElfSegments.OfFile(path).Contains(ElfSegments.ThreadLocalStorage))
            throw new NativePluginException($"plugin {path}: has thread-local storage, which this statically linked program " +
                "cannot give it (use server mode, or a jsmail-smtpd published with -p:JsmailStatic=false)");
    }

    private static nint Export(nint library, string path, string name) =>
        NativeLibrary.TryGetExport(library, name, out var fn) ? fn
            : throw new NativePluginException($"plugin {path}: the symbol {name} is missing");

    /// <summary>A table as plugin.h of <paramref name="version"/> lays it out; what later versions add stays zero.</summary>
    private static NativeAbi.Api* CreateApi(uint version)
    {
        var api = (NativeAbi.Api*)NativeMemory.AllocZeroed((nuint)sizeof(NativeAbi.Api));
        api->AbiVersion = version;
        api->Fact = &NativeSessionFacts.Fact;
        api->RecipientCount = &NativeSessionFacts.RecipientCount;
        api->Log = &NativeSessionFacts.LogLine;
        if (version < 2) return api;
        api->Env = &NativeSessionFacts.Env;
        api->SetFact = &NativeSessionFacts.SetFact;
        api->Restart = &NativeSessionFacts.Restart;
        api->EhloOffer = &NativeSessionFacts.EhloOffer;
        return api;
    }

    private static string? Text(byte* s) => s == null ? null : Marshal.PtrToStringUTF8((nint)s);

    [UnmanagedCallersOnly]
    private static void SetData(nint host, nint data) { if (_registering is { } p) p.Data = data; }

    [UnmanagedCallersOnly]
    private static int Hook(nint host, int ev, nint fn)
    {
        if (_registering is not { } p || fn == 0 || ev is < 0 or > (int)NativeAbi.Event.EndOfData) return -1;
        p.Hooks.Add(((NativeAbi.Event)ev, fn));
        return 0;
    }

    [UnmanagedCallersOnly]
    private static int EhloKeyword(nint host, byte* line)
    {
        if (_registering is not { } p || Text(line) is not { Length: > 0 } text || !Keyword(text.Split(' ')[0])) return -1;
        p.EhloLines.Add(text);
        return 0;
    }

    [UnmanagedCallersOnly]
    private static int MailParameter(nint host, byte* keyword, nint fn) => Register(keyword, fn, p => p.MailParameters);

    [UnmanagedCallersOnly]
    private static int RcptParameter(nint host, byte* keyword, nint fn) => Register(keyword, fn, p => p.RcptParameters);

    [UnmanagedCallersOnly]
    private static int Verb(nint host, byte* verb, nint fn) => Register(verb, fn, p => p.Verbs);

    private static int Register(byte* name, nint fn, Func<NativePlugin, Dictionary<string, nint>> table)
    {
        if (_registering is not { } p || fn == 0 || Text(name) is not { } text || !Keyword(text)) return -1;
        table(p)[text] = fn;
        return 0;
    }

    /// <summary>RFC 5321's esmtp-keyword: a letter or digit, then letters, digits and '-'.</summary>
    internal static bool Keyword(string s) =>
        s.Length is > 0 and <= 64 && char.IsAsciiLetterOrDigit(s[0]) && s.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');
}
