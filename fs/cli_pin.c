/* pin add/rm/ls, repo gc, dag export/import. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "car.h"
#include "cli_int.h"
#include "dag.h"
#include "err.h"
#include "node.h"
#include "pin.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

int cli_pin_recursive(cli_ctx_t *ctx, const cid_t *root)
{
  char s[CID_MAX_STR];
  cli_getter_t cg;
  repo_t *r = ctx->repo;
  int rc;
  cli_getter_init(&cg, ctx);
  rc = pin_add(r->kv, r->bs, &cg.g, root, true);
  if (rc == 0)
    cli_log(ctx, "pinned %s recursively", cli_cid_str(root, s));
  return rc;
}

int cli_pin_check(cli_ctx_t *ctx, const cid_t *cid, char *why, size_t cap)
{
  char s[CID_MAX_STR];
  repo_t *r = ctx->repo;
  int type = 0, rc;
  cid_t via;

  why[0] = '\0';
  rc = pin_check(r->kv, r->bs, cid, true, &type, &via);
  if (rc < 0)
    return rc;
  if (type == PIN_INDIRECT)
    snprintf(why, cap, "pinned via %s", cli_cid_str(&via, s));
  else if (type)
    snprintf(why, cap, "pinned: %s", pin_type_name(type));
  return 0;
}

/* ---- pin add / rm ------------------------------------------------------ */

/* Blocks asked of the node's fetcher at once while fetching a DAG. */
#define FETCH_WINDOW 32

/*
 * Inside a running node, bring the whole DAG under root into the
 * blockstore before pinning it: level by level, FETCH_WINDOW blocks in
 * flight (the fetcher's prefetch asks the network for all of them at
 * once), instead of one round trip per block in the pin's own walk.
 * Fetched blocks are verified and stored by the fetcher. 0 or the first
 * error (the pin's walk then names the block).
 */
static int fetch_dag(cli_ctx_t *ctx, const cid_t *root)
{
  node_t *n = ctx->node;
  cid_list_t level = {NULL, 0, 0}, next = {NULL, 0, 0};
  cli_progress_t prog;
  uint64_t blocks = 0;
  int rc = cid_list_push(&level, root);

  cli_progress_init(&prog, ctx, "fetching blocks", 0);
  while (rc == 0 && level.n > 0) {
    for (size_t i = 0; rc == 0 && i < level.n; i++) {
      uint8_t *data;
      size_t len;
      if (i % FETCH_WINDOW == 0 && n->get.prefetch != NULL)
        n->get.prefetch(n->get.arg, level.v + i,
                        level.n - i < FETCH_WINDOW ? level.n - i
                                                   : FETCH_WINDOW);
      rc = fetch_get(n->fetch, &level.v[i], &data, &len);
      if (rc == 0) {
        rc = dag_links(&level.v[i], data, len, cid_list_push, &next);
        free(data);
        cli_progress_update(&prog, ++blocks);
      }
    }
    cid_list_t t = level;
    level = next;
    next = t;
    next.n = 0;
  }
  cli_progress_finish(&prog);
  free(level.v);
  free(next.v);
  return rc;
}

int cli_cmd_pin_add(cli_ctx_t *ctx, int argc, char **argv)
{
  cli_opt_t opts[] = {
      {"recursive", 'r', CLI_OPT_BOOL, false, false, NULL},
      {"progress", 0, CLI_OPT_BOOL, false, false, NULL},
  };
  char s[CID_MAX_STR];
  cli_getter_t cg;
  bool recursive;
  cid_t cid;
  int n, rc;

  rc = cli_parse(ctx, opts, ARRAY_SIZE(opts), argc, argv, &n);
  if (rc != 0)
    return rc;
  if (n < 1)
    return cli_usage_fail(ctx, "pin add needs a path");
  recursive = !opts[0].set || opts[0].on;
  if (cli_repo(ctx) == NULL)
    return CLI_FAIL;
  cli_getter_init(&cg, ctx);
  for (int i = 0; i < n; i++) {
    rc = cli_resolve(ctx, &cg, argv[i], &cid);
    if (rc != 0)
      return rc;
    repo_gc_lock_shared(ctx->repo);
    if (recursive && ctx->node != NULL)
      fetch_dag(ctx, &cid); /* a failure shows in pin_add's walk */
    rc = pin_add(ctx->repo->kv, ctx->repo->bs, &cg.g, &cid, recursive);
    repo_gc_unlock(ctx->repo);
    if (rc == CIPFS_EPINNED)
      return cli_fail(ctx, 0, "pin: %s already pinned recursively",
                      cli_cid_str(&cid, s));
    if (rc < 0)
      return cli_read_fail(ctx, &cg, rc, "pin");
    fprintf(ctx->out, "pinned %s %s\n", cli_cid_str(&cid, s),
            recursive ? "recursively" : "directly");
  }
  return CLI_OK;
}

