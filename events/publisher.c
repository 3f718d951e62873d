/* Confirmed, mandatory publishing over one rabbitmq-c connection. */
#include "events/publisher.h"

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "events/amqp.h"

struct souk_publisher {
    const souk_config *cfg;
    souk_service service;
    souk_amqp *amqp;
    uint64_t next_tag; /* delivery tag the broker gives the next publish */
    int64_t published_at_us;
};

souk_publisher *souk_publisher_new(const souk_config *cfg, souk_service service)
{
    souk_publisher *pub = souk_calloc(1, sizeof *pub);
    pub->cfg = cfg;
    pub->service = service;
    return pub;
}

static void disconnect(souk_publisher *pub)
{
    souk_amqp_close(pub->amqp);
    pub->amqp = NULL;
}

void souk_publisher_free(souk_publisher *pub)
{
    if (!pub)
        return;
    disconnect(pub);
    free(pub);
}

static souk_status ensure_connected(souk_publisher *pub)
{
    if (pub->amqp)
        return SOUK_OK;
    souk_status st;
    pub->amqp = souk_amqp_open(pub->cfg, 5000, &st);
    if (!pub->amqp)
        return st;
    amqp_confirm_select(souk_amqp_state(pub->amqp), SOUK_AMQP_CHANNEL);
    st = souk_amqp_last_status(pub->amqp);
    if (st == SOUK_OK)
        st = souk_topology_declare_publisher(pub->amqp, pub->service);
    if (st != SOUK_OK) {
        disconnect(pub);
        return st;
    }
    pub->next_tag = 1;
    return SOUK_OK;
}

static void settle(const uint64_t *tags, size_t count, souk_status *results, int *settled,
                   uint64_t tag, int multiple, souk_status outcome)
{
    for (size_t i = 0; i < count; i++) {
        if (settled[i] == 2 || (multiple ? tags[i] > tag : tags[i] != tag))
            continue;
        if (settled[i] == 0)
            results[i] = outcome; /* a returned item keeps its ENOTFOUND */
        settled[i] = 2;
    }
}

static void mark_returned(const souk_publish_item *items, size_t count, souk_status *results,
                          int *settled, const amqp_message_t *msg)
{
    const amqp_bytes_t id = msg->properties.message_id;
    for (size_t i = 0; i < count; i++) {
        if (settled[i] == 0 && strlen(items[i].env->message_id) == id.len &&
            memcmp(items[i].env->message_id, id.bytes, id.len) == 0) {
            results[i] = SOUK_ENOTFOUND;
            settled[i] = 1;
            return;
        }
    }
}

souk_status souk_publisher_publish(souk_publisher *pub, const souk_publish_item *items,
                                   size_t count, souk_status *results, int timeout_ms)
{
    if (count == 0)
        return SOUK_OK;
    for (size_t i = 0; i < count; i++)
        results[i] = SOUK_EAMQP_UNAVAILABLE;
    souk_status st = ensure_connected(pub);
    if (st != SOUK_OK)
        return st;
    pub->published_at_us = souk_wall_us();
    amqp_connection_state_t state = souk_amqp_state(pub->amqp);
    uint64_t *tags = souk_calloc(count, sizeof *tags);
    int *settled = souk_calloc(count, sizeof *settled); /* 0 open, 1 returned, 2 done */
    size_t open = count;

    for (size_t i = 0; i < count; i++) {
        amqp_basic_properties_t props;
        amqp_table_entry_t headers[SOUK_ENVELOPE_MAX_HEADERS];
        souk_envelope_properties(items[i].env, pub->published_at_us, &props, headers);
        amqp_bytes_t body = {items[i].env->body_len, items[i].env->body};
        int rc = amqp_basic_publish(state, SOUK_AMQP_CHANNEL, amqp_cstring_bytes(items[i].exchange),
                                    amqp_cstring_bytes(items[i].routing_key), 1, 0, &props, body);
        if (rc != AMQP_STATUS_OK) {
            st = souk_amqp_code_status(rc);
            goto broken;
        }
        tags[i] = pub->next_tag++;
    }

    struct timeval deadline, now;
    gettimeofday(&deadline, NULL);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_usec += (timeout_ms % 1000) * 1000;
    if (deadline.tv_usec >= 1000000) {
        deadline.tv_sec++;
        deadline.tv_usec -= 1000000;
    }
    while (open > 0) {
        gettimeofday(&now, NULL);
        struct timeval left;
        timersub(&deadline, &now, &left);
        if (left.tv_sec < 0) {
            st = SOUK_ETIMEOUT;
            goto broken;
        }
        amqp_frame_t frame;
        int rc = amqp_simple_wait_frame_noblock(state, &frame, &left);
        if (rc != AMQP_STATUS_OK) {
            st = souk_amqp_code_status(rc);
            goto broken;
        }
        if (frame.frame_type != AMQP_FRAME_METHOD)
            continue;
        switch (frame.payload.method.id) {
        case AMQP_BASIC_ACK_METHOD: {
            amqp_basic_ack_t *ack = frame.payload.method.decoded;
            settle(tags, count, results, settled, ack->delivery_tag, ack->multiple, SOUK_OK);
            break;
        }
        case AMQP_BASIC_NACK_METHOD: {
            amqp_basic_nack_t *nack = frame.payload.method.decoded;
            settle(tags, count, results, settled, nack->delivery_tag, nack->multiple, SOUK_EAMQP);
            break;
        }
        case AMQP_BASIC_RETURN_METHOD: {
            amqp_message_t msg;
            amqp_rpc_reply_t reply = amqp_read_message(state, frame.channel, &msg, 0);
            if (reply.reply_type != AMQP_RESPONSE_NORMAL) {
                st = souk_amqp_reply_status(reply);
                goto broken;
            }
            mark_returned(items, count, results, settled, &msg);
            amqp_destroy_message(&msg);
            break;
        }
        case AMQP_CHANNEL_CLOSE_METHOD: {
            /* The broker closes the channel on a publish to a missing
             * exchange (404): that is unroutable too, not a broker outage;
             * so is one to an exchange the user may not write (403). */
            amqp_channel_close_t *close = frame.payload.method.decoded;
            int code = close ? close->reply_code : 0;
            st = code == AMQP_NOT_FOUND        ? SOUK_ENOTFOUND
                 : code == AMQP_ACCESS_REFUSED ? SOUK_EFORBIDDEN
                                               : SOUK_EAMQP_UNAVAILABLE;
            goto broken;
        }
        case AMQP_CONNECTION_CLOSE_METHOD: st = SOUK_EAMQP_UNAVAILABLE; goto broken;
        default: break;
        }
        open = 0;
        for (size_t i = 0; i < count; i++)
            open += settled[i] != 2;
    }
    st = SOUK_OK;
    for (size_t i = 0; i < count && st == SOUK_OK; i++)
        st = results[i];
    amqp_maybe_release_buffers(state);
    goto out;
broken:
    /* Confirms still owed would arrive with tags we can no longer match: start
     * a fresh connection next time; the unconfirmed items are reported failed
     * and their outbox rows stay pending. */
    for (size_t i = 0; i < count; i++)
        if (settled[i] != 2)
            results[i] = st;
    SOUK_LOG(SOUK_LOG_WARN, "publish batch failed count=%zu error=\"%s\"", count,
             souk_strerror(st));
    disconnect(pub);
out:
    free(tags);
    free(settled);
    return st;
}

int64_t souk_publisher_published_at_us(const souk_publisher *pub)
{
    return pub->published_at_us;
}
