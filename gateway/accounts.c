/* Account endpoints over the identity schema. */
#include "gateway/accounts.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/db.h"
#include "core/log.h"
#include "core/uuid.h"
#include "events/envelope.h"
#include "gateway/password.h"

static json_object *token_answer(souk_request *req, const char *id, const char *email,
                                 const char *name, const char *role)
{
    long ttl = souk_config_int(req->gw->cfg, SOUK_CFG_JWT_TTL_S);
    char *token = souk_jwt_issue(req->gw->jwt, souk_config_str(req->gw->cfg, SOUK_CFG_JWT_ISSUER),
                                 id, role, ttl, (long)time(NULL));
    if (!token)
        return NULL;
    json_object *body = json_object_new_object();
    json_object *account = json_object_new_object();
    json_object_object_add(account, "id", json_object_new_string(id));
    json_object_object_add(account, "email", json_object_new_string(email));
    json_object_object_add(account, "name", json_object_new_string(name));
    json_object_object_add(account, "role", json_object_new_string(role));
    json_object_object_add(body, "account", account);
    json_object_object_add(body, "access_token", json_object_new_string(token));
    json_object_object_add(body, "token_type", json_object_new_string("Bearer"));
    json_object_object_add(body, "expires_in", json_object_new_int64(ttl));
    free(token);
    return body;
}

static souk_status create_account(souk_gateway *gw, PGconn *db, const char *id, const char *email,
                                  const char *name, const char *role, const char *password)
{
    char hash[SOUK_PASSWORD_HASH_MAX];
    souk_status st = souk_password_hash(
        password, (int)souk_config_int(gw->cfg, SOUK_CFG_PASSWORD_ITERATIONS), hash, sizeof hash);
    if (st != SOUK_OK)
        return st;
    const char *params[5] = {id, email, name, role, hash};
    PGresult *res = PQexecParams(db,
                                 "INSERT INTO accounts (id, email, name, role, password_hash) "
                                 "VALUES ($1, lower($2), $3, $4, $5)",
                                 5, NULL, params, NULL, NULL, 0);
    st = souk_db_result_status(db, res);
    PQclear(res);
    return st;
}

void souk_accounts_register(souk_request *req)
{
    json_object *doc = req->body;
    PGconn *db = souk_http_db(req, req->gw->identity, "identity database");
    if (!db)
        return;
    souk_status st;
    char id[37];
    souk_uuid_v4(id);
    st = create_account(req->gw, db, id, souk_http_json_text(doc, "email"),
                        souk_http_json_text(doc, "name"), "customer",
                        souk_http_json_text(doc, "password"));
    souk_dbpool_release(req->gw->identity, db);
    if (st == SOUK_ECONFLICT) {
        souk_http_fail(req, 409, "EMAIL_TAKEN", "an account with this email already exists", NULL);
    } else if (st != SOUK_OK) {
        souk_http_fail_status(req, "creating an account", st);
    } else {
        char email[321];
        snprintf(email, sizeof email, "%s", souk_http_json_text(doc, "email"));
        for (char *p = email; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        json_object *body =
            token_answer(req, id, email, souk_http_json_text(doc, "name"), "customer");
        if (!body) {
            souk_http_internal(req, "issuing a token", SOUK_EIO);
        } else {
            char location[64];
            snprintf(location, sizeof location, "/auth/me");
            souk_http_add_header(req, "Location", location);
            souk_http_respond(req, 201, body);
            json_object_put(body);
            SOUK_LOG(SOUK_LOG_INFO, "account registered request_id=%s account_id=%s",
                     req->request_id, id);
        }
    }
}

void souk_accounts_login(souk_request *req)
{
    json_object *doc = req->body;
    PGconn *db = souk_http_db(req, req->gw->identity, "identity database");
    if (!db)
        return;
    souk_status st;
    const char *params[1] = {souk_http_json_text(doc, "email")};
    PGresult *res = PQexecParams(
        db, "SELECT id, email, name, role, password_hash FROM accounts WHERE email = lower($1)", 1,
        NULL, params, NULL, NULL, 0);
    st = souk_db_result_status(db, res);
    if (st != SOUK_OK) {
        souk_http_fail_status(req, "reading an account", st);
    } else {
        int found = PQntuples(res) == 1;
        /* Without an account, check against a fixed hash anyway so the
         * answer takes as long as for a wrong password. */
        static const char *const dummy = "pbkdf2-sha256$60000$AAAAAAAAAAAAAAAAAAAAAA==$"
                                         "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
        int ok = souk_password_verify(souk_http_json_text(doc, "password"),
                                      found ? PQgetvalue(res, 0, 4) : dummy) &&
                 found;
        if (!ok) {
            souk_http_add_header(req, "WWW-Authenticate", "Bearer realm=\"souk\"");
            souk_http_fail(req, 401, "INVALID_CREDENTIALS", "wrong email or password", NULL);
        } else {
            json_object *body = token_answer(req, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1),
                                             PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 3));
            if (body) {
                souk_http_respond(req, 200, body);
                json_object_put(body);
            } else {
                souk_http_internal(req, "issuing a token", SOUK_EIO);
            }
        }
    }
    PQclear(res);
    souk_dbpool_release(req->gw->identity, db);
}

