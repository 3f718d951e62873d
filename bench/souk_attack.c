/* souk-attack: a hostile client for availability tests and `souk bench
 * gateway`. Until it is stopped (SIGTERM/SIGINT) or --duration passes it
 * holds:
 *   --stalled N     connections that sent half a request line and headers
 *                   and then nothing (slowloris), re-opened whenever the
 *                   server closes them;
 *   --long-polls M  long polls GET <path> with a bearer token, sent again as
 *                   soon as one is answered;
 * and prints, once a second, how many of each it holds and what the long
 * polls were answered (status counts). One thread, poll(2), plain sockets:
 * its own cost must stay far below what it does to the server. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/mem.h"

enum kind { STALLED, LONG_POLL };

struct peer {
    int fd;
    enum kind kind;
    size_t got;       /* bytes of the current answer read */
    char answer[512]; /* its start, for the status line */
    double resume_at; /* after a 429: when Retry-After allows again */
};

struct options {
    char host[64];
    int port;
    int stalled;
    int long_polls;
    const char *token;
    const char *path;
    double duration;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int usage(void)
{
    fprintf(stderr, "usage: souk-attack --target HOST:PORT [--stalled N] [--long-polls M "
                    "--token T --path /orders/ID?wait=30] [--duration S]\n");
    return 2;
}

static int parse(int argc, char **argv, struct options *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            return -1;
        if (strcmp(argv[i], "--target") == 0) {
            const char *colon = strrchr(v, ':');
            if (!colon || (size_t)(colon - v) >= sizeof o->host)
                return -1;
            snprintf(o->host, sizeof o->host, "%.*s", (int)(colon - v), v);
            o->port = (int)strtol(colon + 1, NULL, 10);
        } else if (strcmp(argv[i], "--stalled") == 0) {
            o->stalled = (int)strtol(v, NULL, 10);
        } else if (strcmp(argv[i], "--long-polls") == 0) {
            o->long_polls = (int)strtol(v, NULL, 10);
        } else if (strcmp(argv[i], "--token") == 0) {
            o->token = v;
        } else if (strcmp(argv[i], "--path") == 0) {
            o->path = v;
        } else if (strcmp(argv[i], "--duration") == 0) {
            o->duration = strtod(v, NULL);
        } else {
            return -1;
        }
        i++;
    }
    if (!o->host[0] || o->port <= 0 || o->stalled < 0 || o->long_polls < 0)
        return -1;
    if (o->long_polls > 0 && (!o->token || !o->path))
        return -1;
    return 0;
}

