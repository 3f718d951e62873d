/* The browser console's built files (web/, built by Vite into the web/
 * folder of the build tree, or SOUK_WEB_DIR), read into memory once at
 * start and served from there, so a request costs a lookup and a write
 * and no path from a request ever reaches the file system:
 *   index.html       for / and every console page (/shop/..., /console/...): the
 *                    console's router picks the page (history fallback);
 *                    revalidated on each visit (ETag, 304)
 *   docs/index.html  for /docs (Swagger UI over /openapi.json)
 *   assets/<name>    content-hashed by Vite: cached for a year, immutable
 * The routes are the route table's (routes.c), marked as the console's,
 * so the dispatcher's access, rate limit and error contract apply to them
 * as to every route: a missing file answers the JSON 404. */
#ifndef SOUK_GATEWAY_STATIC_H
#define SOUK_GATEWAY_STATIC_H

#include <stddef.h>

#include "gateway/http.h"

typedef struct souk_static souk_static;

/* Reads every regular file below dir (NULL or "": the web/ folder beside
 * the folder of the running program, as ./souk build lays the build tree
 * out). Returns the set, empty (every console route answers 404, the API
 * is unaffected) when dir holds no index.html; the reason is logged. */
souk_static *souk_static_load(const char *dir) __attribute__((warn_unused_result));

void souk_static_free(souk_static *files);

/* The number of files loaded. */
int souk_static_count(const souk_static *files);

/* Route handlers (req->gw->web is the set). */
void souk_static_console(souk_request *req); /* GET /, /shop/..., /console/... */
void souk_static_asset(souk_request *req);   /* GET /assets/:file */
void souk_static_docs(souk_request *req);    /* GET /docs */

#endif
