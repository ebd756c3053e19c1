namespace Jsmail.Send.Send;

/// <summary>qmail-send's retry schedule (interfaces §2.7): attempts at birth + (k·skip)², skip 10 local, 20 remote.</summary>
public static class RetrySchedule
{
    /// <summary>Integer square root: result² ≤ x &lt; (result+1)².</summary>
    public static long SquareRoot(long x)
    {
        if (x <= 0) return 0;
        var y = (long)Math.Sqrt(x);
        while (y * y > x) y--;
        while ((y + 1) * (y + 1) <= x) y++;
        return y;
    }

    /// <summary>The next attempt after a pass at <paramref name="now"/>.</summary>
    public static long Next(long birth, long now, int skip)
    {
        var n = (birth > now ? 0 : SquareRoot(now - birth)) + skip;
        return birth + n * n;
    }
}
