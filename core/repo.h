#ifndef CIPFS_REPO_H
#define CIPFS_REPO_H

#include <pthread.h>
#include <stddef.h>

#include "bs.h"
#include "cfg.h"
#include "key.h"
#include "kv.h"
#include "peerid.h"

/*
 * A repo directory (default ~/.cipfs; $CIPFS_PATH or --repo override):
 *   config      JSON, kubo key names, mode 0600 (holds Identity.PrivKey)
 *   datastore/  LevelDB: small blocks, the index of block files, pins,
 *               published tree, DHT state
 *   blocks/     blocks over BS_INLINE_MAX, one file each (see bs.h)
 *   repo.lock   flock'd by the one process that has the repo open
 *   reserve     1 MiB of disk held so a full disk cannot keep the repo from
 *               opening (repo_open gives it back when LevelDB needs room)
 */
/* Lists roots GC must keep besides pins and the published tree: cb for
 * each, stopping at cb's first non-zero return. */
typedef int (*repo_gc_root_cb)(void *cbarg, const cid_t *cid);
typedef int (*repo_gc_roots_fn)(void *arg, repo_gc_root_cb cb, void *cbarg);

typedef struct repo_s {
  char *path;
  cfg_t *cfg;
  kv_t *kv;
  bs_t *bs;
  key_t *key;
  peerid_t id;
  int lock_fd;
  /* GC against writers in one process (kubo's GC lock): see repo_gc_*. */
  pthread_rwlock_t gc_lock;
  int (*gc_prepare)(void *arg);
  void *gc_prepare_arg;
  repo_gc_roots_fn gc_roots;
  void *gc_roots_arg;
} repo_t;

/* $CIPFS_PATH, else $HOME/.cipfs. -ENAMETOOLONG, CIPFS_ENOREPO (no HOME). */
int repo_default_path(char *out, size_t cap);
/* Create a repo with a fresh Ed25519 identity. -EEXIST if one is there. */
int repo_init(const char *path);
/* CIPFS_ENOREPO if path holds no repo; CIPFS_EREPOLOCKED if another process
 * has it open. */
int repo_open(repo_t **out, const char *path);
/* repo_open with the reason for a refusal of the config or identity as one
 * line in err ("config: Routing.Type: expected a string"). Addition. */
int repo_open_err(repo_t **out, const char *path, char *err, size_t errlen);
/* Write cfg back to disk. */
int repo_save_config(repo_t *r);
void repo_close(repo_t *r);

/*
 * The GC lock (additions). A writer holds it shared from its first block
 * put until what it stored is reachable from a root GC reads (a pin, or
 * the published tree): between the two its blocks look like garbage, and
 * an import may deduplicate against an unpinned block GC is deleting.
 * Garbage collection holds it exclusively for the whole run. Shared holds
 * may nest; never take it exclusively while holding it.
 */
void repo_gc_lock_shared(repo_t *r);
/* Takes the lock exclusively, then runs the hook set with
 * repo_set_gc_prepare (the running node flushes its published tree into
 * "f/root" so GC sees every recorded file). On the hook's error the lock
 * is released and the error returned. */
int repo_gc_lock_exclusive(repo_t *r);
/* Releases either kind of hold. */
void repo_gc_unlock(repo_t *r);
/* cb (may be NULL to clear) runs under the exclusive lock before each GC;
 * it must not take the GC lock itself. */
void repo_set_gc_prepare(repo_t *r, int (*cb)(void *arg), void *arg);
/* fn (may be NULL to clear) lists extra roots (a running node's imports in
 * progress); repo_gc_extra_roots collects them into a malloc'd array.
 * Both under the exclusive lock. */
void repo_set_gc_roots(repo_t *r, repo_gc_roots_fn fn, void *arg);
int repo_gc_extra_roots(repo_t *r, cid_t **roots, size_t *n);

#endif
