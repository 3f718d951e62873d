/* UUIDs: random version 4 ids (OpenSSL's RAND_bytes) and their check. */
#include "core/uuid.h"

#include <ctype.h>
#include <openssl/rand.h>
#include <string.h>

#include "core/mem.h"

void souk_uuid_format_v4(unsigned char b[16], char out[37])
{
    static const char hex[] = "0123456789abcdef";
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    /* by hand: a 16-argument snprintf was a visible share of a request */
    char *p = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *p++ = '-';
        *p++ = hex[b[i] >> 4];
        *p++ = hex[b[i] & 15];
    }
    *p = '\0';
}

void souk_uuid_v4(char out[37])
{
    unsigned char b[16];
    souk_assert(RAND_bytes(b, sizeof b) == 1);
    souk_uuid_format_v4(b, out);
}

int souk_uuid_valid(const char *text)
{
    if (!text || strlen(text) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-')
                return 0;
        } else if (!isxdigit((unsigned char)text[i])) {
            return 0;
        }
    }
    return 1;
}
