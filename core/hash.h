/* A fast hash of short strings (ids) for in-memory tables whose keys come
 * from the project itself (FNV-1a). Not for keys clients choose freely:
 * those need a keyed hash (see gateway/ratelimit.c). */
#ifndef SOUK_HASH_H
#define SOUK_HASH_H

#include <stdint.h>

#include <stddef.h>

uint64_t souk_hash_text(const char *text);

/* The same over len bytes (content of files, answers). */
uint64_t souk_hash_bytes(const void *bytes, size_t len);

#endif
