/* The start gate (see startgate.h). */
#include "core/startgate.h"

#include <stdatomic.h>

static atomic_int gate_open;

int souk_startgate_begin_request(struct mg_connection *conn)
{
    if (atomic_load_explicit(&gate_open, memory_order_acquire))
        return 0;
    static const char body[] =
        "{\"error\":{\"code\":\"UNAVAILABLE\",\"message\":\"starting; retry shortly\"}}";
    mg_printf(conn,
              "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
              "Retry-After: 1\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
              sizeof body - 1, body);
    return 503;
}

void souk_startgate_open(void)
{
    atomic_store_explicit(&gate_open, 1, memory_order_release);
}
