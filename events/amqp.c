/* AMQP connection setup over rabbitmq-c's TCP socket. */
#include "events/amqp.h"

#include <amqp_tcp_socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "core/log.h"
#include "core/mem.h"

struct souk_amqp {
    amqp_connection_state_t state;
    int channel_open;
};

souk_status souk_amqp_code_status(int code)
{
    switch (code) {
    case AMQP_STATUS_OK: return SOUK_OK;
    case AMQP_STATUS_TIMEOUT: return SOUK_ETIMEOUT;
    case AMQP_STATUS_NO_MEMORY: souk_assert(!"rabbitmq-c out of memory"); return SOUK_EAMQP;
    case AMQP_STATUS_SOCKET_ERROR:
    case AMQP_STATUS_CONNECTION_CLOSED:
    case AMQP_STATUS_SOCKET_CLOSED:
    case AMQP_STATUS_TCP_ERROR:
    case AMQP_STATUS_HOSTNAME_RESOLUTION_FAILED:
    case AMQP_STATUS_HEARTBEAT_TIMEOUT:
    case AMQP_STATUS_UNEXPECTED_STATE:
    case AMQP_STATUS_BAD_AMQP_DATA: return SOUK_EAMQP_UNAVAILABLE;
    default: return SOUK_EAMQP;
    }
}

souk_status souk_amqp_reply_status(amqp_rpc_reply_t reply)
{
    switch (reply.reply_type) {
    case AMQP_RESPONSE_NORMAL: return SOUK_OK;
    case AMQP_RESPONSE_NONE: return SOUK_EAMQP;
    case AMQP_RESPONSE_LIBRARY_EXCEPTION: return souk_amqp_code_status(reply.library_error);
    case AMQP_RESPONSE_SERVER_EXCEPTION:
        if (reply.reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
            amqp_connection_close_t *m = reply.reply.decoded;
            if (m && m->reply_code == AMQP_ACCESS_REFUSED)
                return SOUK_EAUTH;
            return SOUK_EAMQP_UNAVAILABLE;
        }
        if (reply.reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
            amqp_channel_close_t *m = reply.reply.decoded;
            if (m && m->reply_code == AMQP_ACCESS_REFUSED)
                return SOUK_EFORBIDDEN;
            if (m && m->reply_code == AMQP_NOT_FOUND)
                return SOUK_ENOTFOUND;
            if (m && m->reply_code == AMQP_PRECONDITION_FAILED)
                return SOUK_ECONFLICT;
        }
        return SOUK_EAMQP;
    }
    return SOUK_EAMQP;
}

souk_status souk_amqp_last_status(souk_amqp *amqp)
{
    return souk_amqp_reply_status(amqp_get_rpc_reply(amqp->state));
}

souk_amqp *souk_amqp_open(const souk_config *cfg, int timeout_ms, souk_status *status)
{
    struct amqp_connection_info info;
    char *url = souk_strdup(souk_config_str(cfg, SOUK_CFG_AMQP_URL));
    souk_amqp *amqp = NULL;
    souk_status st = SOUK_EAMQP_UNAVAILABLE;
    if (amqp_parse_url(url, &info) != AMQP_STATUS_OK) {
        st = SOUK_ECONFIG;
        goto out;
    }
    const char *user, *password;
    souk_config_amqp_credentials(cfg, &user, &password);

    amqp = souk_calloc(1, sizeof *amqp);
    amqp->state = amqp_new_connection();
    amqp_socket_t *socket = amqp_tcp_socket_new(amqp->state);
    souk_assert(socket != NULL);
    struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
    int rc = amqp_socket_open_noblock(socket, info.host, info.port, &tv);
    if (rc != AMQP_STATUS_OK) {
        st = SOUK_EAMQP_UNAVAILABLE;
        goto fail;
    }
    /* Bounds every later blocking RPC, so a hung broker cannot hang us. */
    amqp_set_rpc_timeout(amqp->state, &tv);
    amqp_rpc_reply_t reply =
        amqp_login(amqp->state, info.vhost, 0, 131072, 30, AMQP_SASL_METHOD_PLAIN, user, password);
    if (reply.reply_type != AMQP_RESPONSE_NORMAL) {
        st = souk_amqp_reply_status(reply);
        if (reply.reply_type == AMQP_RESPONSE_LIBRARY_EXCEPTION &&
            reply.library_error == AMQP_STATUS_CONNECTION_CLOSED)
            st = SOUK_EAUTH; /* the broker closes the socket on a refused login */
        goto fail;
    }
    amqp_channel_open(amqp->state, SOUK_AMQP_CHANNEL);
    st = souk_amqp_last_status(amqp);
    if (st != SOUK_OK)
        goto fail;
    amqp->channel_open = 1;
    goto out;
fail:
    SOUK_LOG(SOUK_LOG_WARN, "broker connect failed host=%s port=%d user=%s error=\"%s\"", info.host,
             info.port, user, souk_strerror(st));
    souk_amqp_close(amqp);
    amqp = NULL;
out:
    free(url);
    *status = st;
    return amqp;
}

void souk_amqp_close(souk_amqp *amqp)
{
    if (!amqp)
        return;
    if (amqp->channel_open)
        amqp_channel_close(amqp->state, SOUK_AMQP_CHANNEL, AMQP_REPLY_SUCCESS);
    amqp_connection_close(amqp->state, AMQP_REPLY_SUCCESS);
    amqp_destroy_connection(amqp->state);
    free(amqp);
}

amqp_connection_state_t souk_amqp_state(souk_amqp *amqp)
{
    return amqp->state;
}

void souk_amqp_vhost(const souk_config *cfg, char *buf, size_t cap)
{
    struct amqp_connection_info info;
    char *url = souk_strdup(souk_config_str(cfg, SOUK_CFG_AMQP_URL));
    /* the URL was checked at load; the default vhost is "/" */
    snprintf(buf, cap, "%s", amqp_parse_url(url, &info) == AMQP_STATUS_OK ? info.vhost : "/");
    free(url);
}

souk_status souk_amqp_ping(const souk_config *cfg, int timeout_ms)
{
    souk_status st;
    souk_amqp *amqp = souk_amqp_open(cfg, timeout_ms, &st);
    souk_amqp_close(amqp);
    return st;
}
