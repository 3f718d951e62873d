#include "core/hash.h"

#include <string.h>

uint64_t souk_hash_bytes(const void *bytes, size_t len)
{
    uint64_t h = UINT64_C(14695981039346656037);
    for (const unsigned char *p = bytes, *end = p + len; p < end; p++)
        h = (h ^ *p) * UINT64_C(1099511628211);
    return h;
}

uint64_t souk_hash_text(const char *text)
{
    return souk_hash_bytes(text, strlen(text));
}
