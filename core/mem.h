/* Allocation wrappers: out-of-memory aborts here, in one place, so service
 * code has no dead-end error paths. Also the always-on assertion. */
#ifndef SOUK_MEM_H
#define SOUK_MEM_H

#include <stddef.h>

void *souk_malloc(size_t size);
void *souk_calloc(size_t count, size_t size);
void *souk_realloc(void *ptr, size_t size);
/* Returns a new copy of s (NULL stays NULL); the caller frees it. */
char *souk_strdup(const char *s);
char *souk_strndup(const char *s, size_t len);
/* printf into a new string the caller frees. */
char *souk_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

_Noreturn void souk_assert_fail(const char *expr, const char *file, int line);

/* Checked in every build type; logs expression, file and line, then aborts. */
#define souk_assert(expr) ((expr) ? (void)0 : souk_assert_fail(#expr, __FILE__, __LINE__))

#endif
