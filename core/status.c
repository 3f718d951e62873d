/* Texts for the status codes, generated from SOUK_STATUS_MAP. */
#include "core/status.h"

static const char *const status_texts[] = {
#define SOUK_STATUS_TEXT(name, text) text,
    SOUK_STATUS_MAP(SOUK_STATUS_TEXT)
#undef SOUK_STATUS_TEXT
};

static const char *const status_names[] = {
#define SOUK_STATUS_NAME(name, text) #name,
    SOUK_STATUS_MAP(SOUK_STATUS_NAME)
#undef SOUK_STATUS_NAME
};

const char *souk_strerror(souk_status status)
{
    if ((unsigned)status >= SOUK_STATUS_COUNT)
        return "unknown status";
    return status_texts[status];
}

const char *souk_status_name(souk_status status)
{
    if ((unsigned)status >= SOUK_STATUS_COUNT)
        return "UNKNOWN";
    return status_names[status];
}
