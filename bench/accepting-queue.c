/*
 * A stand-in for qmail-queue that accepts every message: it reads the message
 * (fd 0) and the envelope (fd 1) to their ends and exits 0. bench/startup-
 * compare.sh gives it to jsmail-inject as QMAILQUEUE, so that inject's figure
 * is its own start and its child's start, not a queue's work.
 */
#include <unistd.h>

int main(void)
{
    char buf[4096];

    while (read(0, buf, sizeof buf) > 0) {}
    while (read(1, buf, sizeof buf) > 0) {}
    return 0;
}
