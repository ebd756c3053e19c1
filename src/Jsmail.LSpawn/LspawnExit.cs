namespace Jsmail.LSpawn;

/// <summary>The delivery child's exit codes and their reports (interfaces §4.5).</summary>
public static class LspawnExit
{
    public const int Cdb = 117, NoMemory = 119, SystemTrouble = 118, NoAlias = 116, Root = 113, Bug = 112,
        Nfs = 115, ExecHard = 126, ExecSoft = 120, Getpw = 121;

    /// <summary>The report for a delivery child's wait status and output: status letter, then text.</summary>
    public static byte[] Report(int waitStatus, ReadOnlySpan<byte> output)
    {
        if ((waitStatus & 0x7f) != 0) return "Zqmail-local crashed.\n"u8.ToArray();
        var fixedText = ((waitStatus >> 8) & 0xff) switch
        {
            Cdb => "ZTrouble reading users/cdb in qmail-lspawn.\n",
            NoMemory => "ZOut of memory in qmail-lspawn.\n",
            SystemTrouble => "ZTemporary failure in qmail-lspawn.\n",
            NoAlias => "ZUnable to find alias user!\n",
            Root => "ZNot allowed to perform deliveries as root.\n",
            Bug => "ZInternal qmail-lspawn bug.\n",
            Nfs => "ZNFS failure in qmail-local.\n",
            ExecHard => "DUnable to run qmail-local.\n",
            ExecSoft => "ZUnable to run qmail-local.\n",
            Getpw => "ZUnable to run qmail-getpw.\n",
            _ => null,
        };
        if (fixedText != null) return global::System.Text.Encoding.ASCII.GetBytes(fixedText);
        var status = ((waitStatus >> 8) & 0xff) switch
        {
            0 => (byte)'K',
            111 or 71 or 74 or 75 => (byte)'Z',
            _ => (byte)'D',
        };
        var nul = output.IndexOf((byte)0);
        var text = nul < 0 ? output : output[..nul];
        return [status, .. text];
    }
}
