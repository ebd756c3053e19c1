namespace Jsmail.Common.Smtp.Plugins.Native;

/// <summary>One loaded library and what its init registered; the function pointers are its exports' callbacks.</summary>
public sealed class NativePlugin(string path)
{
    public string Path { get; } = path;
    public nint Data { get; set; }
    /// <summary>Hook functions per <see cref="NativeAbi.Event"/>, in registration order.</summary>
    public List<(NativeAbi.Event Event, nint Fn)> Hooks { get; } = new();
    public List<string> EhloLines { get; } = new();
    public Dictionary<string, nint> MailParameters { get; } = new(StringComparer.OrdinalIgnoreCase);
    public Dictionary<string, nint> RcptParameters { get; } = new(StringComparer.OrdinalIgnoreCase);
    public Dictionary<string, nint> Verbs { get; } = new(StringComparer.OrdinalIgnoreCase);
}