int cli_cmd_pin_rm(cli_ctx_t *ctx, int argc, char **argv)
{
  cli_opt_t opts[] = {
      {"recursive", 'r', CLI_OPT_BOOL, false, false, NULL},
  };
  char s[CID_MAX_STR];
  cli_getter_t cg;
  bool recursive;
  cid_t cid;
  int n, rc;

  rc = cli_parse(ctx, opts, ARRAY_SIZE(opts), argc, argv, &n);
  if (rc != 0)
    return rc;
  if (n < 1)
    return cli_usage_fail(ctx, "pin rm needs a path");
  recursive = !opts[0].set || opts[0].on;
  if (cli_repo(ctx) == NULL)
    return CLI_FAIL;
  cli_getter_init(&cg, ctx);
  for (int i = 0; i < n; i++) {
    rc = cli_resolve(ctx, &cg, argv[i], &cid);
    if (rc != 0)
      return rc;
    rc = pin_rm(ctx->repo->kv, &cid, recursive);
    if (rc == CIPFS_ENOTPINNED)
      return cli_fail(ctx, 0, "%s is not pinned or pinned indirectly", argv[i]);
    if (rc == CIPFS_EPINNED)
      return cli_fail(ctx, 0, "%s is pinned recursively", argv[i]);
    if (rc < 0)
      return cli_fail(ctx, rc, "unpinning %s", argv[i]);
    fprintf(ctx->out, "unpinned %s\n", cli_cid_str(&cid, s));
  }
  return CLI_OK;
}

/* ---- pin ls ------------------------------------------------------------ */

typedef struct pin_ls_s {
  cli_ctx_t *ctx;
  bool quiet;
} pin_ls_t;

static int pin_ls_cb_print(void *arg, const cid_t *cid, int type)
{
  pin_ls_t *l = arg;
  char s[CID_MAX_STR];
  if (l->quiet)
    fprintf(l->ctx->out, "%s\n", cli_cid_str(cid, s));
  else
    fprintf(l->ctx->out, "%s %s\n", cli_cid_str(cid, s), pin_type_name(type));
  return 0;
}

/* "pin ls CID...": the pin type of each, kubo's wording. */
static int pin_ls_args(cli_ctx_t *ctx, int n, char **argv, int types,
                       bool quiet)
{
  char s[CID_MAX_STR], v[CID_MAX_STR];
  cli_getter_t cg;
  int type, rc;
  cid_t cid, via;

  cli_getter_init(&cg, ctx);
  for (int i = 0; i < n; i++) {
    rc = cli_resolve(ctx, &cg, argv[i], &cid);
    if (rc != 0)
      return rc;
    rc = pin_check(ctx->repo->kv, ctx->repo->bs, &cid,
                   (types & PIN_INDIRECT) != 0, &type, &via);
    if (rc < 0)
      return cli_fail(ctx, rc, "checking %s", argv[i]);
    if ((type & types) == 0)
      return cli_fail(ctx, 0, "path '%s' is not pinned", argv[i]);
    cli_cid_str(&cid, s);
    if (quiet)
      fprintf(ctx->out, "%s\n", s);
    else if (type == PIN_INDIRECT)
      fprintf(ctx->out, "%s indirect through %s\n", s, cli_cid_str(&via, v));
    else
      fprintf(ctx->out, "%s %s\n", s, pin_type_name(type));
  }
  return CLI_OK;
}