void souk_accounts_me(souk_request *req)
{
    PGconn *db = souk_http_db(req, req->gw->identity, "identity database");
    if (!db)
        return;
    souk_status st;
    const char *params[1] = {req->claims.sub};
    PGresult *res =
        PQexecParams(db,
                     "SELECT id, email, name, role, to_char(created_at AT TIME ZONE 'UTC', "
                     "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM accounts WHERE id = $1::uuid",
                     1, NULL, params, NULL, NULL, 0);
    st = souk_db_result_status(db, res);
    if (st != SOUK_OK) {
        souk_http_fail_status(req, "reading an account", st);
    } else if (PQntuples(res) != 1) {
        snprintf(req->auth_error, sizeof req->auth_error, "account no longer exists");
        req->authenticated = 0;
        souk_http_unauthorized(req);
    } else {
        json_object *body = json_object_new_object();
        json_object_object_add(body, "id", json_object_new_string(PQgetvalue(res, 0, 0)));
        json_object_object_add(body, "email", json_object_new_string(PQgetvalue(res, 0, 1)));
        json_object_object_add(body, "name", json_object_new_string(PQgetvalue(res, 0, 2)));
        json_object_object_add(body, "role", json_object_new_string(PQgetvalue(res, 0, 3)));
        json_object_object_add(body, "created_at", json_object_new_string(PQgetvalue(res, 0, 4)));
        souk_http_respond(req, 200, body);
        json_object_put(body);
    }
    PQclear(res);
    souk_dbpool_release(req->gw->identity, db);
}

souk_status souk_accounts_ensure_admin(souk_gateway *gw)
{
    souk_status st;
    PGconn *db = souk_dbpool_acquire(gw->identity, &st);
    if (!db)
        return st;
    const char *email = souk_config_str(gw->cfg, SOUK_CFG_ADMIN_EMAIL);
    const char *params[1] = {email};
    PGresult *res = PQexecParams(db, "SELECT 1 FROM accounts WHERE email = lower($1)", 1, NULL,
                                 params, NULL, NULL, 0);
    st = souk_db_result_status(db, res);
    int exists = st == SOUK_OK && PQntuples(res) == 1;
    PQclear(res);
    if (st == SOUK_OK && !exists) {
        char id[37];
        souk_uuid_v4(id);
        st = create_account(gw, db, id, email, "Administrator", "admin",
                            souk_config_str(gw->cfg, SOUK_CFG_ADMIN_PASSWORD));
        if (st == SOUK_ECONFLICT)
            st = SOUK_OK; /* another gateway process made it first */
        else if (st == SOUK_OK)
            SOUK_LOG(SOUK_LOG_INFO, "created the first admin email=%s", email);
    }
    souk_dbpool_release(gw->identity, db);
    return st;
}
