/* The notification service's handlers and per-thread SMTP client. */
#ifndef SOUK_WORKERS_NOTIFICATION_H
#define SOUK_WORKERS_NOTIFICATION_H

#include "workers/handler.h"

/* Fills in the notification service's handlers (OrderCompleted,
 * OrderCancelled). */
void souk_notification_handlers(souk_handler_fn handlers[SOUK_EVENT_COUNT]);

/* Per consumer thread state: an SMTP client (a libcurl handle) when
 * SOUK_SMTP_URL is set, else NULL (notifications are only logged). Also
 * NULL when the handle cannot be created or SOUK_SMTP_FROM is unusable; the
 * handlers then answer RETRY for every message that should be e-mailed.
 * The state is freed with souk_notification_thread_free (NULL is fine). */
void *souk_notification_thread_init(const souk_config *cfg);
void souk_notification_thread_free(void *state);

#endif
