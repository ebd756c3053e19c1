using System.Text;
using Jsmail.Common.Os;

// jsmail-maildirmake, a drop-in maildirmake: `maildirmake name` creates name/
// with tmp/, new/ and cur/, all 0700. Exit 100 for usage, 111 for a failure.
const string Fatal = "maildirmake: fatal: ";

Libc.Umask(0x3F); // 077
var argv = RawArgs.Read().ToArray();
if (argv.Length < 2)
{
    Console.Error.Write("maildirmake: usage: maildirmake name\n");
    return 100;
}
var name = Encoding.UTF8.GetString(argv[1]);
if (Libc.Mkdir(name, 0x1C0) != 0) return Die("unable to mkdir " + name);
if (Libc.Chdir(name) != 0) return Die("unable to chdir to " + name);
foreach (var sub in new[] { "tmp", "new", "cur" })
    if (Libc.Mkdir(sub, 0x1C0) != 0) return Die("unable to mkdir " + name + "/" + sub);
return 0;

static int Die(string what)
{
    var errno = Libc.Errno;
    Console.Error.Write(Fatal + what + ": " + ErrorText.Describe(errno) + "\n");
    return 111;
}
