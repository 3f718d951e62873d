/* Time: CLOCK_MONOTONIC in seconds for intervals and deadlines (which
 * wall-clock changes cannot move), and the wall clock as ISO 8601. */
#ifndef SOUK_CLOCK_H
#define SOUK_CLOCK_H

#include <stddef.h>

double souk_monotonic_seconds(void);

/* Writes the current UTC time as ISO 8601 with milliseconds. */
void souk_now_iso(char *buf, size_t cap);

#endif
