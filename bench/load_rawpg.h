/* The raw PostgreSQL transaction rate of this machine, for comparison with
 * what the saga gets out of it: several connections, each running
 * BEGIN; INSERT inbox; UPDATE; INSERT outbox; COMMIT (synchronous commit,
 * the shape of one consumer step) against a scratch schema, dropped after. */
#ifndef SOUK_LOAD_RAWPG_H
#define SOUK_LOAD_RAWPG_H

#include <stddef.h>

/* Transactions per second over `connections` connections for `seconds`, or
 * -1 with err set. conninfo must be allowed to create a schema. */
double load_rawpg_rate(const char *conninfo, int connections, double seconds, char *err,
                       size_t errlen) __attribute__((warn_unused_result));

#endif
