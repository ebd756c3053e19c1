using Jsmail.Common.Message;
using static Jsmail.Common.Tests.Latin1;

namespace Jsmail.Common.Tests.Message;

public class Rfc822DateTests
{
    // Expected values come from GNU date -u, an independent oracle.
    [Theory]
    [InlineData(0L, "1 Jan 1970 00:00:00 -0000", "Thu Jan 01 00:00:00 1970")]
    [InlineData(99L, "1 Jan 1970 00:01:39 -0000", "Thu Jan 01 00:01:39 1970")]
    [InlineData(-1L, "31 Dec 1969 23:59:59 -0000", "Wed Dec 31 23:59:59 1969")]
    [InlineData(-2208988800L, "1 Jan 1900 00:00:00 -0000", "Mon Jan 01 00:00:00 1900")]
    [InlineData(1000000000L, "9 Sep 2001 01:46:40 -0000", "Sun Sep 09 01:46:40 2001")]
    [InlineData(1704445623L, "5 Jan 2024 09:07:03 -0000", "Fri Jan 05 09:07:03 2024")]
    // Leap years: 2000 (divisible by 400), 2024; not leap: 2023, 2100.
    [InlineData(951868799L, "29 Feb 2000 23:59:59 -0000", "Tue Feb 29 23:59:59 2000")]
    [InlineData(951868800L, "1 Mar 2000 00:00:00 -0000", "Wed Mar 01 00:00:00 2000")]
    [InlineData(1709164800L, "29 Feb 2024 00:00:00 -0000", "Thu Feb 29 00:00:00 2024")]
    [InlineData(1709251199L, "29 Feb 2024 23:59:59 -0000", "Thu Feb 29 23:59:59 2024")]
    [InlineData(1677628799L, "28 Feb 2023 23:59:59 -0000", "Tue Feb 28 23:59:59 2023")]
    [InlineData(1677628800L, "1 Mar 2023 00:00:00 -0000", "Wed Mar 01 00:00:00 2023")]
    [InlineData(4107542399L, "28 Feb 2100 23:59:59 -0000", "Sun Feb 28 23:59:59 2100")]
    [InlineData(4107542400L, "1 Mar 2100 00:00:00 -0000", "Mon Mar 01 00:00:00 2100")]
    // Ends of months and of the year.
    [InlineData(1675209599L, "31 Jan 2023 23:59:59 -0000", "Tue Jan 31 23:59:59 2023")]
    [InlineData(1714521599L, "30 Apr 2024 23:59:59 -0000", "Tue Apr 30 23:59:59 2024")]
    [InlineData(1704067199L, "31 Dec 2023 23:59:59 -0000", "Sun Dec 31 23:59:59 2023")]
    [InlineData(1704067200L, "1 Jan 2024 00:00:00 -0000", "Mon Jan 01 00:00:00 2024")]
    [InlineData(1738368000L, "1 Feb 2025 00:00:00 -0000", "Sat Feb 01 00:00:00 2025")]
    // Past the 32-bit time_t limit.
    [InlineData(2147483647L, "19 Jan 2038 03:14:07 -0000", "Tue Jan 19 03:14:07 2038")]
    [InlineData(2147483648L, "19 Jan 2038 03:14:08 -0000", "Tue Jan 19 03:14:08 2038")]
    [InlineData(253402300799L, "31 Dec 9999 23:59:59 -0000", "Fri Dec 31 23:59:59 9999")]
    public void Formats_utc_dates(long unixSeconds, string rfc822, string mbox)
    {
        Text(Rfc822Date.Format(unixSeconds)).Should().Be(rfc822);
        Text(Rfc822Date.FormatMboxDate(unixSeconds)).Should().Be(mbox);
    }

    [Fact]
    public void Years_are_not_padded_as_qmail_prints_them()
    {
        // GNU date would print 0001; qmail's number formatting does not pad.
        Text(Rfc822Date.Format(-62135596800L)).Should().Be("1 Jan 1 00:00:00 -0000");
        Text(Rfc822Date.FormatMboxDate(-62135596800L)).Should().Be("Mon Jan 01 00:00:00 1");
    }

    [Theory]
    [InlineData(253402300800L)]
    [InlineData(-62135596801L)]
    [InlineData(long.MaxValue)]
    public void Outside_years_1_to_9999_is_refused(long unixSeconds)
    {
        var act = () => Rfc822Date.Format(unixSeconds);
        act.Should().Throw<ArgumentOutOfRangeException>();
    }
}
