namespace Jsmail.Common.Cdb;

/// <summary>
/// A cdb file is truncated or its offsets and lengths do not describe a valid
/// file. It is an <see cref="IOException"/> because callers treat it like a read
/// error: a temporary failure, never a "not found".
/// </summary>
public sealed class CdbFormatException : IOException
{
    public CdbFormatException(string message) : base(message) { }
}