static int open_connection(const struct options *o)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    /* a server whose backlog is full would hold a blocking connect for long */
    struct timeval limit = {.tv_sec = 0, .tv_usec = 200000};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port)};
    if (inet_pton(AF_INET, o->host, &addr.sin_addr) != 1 ||
        connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

static int send_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* (Re)opens p and sends what its kind sends. Returns 0, or -1 when the
 * server cannot be reached now. */
static int start(struct peer *p, const struct options *o)
{
    if (p->fd >= 0)
        close(p->fd);
    p->fd = open_connection(o);
    p->got = 0;
    if (p->fd < 0)
        return -1;
    char request[4096];
    int n;
    if (p->kind == STALLED)
        n = snprintf(request, sizeof request, "GET /healthz HTTP/1.1\r\nHost: %s\r\n", o->host);
    else
        n = snprintf(request, sizeof request,
                     "GET %s HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n\r\n", o->path,
                     o->host, o->token);
    if (n <= 0 || (size_t)n >= sizeof request || send_all(p->fd, request, (size_t)n) != 0) {
        close(p->fd);
        p->fd = -1;
        return -1;
    }
    return 0;
}

/* The status of a complete answer in p->answer, or 0 while incomplete. The
 * gateway's answers carry Content-Length; the body is counted, not kept. */
static int answered(struct peer *p, size_t *body_left)
{
    char *end = strstr(p->answer, "\r\n\r\n");
    if (!end)
        return 0;
    const char *cl = strcasestr(p->answer, "\r\nContent-Length:");
    size_t length = cl ? (size_t)strtoul(cl + 17, NULL, 10) : 0;
    size_t head = (size_t)(end + 4 - p->answer);
    *body_left = p->got >= head + length ? 0 : head + length - p->got;
    return (int)strtol(p->answer + 9, NULL, 10);
}

int main(int argc, char **argv)
{
    struct options o;
    if (parse(argc, argv, &o) != 0)
        return usage();
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    struct rlimit lim = {.rlim_cur = 65536, .rlim_max = 65536};
    setrlimit(RLIMIT_NOFILE, &lim);

    int count = o.stalled + o.long_polls;
    struct peer *peers = souk_calloc((size_t)(count ? count : 1), sizeof *peers);
    struct pollfd *fds = souk_calloc((size_t)(count ? count : 1), sizeof *fds);
    size_t *skip = souk_calloc((size_t)(count ? count : 1), sizeof *skip);
    for (int i = 0; i < count; i++) {
        peers[i].fd = -1;
        peers[i].kind = i < o.stalled ? STALLED : LONG_POLL;
        start(&peers[i], &o);
    }
    long statuses[600] = {0};
    double began = souk_monotonic_seconds(), next_report = began + 1;
    while (!stop && (o.duration <= 0 || souk_monotonic_seconds() - began < o.duration)) {
        double loop_start = souk_monotonic_seconds();
        for (int i = 0; i < count; i++) {
            if (peers[i].fd < 0 && loop_start >= peers[i].resume_at)
                start(&peers[i], &o);
            fds[i].fd = peers[i].fd;
            fds[i].events = POLLIN;
            fds[i].revents = 0;
        }
        if (poll(fds, (nfds_t)count, 200) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < count; i++) {
            struct peer *p = &peers[i];
            if (p->fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char buf[4096];
            ssize_t n = recv(p->fd, buf, sizeof buf, 0);
            if (n <= 0) { /* closed by the server: come back */
                start(p, &o);
                continue;
            }
            if (p->kind == STALLED)
                continue; /* an error page for the half request; it closes next */
            if (skip[i] > 0) {
                skip[i] = (size_t)n >= skip[i] ? 0 : skip[i] - (size_t)n;
                if (skip[i] == 0)
                    start(p, &o);
                continue;
            }
            size_t room = sizeof p->answer - 1 - p->got;
            size_t take = (size_t)n < room ? (size_t)n : room;
            memcpy(p->answer + p->got, buf, take);
            p->got += (size_t)n;
            p->answer[p->got < sizeof p->answer ? p->got : sizeof p->answer - 1] = '\0';
            size_t left = 0;
            int status = answered(p, &left);
            if (status <= 0)
                continue;
            statuses[status < 600 ? status : 0]++;
            if (status == 429) { /* refused: honour Retry-After (1 s) */
                close(p->fd);
                p->fd = -1;
                p->resume_at = souk_monotonic_seconds() + 1;
                continue;
            }
            if (left > 0) {
                skip[i] = left;
                continue;
            }
            start(p, &o); /* a new connection each time: what a client that gave up does */
        }
        double now = souk_monotonic_seconds();
        if (now >= next_report) {
            next_report = now + 1;
            int open_stalled = 0, open_polls = 0;
            for (int i = 0; i < count; i++)
                if (peers[i].fd >= 0)
                    *(peers[i].kind == STALLED ? &open_stalled : &open_polls) += 1;
            printf("t=%.0f stalled=%d long_polls=%d answered:", now - began, open_stalled,
                   open_polls);
            for (int s = 0; s < 600; s++)
                if (statuses[s])
                    printf(" %d=%ld", s, statuses[s]);
            printf("\n");
            fflush(stdout);
        }
    }
    for (int i = 0; i < count; i++)
        if (peers[i].fd >= 0)
            close(peers[i].fd);
    free(skip);
    free(fds);
    free(peers);
    return 0;
}
