namespace Jsmail.Queue;

public static class Program
{
    public static int Main() => 0;
}
