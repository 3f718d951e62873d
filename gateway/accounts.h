/* Accounts and authentication: register, log in, who am I. Accounts live in
 * the identity schema; passwords are PBKDF2 hashes; tokens are JWTs. */
#ifndef SOUK_GATEWAY_ACCOUNTS_H
#define SOUK_GATEWAY_ACCOUNTS_H

#include "gateway/http.h"

void souk_accounts_register(souk_request *req); /* POST /auth/register */
void souk_accounts_login(souk_request *req);    /* POST /auth/login */
void souk_accounts_me(souk_request *req);       /* GET /auth/me */

/* Creates the admin named by SOUK_ADMIN_EMAIL/PASSWORD when missing. */
souk_status souk_accounts_ensure_admin(souk_gateway *gw) __attribute__((warn_unused_result));

#endif
