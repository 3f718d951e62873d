/* UUIDs: message ids, order ids, request ids. */
#ifndef SOUK_UUID_H
#define SOUK_UUID_H

/* Writes the 16 random bytes b as a version 4 UUID (setting its version
 * and variant bits in b) into out. */
void souk_uuid_format_v4(unsigned char b[16], char out[37]);

/* Writes a new random (version 4) UUID, 36 characters plus NUL. */
void souk_uuid_v4(char out[37]);

/* True when text is a canonical UUID. */
int souk_uuid_valid(const char *text);

#endif