int cli_cmd_pin_ls(cli_ctx_t *ctx, int argc, char **argv)
{
  cli_opt_t opts[] = {
      {"type", 't', CLI_OPT_VALUE, false, false, NULL},
      {"quiet", 'q', CLI_OPT_BOOL, false, false, NULL},
  };
  pin_ls_t l;
  int n, rc, types = PIN_ALL;

  rc = cli_parse(ctx, opts, ARRAY_SIZE(opts), argc, argv, &n);
  if (rc != 0)
    return rc;
  if (opts[0].set && pin_types_from_name(opts[0].value, &types) < 0)
    return cli_usage_fail(ctx,
                          "invalid type '%s' (direct, indirect, recursive "
                          "or all)",
                          opts[0].value);
  if (cli_repo(ctx) == NULL)
    return CLI_FAIL;
  if (n > 0)
    return pin_ls_args(ctx, n, argv, types, opts[1].on);
  l.ctx = ctx;
  l.quiet = opts[1].on;
  rc = pin_ls(ctx->repo->kv, ctx->repo->bs, types, pin_ls_cb_print, &l);
  if (rc < 0)
    return cli_fail(ctx, rc, "listing pins");
  return CLI_OK;
}

/* ---- repo gc ----------------------------------------------------------- */

typedef struct gc_print_s {
  cli_ctx_t *ctx;
  bool quiet;
} gc_print_t;

static int gc_removed(void *arg, const cid_t *cid, size_t size)
{
  gc_print_t *g = arg;
  char s[CID_MAX_STR];
  if (!g->quiet)
    fprintf(g->ctx->out, "removed %s\n", cli_cid_str(cid, s));
  return 0;
}

int cli_cmd_repo_gc(cli_ctx_t *ctx, int argc, char **argv)
{
  cli_opt_t opts[] = {
      {"quiet", 'q', CLI_OPT_BOOL, false, false, NULL},
      {"stream-errors", 0, CLI_OPT_BOOL, false, false, NULL},
  };
  gc_print_t g;
  gc_stats_t st;
  int n, rc;

  rc = cli_parse(ctx, opts, ARRAY_SIZE(opts), argc, argv, &n);
  if (rc != 0)
    return rc;
  if (n != 0)
    return cli_usage_fail(ctx, "repo gc takes no arguments");
  if (cli_repo(ctx) == NULL)
    return CLI_FAIL;
  g.ctx = ctx;
  g.quiet = opts[0].on;
  /* No add, pin or publish is between storing blocks and recording them
   * while GC runs (they hold the lock shared). Files being copied into the
   * mount keep what they wrote so far as extra roots. */
  rc = repo_gc_lock_exclusive(ctx->repo);
  if (rc == 0) {
    cid_t *roots = NULL;
    size_t nroots = 0;
    rc = repo_gc_extra_roots(ctx->repo, &roots, &nroots);
    if (rc == 0)
      rc = gc_run_roots(ctx->repo->kv, ctx->repo->bs, roots, nroots, gc_removed,
                        &g, &st);
    free(roots);
    repo_gc_unlock(ctx->repo);
  }
  if (rc < 0)
    return cli_fail(ctx, rc, "garbage collection");
  return CLI_OK;
}

/* ---- dag export / import ----------------------------------------------- */

int cli_cmd_dag_export(cli_ctx_t *ctx, int argc, char **argv)
{
  cli_opt_t opts[] = {
      {"progress", 'p', CLI_OPT_BOOL, false, false, NULL},
  };
  cli_getter_t cg;
  uint8_t *data = NULL;
  size_t len;
  cid_t cid;
  int n, rc;

  rc = cli_parse(ctx, opts, ARRAY_SIZE(opts), argc, argv, &n);
  if (rc != 0)
    return rc;
  if (n != 1)
    return cli_usage_fail(ctx, "dag export needs one CID or path");
  if (isatty(fileno(ctx->out)))
    return cli_fail(ctx, 0,
                    "dag export writes binary CAR data: redirect it to a "
                    "file or a pipe ('cipfs dag export CID > out.car')");
  if (cli_repo(ctx) == NULL)
    return CLI_FAIL;
  cli_getter_init(&cg, ctx);
  rc = cli_resolve(ctx, &cg, argv[0], &cid);
  if (rc != 0)
    return rc;
  /* Check the root before the header goes out: a missing root gives an
   * error and no output at all. */
  rc = block_get(&cg.g, &cid, &data, &len);
  free(data);
  if (rc < 0)
    return cli_read_fail(ctx, &cg, rc, argv[0]);
  fflush(ctx->out);
  rc = car_export(&cg.g, &cid, fileno(ctx->out));
  if (rc < 0 && cg.err)
    return cli_read_fail(ctx, &cg, rc, argv[0]);
  if (rc < 0)
    return cli_fail(ctx, rc, "writing CAR");
  return CLI_OK;
}

