using System;
using System.Runtime.InteropServices;
using System.Text;

namespace JsmailPluginTemplate;

/// <summary>
/// The template's plugin: the EHLO keyword X-CSHARP with the arguments from
/// control/plugins, and a HELO hook that refuses "forbidden.example" with
/// its own text. Replace the bodies; keep the two exports.
/// </summary>
public static unsafe class Plugin
{
    private static NativeAbi.Api* _api;

    [UnmanagedCallersOnly(EntryPoint = "jsmail_plugin_abi_version")]
    public static uint AbiVersion() => NativeAbi.Version;

    [UnmanagedCallersOnly(EntryPoint = "jsmail_plugin_init")]
    public static int Init(byte* args, NativeAbi.Registrar* r)
    {
        try
        {
            _api = r->Api;
            var words = Marshal.PtrToStringUTF8((nint)args) ?? "";
            var line = Encoding.ASCII.GetBytes("X-CSHARP" + (words.Length > 0 ? " " + words : "") + "\0");
            fixed (byte* l = line)
                if (r->EhloKeyword(r->Host, l) != 0) return 1;
            return r->Hook(r->Host, (int)NativeAbi.Event.Helo, (nint)(delegate* unmanaged<nint, nint, NativeAbi.Reply*, int>)&CheckHelo);
        }
        catch { return 2; } // nothing may be thrown into jsmail
    }

    [UnmanagedCallersOnly]
    private static int CheckHelo(nint data, nint session, NativeAbi.Reply* reply)
    {
        try
        {
            var helo = _api->Fact(session, (int)NativeAbi.Fact.Helo, 0, null);
            if (helo == null || Marshal.PtrToStringUTF8((nint)helo) != "forbidden.example") return NativeAbi.Continue;
            reply->Code = 550;
            Write(reply->Enhanced, NativeAbi.ReplyEnhanced, "5.7.1");
            Write(reply->Text, NativeAbi.ReplyText, "the C# template refuses that name");
            return NativeAbi.Reject;
        }
        catch { return NativeAbi.Defer; }
    }

    private static void Write(byte* field, int size, string text)
    {
        var n = Encoding.ASCII.GetBytes(text, new Span<byte>(field, size - 1));
        field[n] = 0;
    }
}

/// <summary>include/jsmail/plugin.h in C#: keep in step with the header's ABI version.</summary>
public static unsafe class NativeAbi
{
    public const uint Version = 1;
    public const int Continue = 0, Accept = 1, Reject = 2, Defer = 3, Disconnect = 4;
    public const int ReplyEnhanced = 16, ReplyText = 480;

    public enum Event { Connect = 0, Helo = 1, Mail = 2, Rcpt = 3, Data = 4, EndOfData = 5 }
    public enum Fact { RemoteIp = 0, Helo = 1, Sender = 2, Recipient = 3, Tls = 4, AuthUser = 5, RemoteHost = 6, Parameter = 7 }

    [StructLayout(LayoutKind.Sequential)]
    public struct Reply
    {
        public int Code;
        public fixed byte Enhanced[ReplyEnhanced];
        public fixed byte Text[ReplyText];
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct Api
    {
        public uint AbiVersion;
        public delegate* unmanaged<nint, int, nuint, nuint*, byte*> Fact;
        public delegate* unmanaged<nint, nuint> RecipientCount;
        public delegate* unmanaged<nint, byte*, void> Log;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct Registrar
    {
        public uint AbiVersion;
        public Api* Api;
        public nint Host;
        public delegate* unmanaged<nint, nint, void> SetData;
        public delegate* unmanaged<nint, int, nint, int> Hook;
        public delegate* unmanaged<nint, byte*, int> EhloKeyword;
        public delegate* unmanaged<nint, byte*, nint, int> MailParameter;
        public delegate* unmanaged<nint, byte*, nint, int> RcptParameter;
        public delegate* unmanaged<nint, byte*, nint, int> Verb;
    }
}
