namespace Jsmail.Common.Cdb;

/// <summary>Which part of <see cref="CdbWriter.WriteAtomically"/> failed.</summary>
/// <remarks>qmail-newu and qmail-newmrh report each with its own message (§10.3).</remarks>
public enum CdbAtomicWriteStep
{
    /// <summary>The temporary file could not be created or opened ("unable to open").</summary>
    OpenTemporary,

    /// <summary>Writing, syncing or closing the temporary file failed ("unable to write").</summary>
    WriteTemporary,

    /// <summary>The temporary file could not be renamed over the target ("unable to move").</summary>
    Rename,
}

/// <summary>
/// An I/O failure of <see cref="CdbWriter.WriteAtomically"/> itself; the target
/// file is untouched. The underlying error is the inner exception.
/// </summary>
public sealed class CdbAtomicWriteException : IOException
{
    public CdbAtomicWriteStep Step { get; }

    public CdbAtomicWriteException(CdbAtomicWriteStep step, string message, Exception inner)
        : base(message, inner) => Step = step;
}
