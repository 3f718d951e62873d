/* Time for measuring intervals and deadlines: CLOCK_MONOTONIC in seconds,
 * which wall-clock changes cannot move. */
#ifndef SOUK_CLOCK_H
#define SOUK_CLOCK_H

double souk_monotonic_seconds(void);

#endif
