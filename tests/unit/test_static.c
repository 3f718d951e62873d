/* Reading the browser console's build into memory (gateway/static.h): every
 * regular file below the folder, hidden files left out, nothing at all
 * when the folder holds no index.html (the console is not built). Serving
 * the files runs in tests/e2e/test_console.c. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gateway/static.h"

static char root[64];

static void put(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", root, name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "%s", path);
    fputs(text, f);
    fclose(f);
}

static void make_root(void)
{
    snprintf(root, sizeof root, "/tmp/souk-static-XXXXXX");
    cr_assert_not_null(mkdtemp(root));
    char sub[128];
    snprintf(sub, sizeof sub, "%s/assets", root);
    cr_assert_eq(mkdir(sub, 0755), 0);
    snprintf(sub, sizeof sub, "%s/docs", root);
    cr_assert_eq(mkdir(sub, 0755), 0);
}

static void remove_root(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(static_files, .init = make_root, .fini = remove_root);

Test(static_files, reads_every_file_of_the_build_but_hidden_ones)
{
    put("index.html", "<!doctype html><title>Souk</title>");
    put("docs/index.html", "<!doctype html><title>Docs</title>");
    put("assets/console-1a2b.js", "console.log(1)");
    put("assets/console-1a2b.css", "body{}");
    put(".souk-inputs", "hash of the last build's inputs");
    put("assets/.hidden", "x");
    souk_static *files = souk_static_load(root);
    cr_assert_eq(souk_static_count(files), 4);
    souk_static_free(files);
}

Test(static_files, a_folder_without_index_html_is_an_unbuilt_console)
{
    put("assets/console-1a2b.js", "console.log(1)");
    souk_static *files = souk_static_load(root);
    cr_assert_not_null(files, "the gateway starts without a console");
    cr_assert_eq(souk_static_count(files), 0);
    souk_static_free(files);
}

Test(static_files, a_missing_folder_is_an_unbuilt_console)
{
    souk_static *files = souk_static_load("/nonexistent/souk/web");
    cr_assert_eq(souk_static_count(files), 0);
    souk_static_free(files);
}
