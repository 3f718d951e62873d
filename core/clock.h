/* Time: CLOCK_MONOTONIC in seconds for intervals and deadlines (which
 * wall-clock changes cannot move), and the wall clock as ISO 8601. */
#ifndef SOUK_CLOCK_H
#define SOUK_CLOCK_H

#include <stddef.h>
#include <stdint.h>

double souk_monotonic_seconds(void);

/* The wall clock in microseconds since the epoch, for times recorded with
 * events (the journal's hops) and compared across processes. */
int64_t souk_wall_us(void);

/* Writes the current UTC time as ISO 8601 with milliseconds. */
void souk_now_iso(char *buf, size_t cap);

#endif
