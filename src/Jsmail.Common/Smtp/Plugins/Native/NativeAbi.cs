using System.Runtime.InteropServices;

namespace Jsmail.Common.Smtp.Plugins.Native;

/// <summary>The structs and constants of include/jsmail/plugin.h, laid out as C lays them out.</summary>
public static unsafe class NativeAbi
{
    /// <summary>The version of plugin.h; a plugin may also be built for any version from <see cref="OldestVersion"/> on.</summary>
    public const uint Version = 2;
    public const uint OldestVersion = 1;
    public const int ReplyEnhanced = 16, ReplyText = 480;

    public enum Event { Connect = 0, Helo = 1, Mail = 2, Rcpt = 3, Data = 4, EndOfData = 5 }

    public enum Fact { RemoteIp = 0, Helo = 1, Sender = 2, Recipient = 3, Tls = 4, AuthUser = 5, RemoteHost = 6, Parameter = 7, RemotePort = 8, Protocol = 9 }

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
        // version 2
        public delegate* unmanaged<nint, byte*, byte*> Env;
        public delegate* unmanaged<nint, int, byte*, int> SetFact;
        public delegate* unmanaged<nint, int> Restart;
        public delegate* unmanaged<nint, byte*, int> EhloOffer;
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
