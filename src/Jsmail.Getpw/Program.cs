using Jsmail.Common.Control;
using Jsmail.Common.Os;
using Jsmail.Getpw;

// jsmail-getpw, a drop-in qmail-getpw (interfaces §4.6): `qmail-getpw local`
// prints user\0uid\0gid\0home\0dash\0ext\0 for the local part. Exit codes are
// qmail-lspawn's: 100 usage, 116 no alias user, 118 passwd lookup trouble, 115
// a home that cannot be checked for now.
const int NoAlias = 116, SystemTrouble = 118, NfsTrouble = 115;

var argv = RawArgs.Read().ToArray();
if (argv.Length < 2) return 100;
var local = argv[1];

foreach (var n in PasswdMatch.CandidateLengths(local))
{
    var name = AsciiCase.ToLower(local.AsSpan(0, n));
    var pw = Libc.GetPasswdBytes(name, out var errno);
    if (pw == null)
    {
        if (errno == Errno.ETXTBSY) return SystemTrouble;
        continue;
    }
    var p = pw.Value;
    if (p.Uid == 0) continue;
    if (Libc.StatPath(p.Home, out var st) != 0)
    {
        if (ErrorText.IsTemporary(Libc.Errno)) return NfsTrouble;
        continue;
    }
    if (st.Uid != p.Uid) continue;
    var whole = n == local.Length;
    return Print(PasswdMatch.Format(p.Name, p.Uid, p.Gid, p.Home, whole ? ""u8 : "-"u8,
        whole ? ""u8 : local.AsSpan(n + 1)));
}

var alias = Libc.GetPasswdBytes("alias"u8, out _);
if (alias == null) return NoAlias;
var a = alias.Value;
return Print(PasswdMatch.Format(a.Name, a.Uid, a.Gid, a.Home, "-"u8, local));

static int Print(byte[] answer) => Libc.WriteAll(1, answer) ? 0 : SystemTrouble;
