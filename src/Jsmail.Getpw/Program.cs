using Jsmail.Common.Local;
using Jsmail.Common.Os;

// jsmail-getpw, a drop-in qmail-getpw (interfaces §4.6): `qmail-getpw local`
// prints user\0uid\0gid\0home\0dash\0ext\0 for the local part. Exit codes are
// qmail-lspawn's: 100 usage, 116 no alias user, 118 passwd lookup trouble, 115
// a home that cannot be checked for now.
var argv = RawArgs.Read().ToArray();
if (argv.Length < 2) return 100;
if (PasswdMatch.Find(argv[1], out var failure) is not { } found) return failure;
return Libc.WriteAll(1, PasswdMatch.Format(found)) ? 0 : PasswdMatch.SystemTrouble;
