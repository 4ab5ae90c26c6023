#ifndef CIPFS_NODE_H
#define CIPFS_NODE_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "block.h"
#include "cfg.h"
#include "fetch.h"
#include "importer.h"
#include "mfs.h"
#include "p2p.h"
#include "repo.h"

/*
 * The running node behind `cipfs mount` and `cipfs daemon`: the repo (one
 * LevelDB handle, so one process), the published tree, the block fetcher,
 * a thread that folds changes of the published tree into directory CIDs
 * shortly after they happen, and the libp2p host with the services that
 * live on it (node_services[]). CLI commands forwarded over the local API
 * run against it.
 */
typedef struct node_svc_s node_svc_t;
typedef struct node_s {
  repo_t *repo; /* not owned */
  mfs_t *mfs;
  fetch_t *fetch;
  block_getter_t get;       /* blockstore, then remote, with prefetch */
  block_getter_t get_local; /* blockstore only */
  block_putter_t put;
  importer_opts_t iopts; /* the repo's Import config, as `cipfs add` */
  cid_t empty_file;
  uint64_t empty_file_tsize;
  char *staging; /* <repo>/staging: files being written, unlinked */
  bool verbose;
  FILE *log;
  pthread_mutex_t log_lock;
  pthread_mutex_t flock;
  pthread_cond_t fcond;
  bool stop;
  bool flusher_started;
  pthread_t flusher;
  /* Called from the flusher when the node has been idle a while, to drop
   * caches (the mount's read buffers); under flock; may be NULL. */
  void (*on_idle)(void *arg);
  void *on_idle_arg;
  /* fs/node_net.c */
  p2p_host_t *host;
  node_svc_t *svcs; /* running services, newest first */
  pthread_mutex_t svc_lock;
  bool net_started;
  bool host_started;    /* p2p_host_start succeeded */
  char listen_err[256]; /* the first listen failure, or "" */
  bool closing;         /* node_begin_close (atomic access) */
  /* Files being imported while they are written (fs/fsops_w.c): their
   * blocks are referenced by nothing else yet, so GC keeps what they wrote
   * as extra roots. Changed under the repo's shared GC lock, read under
   * the exclusive one. */
  struct importer_file_s **streams;
  size_t nstreams, cap_streams;
  pthread_mutex_t stream_lock;
} node_t;

/* Cipfs.FetchTimeout: milliseconds as a number, or a duration string
 * ("30s", "500ms", "2m"). Default 30 s. */
unsigned node_fetch_timeout_ms(const cfg_t *cfg);

/* repo stays the caller's and must outlive the node; iopts are the repo's
 * Import config (cli_import_opts), so published files get the CIDs `cipfs
 * add` gives. Cleans staging leftovers of a crashed node and starts the
 * flusher. */
int node_open(node_t **out, repo_t *repo, const importer_opts_t *iopts,
              bool verbose, FILE *log);
/* Stops the flusher, flushes the published tree. Accepts NULL. */
void node_close(node_t *n);
/* One line to the log, always / only with -v. */
void node_log(node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void node_debug(node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Install the idle hook (see on_idle); fn may be NULL. */
void node_set_idle_hook(node_t *n, void (*fn)(void *), void *arg);
/* A changed published tree: the flusher will rebuild it soon. */
void node_tree_changed(node_t *n);
/* An anonymous (already unlinked) file in the staging directory. */
int node_stage_fd(node_t *n, int *fd);
/* An import that runs across calls (a file streamed in) starts or ends:
 * while it runs GC keeps every block it wrote. Call with the repo's GC
 * lock held shared. */
int node_stream_begin(node_t *n, struct importer_file_s *imp);
void node_stream_end(node_t *n, struct importer_file_s *imp);
/* Import fd's whole content as `cipfs add` would. */
int node_import_fd(node_t *n, int fd, cid_t *cid, uint64_t *size,
                   uint64_t *tsize);

/* ---- the host and its services (fs/node_net.c) ---- */

/*
 * A service living on the node's host (bitswap, the DHT ...). The node
 * starts every entry of node_services[] in order after the host is made
 * and before it listens, and stops them in reverse order when it closes.
 *
 * start: runs on the opening thread before the host listens, so it may
 *   call p2p_handle() directly (identify lists the protocol from the first
 *   connection); other loop work goes through p2p_host_call(), which runs
 *   once the host starts. Sets *state (the service's own, may be NULL).
 *   A negative return fails node_open.
 * stop (optional): the host still runs; cancel work, unregister handlers
 *   (through p2p_host_call), wake waiting threads. Runs on a non-loop
 *   thread.
 * release (optional): the host is gone (no more callbacks): free state.
 */
typedef struct node_service_s {
  const char *name;
  int (*start)(node_t *n, void **state);
  void (*stop)(node_t *n, void *state);
  void (*release)(node_t *n, void *state);
} node_service_t;

/* The built-in services, ending with a zeroed entry (fs/node_services.c:
 * one line per service). */
extern const node_service_t node_services[];

/* The node's libp2p host (never NULL on an open node). The host's own
 * rules hold: loop-thread functions only through p2p_host_call(). */
p2p_host_t *node_host(node_t *n);
/* The state a running service's start gave, or NULL when no service of
 * that name runs. */
void *node_service(node_t *n, const char *name);
/* Start one more service on a running node (after node_open: the host is
 * listening already, so start must use p2p_host_call for loop work).
 * svc must outlive the node or its detach. -EEXIST when one of that name
 * runs; start's error otherwise. */
int node_service_attach(node_t *n, const node_service_t *svc);
/* Stop and release the named service (no-op when none runs). The host
 * keeps running, so stop must leave no callback of the service pending:
 * release follows at once. Attach and detach send identify push to
 * connected peers. */
void node_service_detach(node_t *n, const char *name);

/* The node is going down: long-running commands (ping -n 1000) stop
 * early so the local API can drain. Call before api_stop(); node_close
 * implies it. Any thread. */
void node_begin_close(node_t *n);
bool node_closing(node_t *n);

/* Called by node_open/node_close: make the host from the repo config
 * (Addresses.Swarm/Announce/NoAnnounce, Swarm.ConnMgr), start the
 * services, listen; and the reverse. A listen address that fails is
 * logged and skipped. */
int node_net_start(node_t *n);
void node_net_stop(node_t *n);

#endif
