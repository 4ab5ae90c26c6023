/* `cipfs daemon`: the node without a mount, in the foreground, until
 * SIGINT or SIGTERM. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "cli_int.h"
#include "err.h"
#include "memtrim.h"
#include "node.h"

/* Was any listen address asked for, and did none come up? */
static bool listen_failed(node_t *n, char **addrs)
{
  const char **want = NULL;
  size_t nwant = 0;

  *addrs = NULL;
  if (cfg_get_strv(n->repo->cfg, "Addresses.Swarm", &want, &nwant) < 0)
    return false;
  free(want);
  if (p2p_host_addrs(node_host(n), addrs) < 0)
    *addrs = NULL;
  return nwant > 0 && (*addrs == NULL || **addrs == '\0');
}

/* Copy the held-back start lines to the real log and stop holding. */
static void show_early(cli_ctx_t *ctx, FILE **early, char **text)
{
  if (*early == NULL)
    return;
  /* The memstream's buffer is only final after fclose. */
  fclose(*early);
  *early = NULL;
  if (*text != NULL)
    fputs(*text, ctx->err);
  fflush(ctx->err);
}

static void print_ready(cli_ctx_t *ctx, node_t *n, char *addrs)
{
  char id[PEERID_MAX_STR], *save = NULL;

  if (peerid_format(p2p_host_id(node_host(n)), id, sizeof(id)) < 0)
    snprintf(id, sizeof(id), "?");
  fprintf(ctx->out, "PeerID: %s\n", id);
  for (char *l = addrs ? strtok_r(addrs, "\n", &save) : NULL; l;
       l = strtok_r(NULL, "\n", &save))
    fprintf(ctx->out, "Swarm listening on %s\n", l);
  fprintf(ctx->out, "Daemon is ready\n");
  fflush(ctx->out);
}

/* Block until SIGINT or SIGTERM. The signals are blocked in every thread
 * the node made (they inherit this thread's mask), so only sigwait sees
 * them. */
static int wait_signal(const sigset_t *set)
{
  int sig = 0;

  while (sigwait(set, &sig) != 0)
    ;
  return sig;
}

int cli_cmd_daemon(cli_ctx_t *ctx, int argc, char **argv)
{
  cli_opt_t opts[] = {{"verbose", 'v', CLI_OPT_BOOL, false, false, NULL}};
  sigset_t set, old;
  importer_opts_t io;
  node_t *node = NULL;
  api_t *api = NULL;
  char *addrs = NULL, *early_text = NULL;
  size_t early_len = 0;
  FILE *early = NULL;
  repo_t *repo;
  int nargs, rc, status = CLI_FAIL;

  rc = cli_parse(ctx, opts, 1, argc, argv, &nargs);
  if (rc != 0)
    return rc;
  if (nargs > 0)
    return cli_usage_fail(ctx, "daemon takes no arguments");
  memtrim_setup(); /* before the repo's first allocations */
  repo = cli_repo(ctx);
  if (repo == NULL)
    return CLI_FAIL;
  if (cli_import_opts(ctx, &io) != 0)
    return CLI_FAIL;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, &old);
  /* Log lines of the start are held back: when it fails, the one error
   * line says why; when it works, they are shown as warnings. */
  early = open_memstream(&early_text, &early_len);
  rc = node_open(&node, repo, &io, ctx->verbose || opts[0].on,
                 early ? early : ctx->err);
  if (rc < 0) {
    show_early(ctx, &early, &early_text);
    cli_fail(ctx, rc, "cannot start the node");
    goto out;
  }
  if (listen_failed(node, &addrs)) {
    cli_fail(ctx, 0, "no address of Addresses.Swarm works: %s",
             node->listen_err);
    goto out;
  }
  pthread_mutex_lock(&node->log_lock);
  node->log = ctx->err;
  pthread_mutex_unlock(&node->log_lock);
  show_early(ctx, &early, &early_text);
  rc = api_start(&api, node, repo->path);
  if (rc < 0) {
    cli_fail(ctx, rc, "cannot start the local API");
    goto out;
  }
  print_ready(ctx, node, addrs);
  int sig = wait_signal(&set);
  node_log(node, "received %s, shutting down",
           sig == SIGINT ? "SIGINT" : "SIGTERM");
  status = CLI_OK;
out:
  free(addrs);
  /* Commands still running through the API finish before the node goes;
   * long ones (ping) see node_closing and end early. A start that failed
   * still logs into the held-back stream while it closes (dials to
   * bootstrap peers it had begun): the one error line already said why. */
  node_begin_close(node);
  api_stop(api);
  node_close(node);
  if (early != NULL)
    fclose(early);
  free(early_text);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  return status;
}
