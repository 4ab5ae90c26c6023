#ifndef CIPFS_FSOPS_H
#define CIPFS_FSOPS_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include <pthread.h>
#include <stdbool.h>
#include <sys/types.h>

#include "inode.h"
#include "mfs.h"
#include "node.h"

/*
 * The FUSE low-level operations of the mount. The namespace:
 *   /             pinned roots (listed) and the published tree's top level
 *   /<cid>/...    any CID, immutable, read-only, cached long by the kernel
 *   /<name>/...   the published tree (every root name that is not a CID),
 *                 writable: files are staged while open and imported into
 *                 UnixFS on flush/fsync/release
 * Everything here is internal to fs/ (prefix fsx_).
 */
#define FSX_RBUF_POOL 8

typedef struct fsx_s {
  node_t *node;
  itable_t *it;
  uid_t uid;
  gid_t gid;
  struct timespec start;
  /* Read buffers kept between requests (a fresh 1 MiB malloc is a fresh
   * mapping to fault in every time), given back when the node is idle. */
  pthread_mutex_t rbuf_lock;
  void *rbufs[FSX_RBUF_POOL];
  size_t nrbufs;
} fsx_t;

/* A published file open for writing: one per inode, shared by its
 * handles. The file is already unlinked: a crash leaves nothing behind.
 * Writes in order from offset 0 (a cp) skip it: they go straight to an
 * importer, so copy-in writes the data once; fd takes over, filled with
 * what was imported, when anything else touches the content (a read, a
 * write elsewhere, a truncate, a write after a flush). All under the
 * inode's lock. */
typedef struct staging_s {
  int fd;
  int refs;
  bool dirty;                  /* written since the last import */
  struct importer_file_s *imp; /* streaming: fd is empty, imp has it all */
  uint64_t imp_off;            /* bytes streamed */
  bool in_mfs;    /* fd is empty: the content is the published CID */
  bool no_stream; /* the content went through fd: it stays there */
  bool lost;      /* a streamed write failed: what it had is gone */
} staging_t;

typedef enum { FH_CID_FILE, FH_MFS_FILE, FH_DIR } fh_kind_t;

typedef struct dent_s {
  char *name;
  size_t len;
  bool mfs;      /* a published entry (e valid), else a CID child */
  mfs_entry_t e; /* CID children: only cid and tsize */
} dent_t;

typedef struct fh_s {
  fh_kind_t kind;
  inode_t *in;
  pthread_mutex_t lock;
  exporter_file_t *ef; /* reading immutable content */
  staging_t *stg;      /* reading or writing the staged copy */
  bool writable;
  dent_t *ents; /* FH_DIR: the listing, taken at opendir */
  size_t nents;
} fh_t;

/* fx->rbuf_lock must be initialised; fsx_cleanup frees the pool. */
void fsx_cleanup(fsx_t *fx);
/* Free the pooled read buffers (node on_idle hook; arg is the fsx_t). */
void fsx_idle(void *arg);

void fsx_ops(struct fuse_lowlevel_ops *ops);
void fsx_write_ops(struct fuse_lowlevel_ops *ops);

/* Shared between fsops.c and fsops_w.c. */
#define FSX_CID_TIMEOUT 86400.0
#define FSX_MFS_TIMEOUT 1.0
#define FSX_BLKSIZE (1024 * 1024)

fsx_t *fsx_of(fuse_req_t req);
int fsx_errno(int rc);
void fsx_root_attr(fsx_t *fx, struct stat *st);
void fsx_attr_mfs(fsx_t *fx, inode_t *in, const mfs_entry_t *e,
                  struct stat *st);
/* The mfs directory id an inode stands for, or 0 if it is not one. */
uint64_t fsx_mfs_dir(inode_t *in);
/* Reply to a lookup-like request for a published entry. */
void fsx_reply_mfs_entry(fuse_req_t req, fsx_t *fx, const mfs_entry_t *e);
/* Is this root name a CID (and so not a published name)? */
bool fsx_is_cid_name(const char *name, size_t len);
/* Staging of a published file (under in->lock). */
int fsx_stage(fsx_t *fx, inode_t *in, bool trunc, staging_t **out);
void fsx_unstage(fsx_t *fx, inode_t *in, staging_t *stg);
int fsx_publish(fsx_t *fx, inode_t *in, staging_t *stg);
/* Make stg->fd hold the file's content (it may be streaming, or already
 * published and empty). */
int fsx_stage_fill(fsx_t *fx, inode_t *in, staging_t *stg);
/* Logical size of a staged file. */
int fsx_stage_size(staging_t *stg, off_t *size);

#endif
