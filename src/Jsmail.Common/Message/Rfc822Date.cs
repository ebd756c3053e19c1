using System.Globalization;
using System.Text;

namespace Jsmail.Common.Message;

/// <summary>The dates qmail writes, always in UTC.</summary>
public static class Rfc822Date
{
    private static readonly string[] Months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    private static readonly string[] Weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

    /// <summary>
    /// qmail's "822 date" for Received lines, Date fields and bounces (interfaces
    /// §0.3): <c>5 Jan 2024 09:07:03 -0000</c>: day and year unpadded, no weekday,
    /// the literal zone -0000. No trailing LF; callers add what their line needs.
    /// </summary>
    public static byte[] Format(long unixSeconds)
    {
        var t = ToUtc(unixSeconds);
        return Ascii(string.Create(CultureInfo.InvariantCulture,
            $"{t.Day} {Months[t.Month - 1]} {t.Year} {t.Hour:D2}:{t.Minute:D2}:{t.Second:D2} -0000"));
    }

    /// <summary>
    /// The date of an mbox "From " line (interfaces §16 item 29):
    /// <c>Fri Jan 05 09:07:03 2024</c>, the ctime layout with a zero-padded day.
    /// No trailing LF.
    /// </summary>
    public static byte[] FormatMboxDate(long unixSeconds)
    {
        var t = ToUtc(unixSeconds);
        return Ascii(string.Create(CultureInfo.InvariantCulture,
            $"{Weekdays[(int)t.DayOfWeek]} {Months[t.Month - 1]} {t.Day:D2} {t.Hour:D2}:{t.Minute:D2}:{t.Second:D2} {t.Year}"));
    }

    /// <summary>Throws ArgumentOutOfRangeException outside years 1 to 9999.</summary>
    private static DateTime ToUtc(long unixSeconds) => DateTimeOffset.FromUnixTimeSeconds(unixSeconds).UtcDateTime;

    private static byte[] Ascii(string s) => Encoding.ASCII.GetBytes(s);
}
