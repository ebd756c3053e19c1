/*
 * smtp-latency: the time an SMTP server takes to answer the end of DATA, the
 * figure smtp-source does not give. SESSIONS threads, each with one SMTP
 * session, send MESSAGES messages in all (one recipient each, SIZE bytes,
 * lines of 78 characters), one after another in each session, without
 * pipelining. For every message the clock runs from the write of the final
 * ".\r\n" to the reply's last line; the message counts only if that reply is
 * 250. Prints the count, the median and the 99th percentile in milliseconds,
 * and the rate over the whole run. bench/server.sh builds it with cc at run
 * time (as bench/accepting-queue.c).
 *   smtp-latency HOST PORT SESSIONS MESSAGES SIZE FROM TO
 * Exit 0 when every message got its 250, 1 otherwise, 100 on bad usage.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in server;
static int total;
static atomic_int next_message;
static atomic_int failed;
static double *latencies; /* ms, one per message; 0 until answered */
static char *message;     /* the DATA body, dot-stuffing not needed: no line starts with '.' */
static size_t message_len;
static const char *sender, *recipient;

struct session {
    int fd;
    char buf[4096];
    size_t have;
};

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads one reply (its lines up to the one with a space after the code); returns the code or -1. */
static int reply(struct session *s)
{
    for (;;) {
        char *eol = memchr(s->buf, '\n', s->have);
        if (eol) {
            size_t len = (size_t)(eol - s->buf) + 1;
            int last = len >= 4 && s->buf[3] != '-';
            int code = len >= 3 ? atoi(s->buf) : -1;
            memmove(s->buf, s->buf + len, s->have - len);
            s->have -= len;
            if (last) return code;
            continue;
        }
        if (s->have == sizeof s->buf) return -1;
        ssize_t r = read(s->fd, s->buf + s->have, sizeof s->buf - s->have);
        if (r <= 0) return -1;
        s->have += (size_t)r;
    }
}

static int command(struct session *s, const char *line, int expect)
{
    return send_all(s->fd, line, strlen(line)) == 0 && reply(s) == expect ? 0 : -1;
}

static void *run_session(void *unused)
{
    struct session s = { .have = 0 };
    char line[600];
    int one = 1, i;
    (void)unused;

    s.fd = socket(AF_INET, SOCK_STREAM, 0);
    if (s.fd < 0 || connect(s.fd, (struct sockaddr *)&server, sizeof server) != 0) goto broken;
    setsockopt(s.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (reply(&s) != 220 || command(&s, "EHLO latency.test\r\n", 250) != 0) goto broken;
    while ((i = atomic_fetch_add(&next_message, 1)) < total) {
        snprintf(line, sizeof line, "MAIL FROM:<%s>\r\n", sender);
        if (command(&s, line, 250) != 0) goto broken_at;
        snprintf(line, sizeof line, "RCPT TO:<%s>\r\n", recipient);
        if (command(&s, line, 250) != 0 || command(&s, "DATA\r\n", 354) != 0) goto broken_at;
        if (send_all(s.fd, message, message_len) != 0) goto broken_at;
        double start = now_ms();
        if (send_all(s.fd, ".\r\n", 3) != 0 || reply(&s) != 250) goto broken_at;
        latencies[i] = now_ms() - start;
    }
    command(&s, "QUIT\r\n", 221);
    close(s.fd);
    return NULL;
broken_at:
    atomic_fetch_add(&failed, 1);
broken:
    /* this session's remaining share goes to the others; a dead server fails them all */
    if (s.fd >= 0) close(s.fd);
    return NULL;
}

static int by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 8) {
        fprintf(stderr, "usage: smtp-latency HOST PORT SESSIONS MESSAGES SIZE FROM TO\n");
        return 100;
    }
    int sessions = atoi(argv[3]), size = atoi(argv[5]);
    total = atoi(argv[4]);
    sender = argv[6];
    recipient = argv[7];
    server.sin_family = AF_INET;
    server.sin_port = htons((unsigned short)atoi(argv[2]));
    if (sessions < 1 || total < 1 || size < 100 || inet_pton(AF_INET, argv[1], &server.sin_addr) != 1) {
        fprintf(stderr, "smtp-latency: bad arguments\n");
        return 100;
    }

    message = malloc((size_t)size + 200);
    latencies = calloc((size_t)total, sizeof *latencies);
    if (!message || !latencies) return 111;
    message_len = (size_t)snprintf(message, 200, "From: <%s>\r\nTo: <%s>\r\nSubject: latency\r\n\r\n", sender, recipient);
    while (message_len + 80 <= (size_t)size) {
        memset(message + message_len, 'x', 78);
        memcpy(message + message_len + 78, "\r\n", 2);
        message_len += 80;
    }

    pthread_t *threads = calloc((size_t)sessions, sizeof *threads);
    double start = now_ms();
    for (int t = 0; t < sessions; t++) pthread_create(&threads[t], NULL, run_session, NULL);
    for (int t = 0; t < sessions; t++) pthread_join(threads[t], NULL);
    double seconds = (now_ms() - start) / 1e3;

    int done = 0;
    for (int i = 0; i < total; i++)
        if (latencies[i] > 0) latencies[done++] = latencies[i];
    if (done == 0) {
        printf("0 of %d messages answered 250\n", total);
        return 1;
    }
    qsort(latencies, (size_t)done, sizeof *latencies, by_value);
    int p99 = (int)(0.99 * (done - 1) + 0.5);
    printf("%d of %d messages answered 250 (%d sessions broken): median %.2f ms, 99th percentile %.2f ms, %.1f msgs/s\n",
           done, total, atomic_load(&failed), latencies[(done - 1) / 2], latencies[p99], done / seconds);
    return done == total ? 0 : 1;
}
