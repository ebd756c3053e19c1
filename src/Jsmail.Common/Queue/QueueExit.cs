namespace Jsmail.Common.Queue;

/// <summary>qmail-queue's exit codes (qmail-interfaces §1.7).</summary>
public static class QueueExit
{
    public const int Ok = 0;
    public const int AddressTooLong = 11;
    public const int PermanentRefusal = 31;
    public const int OutOfMemory = 51;
    public const int Timeout = 52;
    public const int WriteError = 53;
    public const int ReadError = 54;
    public const int ConfigError = 55;
    public const int NetworkError = 56;
    public const int HomeProblem = 61;
    public const int QueueDirProblem = 62;
    public const int PidProblem = 63;
    public const int MessProblem = 64;
    public const int IntdProblem = 65;
    public const int TodoProblem = 66;
    public const int TemporaryRefusal = 71;
    public const int ConnectTimeout = 72;
    public const int ConnectRejected = 73;
    public const int CommunicationFailed = 74;
    public const int InternalBug = 81;
    public const int CustomError = 82;
    public const int EnvelopeFormat = 91;
    public const int CannotExec = 120;
}
