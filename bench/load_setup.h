/* The setup of a souk-load run, through the public API only: the admin
 * logs in, creates the run's products (plus one without stock, for the
 * out-of-stock checkouts) and sets their stock; every customer registers
 * once and keeps the token it gets. Names carry a run id, so runs never
 * collide on one database. */
#ifndef SOUK_LOAD_SETUP_H
#define SOUK_LOAD_SETUP_H

#include "bench/load.h"
#include "bench/load_http.h"

/* Fills w. Returns 0, or -1 after printing why to stderr. */
int load_setup(const struct load_opts *o, load_http *h, struct load_world *w)
    __attribute__((warn_unused_result));

/* Reads every product's stock through the admin's GET /inventory/{id} into
 * the arrays (one entry per product). Returns 0, or -1 when one failed. */
int load_setup_read_stock(load_http *h, const struct load_world *w, long long on_hand[],
                          long long reserved[], long long sold[])
    __attribute__((warn_unused_result));

void load_world_free(struct load_world *w);

#endif
