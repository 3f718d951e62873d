/* souk-bench-bare <port> <file>: a bare civetweb server answering every
 * request with the bytes of file as JSON, with the gateway's civetweb
 * options. `souk bench gateway` measures the gateway against it. */
#include <civetweb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char body[65536];
static size_t body_len;
/* The whole answer, head and body, built once and sent in one write: the
 * fastest a civetweb handler can answer, so the gateway is measured against
 * the best baseline, not a slower one. */
static char answer_bytes[65536 + 512];
static size_t answer_len;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int answer(struct mg_connection *conn, void *data)
{
    (void)data;
    mg_write(conn, answer_bytes, answer_len);
    return 200;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: souk-bench-bare <port> <body file>\n");
        return 2;
    }
    FILE *f = fopen(argv[2], "rb");
    if (!f) {
        fprintf(stderr, "souk-bench-bare: cannot read %s\n", argv[2]);
        return 2;
    }
    body_len = fread(body, 1, sizeof body, f);
    fclose(f);
    int head = snprintf(
        answer_bytes, sizeof answer_bytes,
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
        "X-Request-Id: 00000000-0000-4000-8000-000000000000\r\nCache-Control: no-store\r\n\r\n",
        body_len);
    memcpy(answer_bytes + head, body, body_len);
    answer_len = (size_t)head + body_len;
    char ports[64];
    snprintf(ports, sizeof ports, "127.0.0.1:%s", argv[1]);
    const char *options[] = {"listening_ports",   ports, "num_threads", "64", "tcp_nodelay", "1",
                             "enable_keep_alive", "yes", NULL};
    struct mg_callbacks callbacks;
    memset(&callbacks, 0, sizeof callbacks);
    mg_init_library(0);
    struct mg_context *ctx = mg_start(&callbacks, NULL, options);
    if (!ctx) {
        fprintf(stderr, "souk-bench-bare: cannot listen on %s\n", ports);
        return 1;
    }
    mg_set_request_handler(ctx, "/", answer, NULL);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    while (!stop)
        pause();
    mg_stop(ctx);
    mg_exit_library();
    return 0;
}