/* One CAR: its verified blocks through a batch, then its roots pinned. A
 * CAR that fails half-way leaves only verified, unpinned blocks behind
 * (committed in earlier batches), which GC removes. */
static int import_one(cli_ctx_t *ctx, int fd, const char *name, bool pin,
                      uint64_t stats[2])
{
  char s[CID_MAX_STR];
  car_import_result_t res;
  cli_batch_t b;
  block_putter_t p;
  int rc;

  memset(&res, 0, sizeof(res));
  cli_batch_init(&b, ctx->repo->bs);
  cli_batch_putter(&b, &p);
  b.log = ctx;
  /* Held until the roots are pinned: GC must not take the blocks first. */
  repo_gc_lock_shared(ctx->repo);
  rc = car_import(fd, &p, NULL, NULL, &res);
  if (rc == 0)
    rc = cli_batch_flush(&b);
  if (rc == 0) {
    stats[0] += res.nblocks;
    stats[1] += res.bytes;
    cli_log(ctx, "imported %llu blocks from %s",
            (unsigned long long)res.nblocks, name);
  }
  cli_batch_cleanup(&b);
  if (rc < 0) {
    repo_gc_unlock(ctx->repo);
    car_import_result_cleanup(&res);
    return cli_fail(ctx, rc, "importing %s", name);
  }
  for (size_t i = 0; pin && i < res.nroots; i++) {
    rc = cli_pin_recursive(ctx, &res.roots[i]);
    if (rc < 0) {
      rc = cli_fail(ctx, rc, "%s: pinning root %s", name,
                    cli_cid_str(&res.roots[i], s));
      break;
    }
    fprintf(ctx->out, "Pinned root\t%s\tsuccess\n",
            cli_cid_str(&res.roots[i], s));
    rc = 0;
  }
  repo_gc_unlock(ctx->repo);
  car_import_result_cleanup(&res);
  return rc < 0 ? CLI_FAIL : rc;
}

int cli_cmd_dag_import(cli_ctx_t *ctx, int argc, char **argv)
{
  cli_opt_t opts[] = {
      {"pin-roots", 0, CLI_OPT_BOOL, false, false, NULL},
      {"stats", 0, CLI_OPT_BOOL, false, false, NULL},
  };
  uint64_t stats[2] = {0, 0}; /* blocks, bytes */
  static char *stdin_arg[] = {"-"};
  bool pin;
  int n, rc;

  rc = cli_parse(ctx, opts, ARRAY_SIZE(opts), argc, argv, &n);
  if (rc != 0)
    return rc;
  pin = !opts[0].set || opts[0].on;
  if (cli_repo(ctx) == NULL)
    return CLI_FAIL;
  if (n == 0) {
    argv = stdin_arg;
    n = 1;
  }
  for (int i = 0; i < n; i++) {
    bool is_stdin = strcmp(argv[i], "-") == 0;
    char *abs = is_stdin ? NULL : cli_abspath(ctx, argv[i]);
    int fd = is_stdin ? ctx->in_fd : -1;
    if (!is_stdin && abs)
      fd = open(abs, O_RDONLY | O_CLOEXEC);
    free(abs);
    if (fd < 0)
      return cli_fail(ctx, -errno, "%s", argv[i]);
    rc = import_one(ctx, fd, is_stdin ? "stdin" : argv[i], pin, stats);
    if (!is_stdin)
      close(fd);
    if (rc != 0)
      return rc;
  }
  /* kubo's --stats line. */
  if (opts[1].on)
    fprintf(ctx->out, "Imported %llu blocks (%llu bytes)\n",
            (unsigned long long)stats[0], (unsigned long long)stats[1]);
  return CLI_OK;
}
