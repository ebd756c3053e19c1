/*
 * jsmail-queue's signal handlers: each one ends the process at once with the
 * exit code registered for its signal, and does nothing else (qmail-queue's
 * 52 on SIGALRM, 81 on a crash signal). A handler has to be native code: the
 * signal may arrive while the .NET runtime is in the middle of anything, where
 * no managed code may run. Compiled by the C compiler that links the Native
 * AOT executable (Jsmail.Queue.csproj), so no code is written at run time.
 */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define SIGNAL_LIMIT 65 /* signal numbers are 1..64 on Linux */

/* Written before the handler is installed, read only by the handler. */
static volatile sig_atomic_t exit_code_of[SIGNAL_LIMIT];

static void exit_with_registered_code(int sig)
{
    _exit(exit_code_of[sig]);
}

/*
 * Makes signal sig end the process with exit_code. Every other signal is
 * blocked while the handler runs: the first signal's code is the one the
 * process exits with.
 * Returns 0, or -1 when sig cannot be caught (out of range, or refused by
 * sigaction, which then sets errno).
 */
int jsmail_exit_on_signal(int sig, int exit_code)
{
    struct sigaction action;

    if (sig <= 0 || sig >= SIGNAL_LIMIT) return -1;
    exit_code_of[sig] = exit_code;
    memset(&action, 0, sizeof action);
    action.sa_handler = exit_with_registered_code;
    sigfillset(&action.sa_mask);
    return sigaction(sig, &action, 0);
}
