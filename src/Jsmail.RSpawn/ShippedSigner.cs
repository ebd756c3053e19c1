using System.Buffers;
using System.Text;
using Jsmail.Common.Os;

namespace Jsmail.RSpawn;

/// <summary>
/// Whether a line of control/remoteprocessors runs the shipped DKIM signer,
/// which the pool then runs in-process (docs/jsmail-send.md, "Pooled remote
/// delivery"): the line, leading blanks aside (ControlReader has taken the
/// trailing ones), is one word of letters, digits and <c>. _ - + /</c> only
/// (so no shell syntax: no quoting, redirection, variable, assignment or
/// second word), its last path component is <c>jsmail-dkimsign</c>, and it
/// names what <c>/bin/sh -c</c> in jsmail-remote would run: with a '/'
/// the path relative to the home (jsmail-remote's directory), without one the
/// first file of that name on an absolute PATH directory. That file is an
/// executable regular file, and one whose name is still <c>jsmail-dkimsign</c>
/// when symbolic links are followed. Anything else is left to jsmail-remote
/// (a missing or renamed program fails there, as it says).
/// </summary>
internal static class ShippedSigner
{
    public const string ProgramName = "jsmail-dkimsign";

    private static readonly SearchValues<byte> WordBytes =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-+/"u8);

    public static bool Is(ReadOnlySpan<byte> line, string home)
    {
        var word = line.TrimStart(" \t"u8);
        if (word.IsEmpty || word.IndexOfAnyExcept(WordBytes) >= 0) return false;
        var text = Encoding.ASCII.GetString(word);
        if (text[(text.LastIndexOf('/') + 1)..] != ProgramName) return false;
        var path = text.Contains('/') ? Path.Combine(home, text) : Exec.FindOnPath(text);
        // a PATH entry that is empty or relative means jsmail-remote's directory, not ours
        if (path == null || !Path.IsPathRooted(path)) return false;
        if (Libc.StatPath(path, out var st) != 0 || !st.IsRegular || Libc.Access(path, Libc.X_OK) != 0) return false;
        try
        {
            var target = File.ResolveLinkTarget(path, returnFinalTarget: true)?.FullName ?? path;
            return Path.GetFileName(target) == ProgramName;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
    }
}
