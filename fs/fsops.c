#include "fsops.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/uio.h>
#include <unistd.h>

#include "err.h"
#include "exporter.h"
#include "node_dht.h"
#include "pins.h"

#define XATTR_CID "user.ipfs.cid"
/* Entries of a listing whose blocks are read ahead (the fetch queue
 * holds 64). */
#define LIST_PREFETCH 48

fsx_t *fsx_of(fuse_req_t req)
{
  return fuse_req_userdata(req);
}

int fsx_errno(int rc)
{
  switch (rc) {
  case CIPFS_ENOTFOUND: /* a block, not a name: the data is unavailable */
  case CIPFS_ETIMEOUT:
  case CIPFS_ECORRUPT:
  case CIPFS_EUNIXFS:
  case CIPFS_EDAGPB:
  case CIPFS_EDB:
    return EIO;
  case CIPFS_ENOLINK:
    return ENOENT;
  default:
    return cipfs_err_to_errno(rc);
  }
}

bool fsx_is_cid_name(const char *name, size_t len)
{
  cid_t cid;
  return cid_parse_n(&cid, name, len) == 0;
}

uint64_t fsx_mfs_dir(inode_t *in)
{
  if (in->kind == INODE_ROOT)
    return MFS_ROOT_ID;
  return in->kind == INODE_MFS ? in->mfs_id : 0;
}

static void attr_common(fsx_t *fx, struct stat *st, uint64_t ino)
{
  memset(st, 0, sizeof(*st));
  st->st_ino = ino;
  st->st_uid = fx->uid;
  st->st_gid = fx->gid;
  st->st_blksize = FSX_BLKSIZE;
  st->st_nlink = 1;
}

void fsx_root_attr(fsx_t *fx, struct stat *st)
{
  attr_common(fx, st, FUSE_ROOT_ID);
  st->st_mode = S_IFDIR | 0755;
  st->st_nlink = 2;
  st->st_mtim = fx->start;
  st->st_ctim = fx->start;
  st->st_atim = fx->start;
}

/* in->st must be loaded. */
static void attr_cid(fsx_t *fx, inode_t *in, struct stat *st)
{
  const exporter_stat_t *s = &in->st;
  attr_common(fx, st, in->ino);
  switch (s->type) {
  case EXPORTER_DIR:
    st->st_mode = S_IFDIR | (s->has_mode ? (s->mode & 07555) : 0555);
    st->st_nlink = in->nsubdirs >= 0 ? 2 + (nlink_t)in->nsubdirs : 1;
    break;
  case EXPORTER_SYMLINK:
    st->st_mode = S_IFLNK | 0777;
    break;
  default:
    st->st_mode = S_IFREG | (s->has_mode ? (s->mode & 07555) : 0444);
    break;
  }
  st->st_size = (off_t)s->size;
  st->st_blocks = (blkcnt_t)((s->size + 511) / 512);
  if (s->has_mtime) {
    st->st_mtim.tv_sec = s->mtime_sec;
    st->st_mtim.tv_nsec = s->mtime_nsec;
    st->st_ctim = st->st_mtim;
    st->st_atim = st->st_mtim;
  }
}

void fsx_attr_mfs(fsx_t *fx, inode_t *in, const mfs_entry_t *e, struct stat *st)
{
  struct stat sst;
  attr_common(fx, st, in->ino);
  switch (e->type) {
  case MFS_DIR:
    st->st_mode = S_IFDIR | (e->mode ? e->mode : 0755);
    break;
  case MFS_SYMLINK:
    st->st_mode = S_IFLNK | 0777;
    break;
  default:
    st->st_mode = S_IFREG | (e->mode ? e->mode : 0644);
    break;
  }
  st->st_size = (off_t)e->size;
  st->st_mtim.tv_sec = e->mtime_sec;
  st->st_mtim.tv_nsec = e->mtime_nsec;
  pthread_mutex_lock(&in->lock);
  if (in->stg && fstat(in->stg->fd, &sst) == 0) {
    off_t size;
    if (fsx_stage_size(in->stg, &size) == 0)
      st->st_size = size;
    if (in->stg->dirty)
      st->st_mtim = sst.st_mtim;
  }
  pthread_mutex_unlock(&in->lock);
  st->st_ctim = st->st_mtim;
  st->st_atim = st->st_mtim;
  st->st_blocks = (blkcnt_t)(((uint64_t)st->st_size + 511) / 512);
}

static int load_stat(const block_getter_t *g, inode_t *in)
{
  int rc = 0;
  pthread_mutex_lock(&in->lock);
  if (!in->have_stat) {
    rc = exporter_stat(g, &in->cid, &in->st);
    in->have_stat = rc == 0;
  }
  pthread_mutex_unlock(&in->lock);
  return rc;
}

void fsx_reply_mfs_entry(fuse_req_t req, fsx_t *fx, const mfs_entry_t *e)
{
  struct fuse_entry_param ep;
  inode_t *in = itable_mfs(fx->it, e->id, 1);
  if (in == NULL) {
    fuse_reply_err(req, ENOMEM);
    return;
  }
  memset(&ep, 0, sizeof(ep));
  ep.ino = in->ino;
  ep.attr_timeout = FSX_MFS_TIMEOUT;
  ep.entry_timeout = FSX_MFS_TIMEOUT;
  fsx_attr_mfs(fx, in, e, &ep.attr);
  if (fuse_reply_entry(req, &ep) != 0)
    itable_forget(fx->it, in->ino, 1);
}

static void reply_cid_entry(fuse_req_t req, fsx_t *fx, uint64_t parent,
                            const char *name, const cid_t *cid)
{
  struct fuse_entry_param ep;
  inode_t *in = itable_cid(fx->it, parent, name, strlen(name), cid, 0);
  int rc;
  if (in == NULL) {
    fuse_reply_err(req, ENOMEM);
    return;
  }
  rc = load_stat(&fx->node->get, in);
  if (rc < 0) {
    fuse_reply_err(req, fsx_errno(rc));
    return;
  }
  memset(&ep, 0, sizeof(ep));
  ep.ino = in->ino;
  ep.attr_timeout = FSX_CID_TIMEOUT;
  ep.entry_timeout = FSX_CID_TIMEOUT;
  attr_cid(fx, in, &ep.attr);
  itable_ref(fx->it, in, 1);
  if (fuse_reply_entry(req, &ep) != 0)
    itable_forget(fx->it, in->ino, 1);
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
  fsx_t *fx = fsx_of(req);
  inode_t *p = itable_get(fx->it, parent);
  size_t len = strlen(name);
  mfs_entry_t e;
  cid_t cid;
  int rc;

  if (p == NULL) {
    fuse_reply_err(req, ESTALE);
    return;
  }
  if (p->kind == INODE_ROOT && cid_parse_n(&cid, name, len) == 0) {
    /* Announced on the DHT once its root block is held (read). */
    node_dht_note_root(fx->node, &cid);
    reply_cid_entry(req, fx, parent, name, &cid);
    return;
  }
  if (p->kind == INODE_CID) {
    rc = exporter_lookup(&fx->node->get, &p->cid, name, len, &cid, NULL);
    if (rc == CIPFS_ENOLINK) {
      /* Immutable: the name will never appear; let the kernel remember. */
      struct fuse_entry_param ep;
      memset(&ep, 0, sizeof(ep));
      ep.entry_timeout = FSX_CID_TIMEOUT;
      fuse_reply_entry(req, &ep);
      return;
    }
    if (rc < 0)
      fuse_reply_err(req, fsx_errno(rc));
    else
      reply_cid_entry(req, fx, parent, name, &cid);
    return;
  }
  rc = mfs_lookup(fx->node->mfs, fsx_mfs_dir(p), name, len, &e);
  if (rc < 0)
    fuse_reply_err(req, rc == CIPFS_ENOTFOUND ? ENOENT : fsx_errno(rc));
  else
    fsx_reply_mfs_entry(req, fx, &e);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
  itable_forget(fsx_of(req)->it, ino, nlookup);
  fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count,
                            struct fuse_forget_data *forgets)
{
  fsx_t *fx = fsx_of(req);
  for (size_t i = 0; i < count; i++)
    itable_forget(fx->it, forgets[i].ino, forgets[i].nlookup);
  fuse_reply_none(req);
}

/* Attributes of any inode. */
static int attr_of(fsx_t *fx, inode_t *in, struct stat *st, double *timeout)
{
  mfs_entry_t e;
  int rc;
  switch (in->kind) {
  case INODE_ROOT:
    fsx_root_attr(fx, st);
    *timeout = FSX_MFS_TIMEOUT;
    return 0;
  case INODE_CID:
    rc = load_stat(&fx->node->get, in);
    if (rc < 0)
      return rc;
    attr_cid(fx, in, st);
    *timeout = FSX_CID_TIMEOUT;
    return 0;
  default:
    rc = mfs_get(fx->node->mfs, in->mfs_id, &e, NULL, NULL);
    if (rc < 0)
      return rc == CIPFS_ENOTFOUND ? -ENOENT : rc;
    fsx_attr_mfs(fx, in, &e, st);
    *timeout = FSX_MFS_TIMEOUT;
    return 0;
  }
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino,
                       struct fuse_file_info *fi)
{
  fsx_t *fx = fsx_of(req);
  inode_t *in = itable_get(fx->it, ino);
  struct stat st;
  double timeout;
  int rc = in ? attr_of(fx, in, &st, &timeout) : -ESTALE;
  if (rc < 0)
    fuse_reply_err(req, fsx_errno(rc));
  else
    fuse_reply_attr(req, &st, timeout);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
  fsx_t *fx = fsx_of(req);
  inode_t *in = itable_get(fx->it, ino);
  mfs_entry_t e;
  char *target = NULL;
  size_t len;
  int rc = -EINVAL;

  if (in && in->kind == INODE_CID) {
    rc = exporter_readlink(&fx->node->get, &in->cid, &target, &len);
  } else if (in && in->kind == INODE_MFS) {
    rc = mfs_get(fx->node->mfs, in->mfs_id, &e, NULL, NULL);
    if (rc == 0 && e.type != MFS_SYMLINK)
      rc = -EINVAL;
    if (rc == 0)
      rc = exporter_readlink(&fx->node->get, &e.cid, &target, &len);
  }
  if (rc < 0)
    fuse_reply_err(req, rc == CIPFS_EUNIXFS ? EINVAL : fsx_errno(rc));
  else
    fuse_reply_readlink(req, target);
  free(target);
}

static fh_t *fh_new(fh_kind_t kind, inode_t *in)
{
  fh_t *h = calloc(1, sizeof(*h));
  if (h == NULL)
    return NULL;
  h->kind = kind;
  h->in = in;
  pthread_mutex_init(&h->lock, NULL);
  return h;
}

static void fh_free(fh_t *h)
{
  if (h == NULL)
    return;
  exporter_file_free(h->ef);
  for (size_t i = 0; i < h->nents; i++)
    free(h->ents[i].name);
  free(h->ents);
  pthread_mutex_destroy(&h->lock);
  free(h);
}

static int open_mfs(fsx_t *fx, inode_t *in, int flags, fh_t *h)
{
  mfs_entry_t e;
  int rc = mfs_get(fx->node->mfs, in->mfs_id, &e, NULL, NULL);
  if (rc < 0)
    return rc == CIPFS_ENOTFOUND ? -ENOENT : rc;
  if (e.type == MFS_DIR)
    return -EISDIR;
  h->writable = (flags & O_ACCMODE) != O_RDONLY;
  pthread_mutex_lock(&in->lock);
  if (h->writable || (flags & O_TRUNC))
    rc = fsx_stage(fx, in, (flags & O_TRUNC) != 0, &h->stg);
  else if (in->stg && !in->stg->in_mfs) /* being written: read that */
    rc = fsx_stage(fx, in, false, &h->stg);
  pthread_mutex_unlock(&in->lock);
  if (rc < 0 || h->stg)
    return rc;
  return exporter_file_open(&h->ef, &fx->node->get, &e.cid);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
  fsx_t *fx = fsx_of(req);
  inode_t *in = itable_get(fx->it, ino);
  fh_t *h;
  int rc;

  if (in == NULL || in->kind == INODE_ROOT) {
    fuse_reply_err(req, in ? EISDIR : ESTALE);
    return;
  }
  if (in->kind == INODE_CID &&
      ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC))) {
    fuse_reply_err(req, EROFS);
    return;
  }
  h = fh_new(in->kind == INODE_CID ? FH_CID_FILE : FH_MFS_FILE, in);
  if (h == NULL) {
    fuse_reply_err(req, ENOMEM);
    return;
  }
  if (in->kind == INODE_CID) {
    rc = exporter_file_open(&h->ef, &fx->node->get, &in->cid);
    fi->keep_cache = 1;
    fi->noflush = 1; /* read-only: nothing to do on close */
  } else {
    rc = open_mfs(fx, in, fi->flags, h);
    fi->keep_cache = 0;
  }
  if (rc < 0) {
    if (h->stg) {
      pthread_mutex_lock(&in->lock);
      fsx_unstage(fx, in, h->stg);
      pthread_mutex_unlock(&in->lock);
    }
    fh_free(h);
    fuse_reply_err(req, fsx_errno(rc));
    return;
  }
  fi->fh = (uint64_t)(uintptr_t)h;
  if (fuse_reply_open(req, fi) != 0) {
    if (h->stg) {
      pthread_mutex_lock(&in->lock);
      fsx_unstage(fx, in, h->stg);
      pthread_mutex_unlock(&in->lock);
    }
    fh_free(h);
  }
}

static ssize_t pread_full(int fd, uint8_t *buf, size_t len, off_t off)
{
  size_t done = 0;
  while (done < len) {
    ssize_t r = pread(fd, buf + done, len - done, off + (off_t)done);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return -errno;
    if (r == 0)
      break;
    done += (size_t)r;
  }
  return (ssize_t)done;
}

typedef struct rbuf_s {
  size_t cap;
  uint8_t data[];
} rbuf_t;

static rbuf_t *rbuf_get(fsx_t *fx, size_t size)
{
  rbuf_t *b = NULL;
  pthread_mutex_lock(&fx->rbuf_lock);
  if (fx->nrbufs > 0)
    b = fx->rbufs[--fx->nrbufs];
  pthread_mutex_unlock(&fx->rbuf_lock);
  if (b && b->cap >= size)
    return b;
  free(b);
  b = malloc(sizeof(*b) + (size ? size : 1));
  if (b)
    b->cap = size;
  return b;
}

static void rbuf_put(fsx_t *fx, rbuf_t *b)
{
  pthread_mutex_lock(&fx->rbuf_lock);
  if (fx->nrbufs < FSX_RBUF_POOL) {
    fx->rbufs[fx->nrbufs++] = b;
    b = NULL;
  }
  pthread_mutex_unlock(&fx->rbuf_lock);
  free(b);
}

void fsx_idle(void *arg)
{
  fsx_t *fx = arg;
  void *v[FSX_RBUF_POOL];
  size_t n;
  pthread_mutex_lock(&fx->rbuf_lock);
  n = fx->nrbufs;
  memcpy(v, fx->rbufs, n * sizeof(v[0]));
  fx->nrbufs = 0;
  pthread_mutex_unlock(&fx->rbuf_lock);
  for (size_t i = 0; i < n; i++)
    free(v[i]);
}

void fsx_cleanup(fsx_t *fx)
{
  fsx_idle(fx);
}

/* Spans of one reply: 1 MiB reads of 256 KiB leaves need 4 or 5. */
#define READ_SPANS 32

static void reply_iov_spans(fuse_req_t req, const exporter_span_t *sp,
                            size_t ns)
{
  struct iovec iov[READ_SPANS];

  for (size_t k = 0; k < ns; k++) {
    iov[k].iov_base = (void *)sp[k].data;
    iov[k].iov_len = sp[k].len;
  }
  fuse_reply_iov(req, iov, (int)ns);
}

/* More spans than READ_SPANS (tiny blocks): copy what the spans hold,
 * read the rest. */
static void reply_copied(fsx_t *fx, fuse_req_t req, fh_t *h,
                         const exporter_span_t *sp, size_t ns, size_t want,
                         uint64_t off)
{
  rbuf_t *rb = rbuf_get(fx, want);
  size_t got = 0;
  ssize_t n;

  if (rb == NULL) {
    fuse_reply_err(req, ENOMEM);
    return;
  }
  for (size_t k = 0; k < ns; k++) {
    memcpy(rb->data + got, sp[k].data, sp[k].len);
    got += sp[k].len;
  }
  n = exporter_file_pread(h->ef, rb->data + got, want - got, off + got);
  if (n < 0)
    fuse_reply_err(req, fsx_errno((int)n));
  else
    fuse_reply_buf(req, (const char *)rb->data, got + (size_t)n);
  rbuf_put(fx, rb);
}

/* A file read through the exporter: the reply points into the blocks
 * themselves, sparing a copy of every byte read. */
static void read_blocks(fsx_t *fx, fuse_req_t req, fh_t *h, size_t size,
                        uint64_t off)
{
  exporter_span_t sp[READ_SPANS];
  uint64_t fsize = exporter_file_size(h->ef);
  size_t want, ns;
  ssize_t n;

  want = off >= fsize ? 0 : fsize - off;
  if (want > size)
    want = size;
  /* The spans live until the next read on h: reply under its lock. */
  pthread_mutex_lock(&h->lock);
  n = exporter_file_preadv(h->ef, sp, READ_SPANS, &ns, want, off);
  if (n < 0)
    fuse_reply_err(req, fsx_errno((int)n));
  else if ((size_t)n == want)
    reply_iov_spans(req, sp, ns);
  else
    reply_copied(fx, req, h, sp, ns, want, off);
  pthread_mutex_unlock(&h->lock);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
  fsx_t *fx = fsx_of(req);
  fh_t *h = (fh_t *)(uintptr_t)fi->fh;
  rbuf_t *rb;
  ssize_t n;

  (void)ino;
  if (h->stg == NULL) {
    read_blocks(fx, req, h, size, (uint64_t)off);
    return;
  }
  /* A file being streamed in, or published since, is read from fd. */
  pthread_mutex_lock(&h->in->lock);
  n = fsx_stage_fill(fx, h->in, h->stg);
  pthread_mutex_unlock(&h->in->lock);
  if (n < 0) {
    fuse_reply_err(req, fsx_errno((int)n));
    return;
  }
  rb = rbuf_get(fx, size);
  if (rb == NULL) {
    fuse_reply_err(req, ENOMEM);
    return;
  }
  n = pread_full(h->stg->fd, rb->data, size, off);
  if (n < 0)
    fuse_reply_err(req, fsx_errno((int)n));
  else
    fuse_reply_buf(req, (const char *)rb->data, (size_t)n);
  rbuf_put(fx, rb);
}

/* Import a written file now (close(), fsync()). */
static int publish_if_dirty(fsx_t *fx, fh_t *h)
{
  int rc = 0;
  if (h->stg == NULL || !h->writable)
    return 0;
  pthread_mutex_lock(&h->in->lock);
  if (h->stg->dirty)
    rc = fsx_publish(fx, h->in, h->stg);
  pthread_mutex_unlock(&h->in->lock);
  return rc;
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
  int rc = publish_if_dirty(fsx_of(req), (fh_t *)(uintptr_t)fi->fh);
  fuse_reply_err(req, rc < 0 ? fsx_errno(rc) : 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
                     struct fuse_file_info *fi)
{
  int rc = publish_if_dirty(fsx_of(req), (fh_t *)(uintptr_t)fi->fh);
  fuse_reply_err(req, rc < 0 ? fsx_errno(rc) : 0);
}

static void op_release(fuse_req_t req, fuse_ino_t ino,
                       struct fuse_file_info *fi)
{
  fsx_t *fx = fsx_of(req);
  fh_t *h = (fh_t *)(uintptr_t)fi->fh;
  int rc = publish_if_dirty(fx, h);
  if (rc < 0)
    node_log(fx->node, "publishing inode %llu failed: %s",
             (unsigned long long)ino, cipfs_strerror(rc));
  if (h->stg) {
    pthread_mutex_lock(&h->in->lock);
    fsx_unstage(fx, h->in, h->stg);
    pthread_mutex_unlock(&h->in->lock);
  }
  /* A read replying from the handle's blocks keeps its lock until the
   * reply is written, and the kernel may send this release as soon as
   * that reply arrived: wait for the read to let go. */
  pthread_mutex_lock(&h->lock);
  pthread_mutex_unlock(&h->lock);
  fh_free(h);
  fuse_reply_err(req, 0);
}

typedef struct list_s {
  dent_t *v;
  size_t n, cap;
  int err;
} list_t;

static int list_push(list_t *l, const char *name, size_t len, bool mfs,
                     const mfs_entry_t *e)
{
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 64;
    dent_t *v = realloc(l->v, cap * sizeof(*v));
    if (v == NULL)
      return -ENOMEM;
    l->v = v;
    l->cap = cap;
  }
  dent_t *d = &l->v[l->n];
  d->name = strndup(name, len);
  if (d->name == NULL)
    return -ENOMEM;
  d->len = len;
  d->mfs = mfs;
  d->e = *e;
  l->n++;
  return 0;
}

static int list_mfs_cb(void *arg, const char *name, size_t len,
                       const mfs_entry_t *e)
{
  return list_push(arg, name, len, true, e);
}

static int list_cid_cb(void *arg, const char *name, size_t len,
                       const cid_t *cid, uint64_t tsize)
{
  mfs_entry_t e;
  memset(&e, 0, sizeof(e));
  e.cid = *cid;
  e.tsize = tsize;
  return list_push(arg, name, len, false, &e);
}

static int list_pin_cb(void *arg, const cid_t *cid)
{
  char s[CID_MAX_STR];
  ssize_t n = cid_format(cid, 0, s, sizeof(s));
  mfs_entry_t e;
  if (n < 0)
    return 0;
  memset(&e, 0, sizeof(e));
  e.cid = *cid;
  return list_push(arg, s, (size_t)n, false, &e);
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino,
                       struct fuse_file_info *fi)
{
  fsx_t *fx = fsx_of(req);
  inode_t *in = itable_get(fx->it, ino);
  list_t l = {0};
  fh_t *h;
  int rc = 0;

  if (in == NULL) {
    fuse_reply_err(req, ESTALE);
    return;
  }
  if (in->kind == INODE_ROOT) {
    rc = pins_roots(fx->node->repo, list_pin_cb, &l);
    if (rc < 0)
      node_log(fx->node, "listing pins: %s", cipfs_strerror(rc));
    rc = mfs_list(fx->node->mfs, MFS_ROOT_ID, list_mfs_cb, &l);
  } else if (in->kind == INODE_CID) {
    rc = exporter_readdir(&fx->node->get, &in->cid, list_cid_cb, &l);
  } else {
    rc = mfs_list(fx->node->mfs, in->mfs_id, list_mfs_cb, &l);
  }
  h = rc < 0 ? NULL : fh_new(FH_DIR, in);
  if (h == NULL) {
    for (size_t i = 0; i < l.n; i++)
      free(l.v[i].name);
    free(l.v);
    fuse_reply_err(req, rc < 0 ? fsx_errno(rc) : ENOMEM);
    return;
  }
  h->ents = l.v;
  h->nents = l.n;
  fi->fh = (uint64_t)(uintptr_t)h;
  fi->cache_readdir = in->kind == INODE_CID;
  fi->keep_cache = in->kind == INODE_CID;
  if (fuse_reply_open(req, fi) != 0)
    fh_free(h);
}

/* The inode of a listed entry, its attributes when known without waiting
 * for the network (plus), and its d_type. Returns the inode or NULL. */
static inode_t *dent_inode(fsx_t *fx, fh_t *h, dent_t *d, bool plus,
                           struct stat *st, bool *have_attr)
{
  inode_t *in;
  *have_attr = false;
  memset(st, 0, sizeof(*st));
  if (d->mfs) {
    in = itable_mfs(fx->it, d->e.id, 0);
    if (in == NULL)
      return NULL;
    fsx_attr_mfs(fx, in, &d->e, st);
    *have_attr = true;
    return in;
  }
  in = itable_cid(fx->it, h->in->ino, d->name, d->len, &d->e.cid, 0);
  if (in == NULL)
    return NULL;
  if (plus)
    load_stat(&fx->node->get_local, in);
  pthread_mutex_lock(&in->lock);
  bool known = in->have_stat;
  pthread_mutex_unlock(&in->lock);
  if (known) {
    attr_cid(fx, in, st);
    *have_attr = true;
  } else {
    st->st_ino = in->ino;
  }
  return in;
}

/* Once every child of an immutable directory has been stat'ed, its link
 * count (2 + subdirectories) is known. */
static void count_subdirs(fsx_t *fx, fh_t *h)
{
  int n = 0;
  if (h->in->kind != INODE_CID)
    return;
  for (size_t i = 0; i < h->nents; i++) {
    dent_t *d = &h->ents[i];
    inode_t *in = itable_cid(fx->it, h->in->ino, d->name, d->len, &d->e.cid, 0);
    if (in == NULL)
      return;
    pthread_mutex_lock(&in->lock);
    bool known = in->have_stat;
    n += known && in->st.type == EXPORTER_DIR;
    pthread_mutex_unlock(&in->lock);
    if (!known)
      return;
  }
  pthread_mutex_lock(&h->in->lock);
  h->in->nsubdirs = n;
  pthread_mutex_unlock(&h->in->lock);
}

/* Have the fetch workers read the blocks of the next entries of an
 * immutable directory while this thread decodes the current ones: a cold
 * `ls -l` of a large directory is one small block read per entry. */
static void prefetch_children(fsx_t *fx, fh_t *h, size_t from)
{
  const block_getter_t *g = &fx->node->get;
  cid_t cids[LIST_PREFETCH];
  size_t n = 0;

  if (g->prefetch == NULL || h->in->kind != INODE_CID)
    return;
  for (size_t i = from; i < h->nents && n < LIST_PREFETCH; i++) {
    dent_t *d = &h->ents[i];
    inode_t *in = itable_cid(fx->it, h->in->ino, d->name, d->len, &d->e.cid, 0);
    if (in == NULL)
      break;
    pthread_mutex_lock(&in->lock);
    bool known = in->have_stat;
    pthread_mutex_unlock(&in->lock);
    if (!known)
      cids[n++] = d->e.cid;
  }
  if (n > 0)
    g->prefetch(g->arg, cids, n);
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi, bool plus)
{
  fsx_t *fx = fsx_of(req);
  fh_t *h = (fh_t *)(uintptr_t)fi->fh;
  char *buf = malloc(size ? size : 1);
  size_t used = 0, i;

  if (buf == NULL) {
    fuse_reply_err(req, ENOMEM);
    return;
  }
  if (plus)
    prefetch_children(fx, h, off > 2 ? (size_t)off - 2 : 0);
  for (i = (size_t)off; i < h->nents + 2; i++) {
    struct fuse_entry_param ep;
    const char *name = i == 0 ? "." : "..";
    inode_t *in = NULL;
    bool have = false;
    size_t n;

    memset(&ep, 0, sizeof(ep));
    if (i < 2) {
      ep.attr.st_ino = i == 0 ? ino : FUSE_ROOT_ID;
      ep.attr.st_mode = S_IFDIR;
    } else {
      dent_t *d = &h->ents[i - 2];
      name = d->name;
      in = dent_inode(fx, h, d, plus, &ep.attr, &have);
      if (in == NULL)
        break;
      if (plus && have) {
        ep.ino = in->ino;
        ep.attr_timeout = d->mfs ? FSX_MFS_TIMEOUT : FSX_CID_TIMEOUT;
        ep.entry_timeout = ep.attr_timeout;
      }
    }
    if (plus)
      n = fuse_add_direntry_plus(req, buf + used, size - used, name, &ep,
                                 (off_t)i + 1);
    else
      n = fuse_add_direntry(req, buf + used, size - used, name, &ep.attr,
                            (off_t)i + 1);
    if (n > size - used)
      break;
    used += n;
    if (plus && ep.ino)
      itable_ref(fx->it, in, 1);
  }
  if (plus && i == h->nents + 2 && (size_t)off < i)
    count_subdirs(fx, h);
  fuse_reply_buf(req, buf, used);
  free(buf);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi)
{
  do_readdir(req, ino, size, off, fi, false);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
                           off_t off, struct fuse_file_info *fi)
{
  do_readdir(req, ino, size, off, fi, true);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino,
                          struct fuse_file_info *fi)
{
  fh_free((fh_t *)(uintptr_t)fi->fh);
  fuse_reply_err(req, 0);
}

static int cid_of(fsx_t *fx, inode_t *in, cid_t *cid)
{
  mfs_entry_t e;
  int rc;
  if (in->kind == INODE_CID) {
    *cid = in->cid;
    return 0;
  }
  if (in->kind == INODE_ROOT)
    return mfs_root_cid(fx->node->mfs, cid);
  rc = mfs_get(fx->node->mfs, in->mfs_id, &e, NULL, NULL);
  if (rc == 0 && e.type == MFS_DIR && e.dirty) {
    rc = mfs_flush(fx->node->mfs);
    if (rc == 0)
      rc = mfs_get(fx->node->mfs, in->mfs_id, &e, NULL, NULL);
  }
  if (rc == 0)
    *cid = e.cid;
  return rc == CIPFS_ENOTFOUND ? -ENOENT : rc;
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
                        size_t size)
{
  fsx_t *fx = fsx_of(req);
  inode_t *in = itable_get(fx->it, ino);
  char s[CID_MAX_STR];
  cid_t cid;
  ssize_t n;
  int rc;

  if (in == NULL || strcmp(name, XATTR_CID) != 0) {
    fuse_reply_err(req, in ? ENODATA : ESTALE);
    return;
  }
  rc = cid_of(fx, in, &cid);
  n = rc < 0 ? rc : cid_format(&cid, 0, s, sizeof(s));
  if (n < 0)
    fuse_reply_err(req, fsx_errno((int)n));
  else if (size == 0)
    fuse_reply_xattr(req, (size_t)n);
  else if (size < (size_t)n)
    fuse_reply_err(req, ERANGE);
  else
    fuse_reply_buf(req, s, (size_t)n);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
  static const char names[] = XATTR_CID; /* with its NUL */
  if (size == 0)
    fuse_reply_xattr(req, sizeof(names));
  else if (size < sizeof(names))
    fuse_reply_err(req, ERANGE);
  else
    fuse_reply_buf(req, names, sizeof(names));
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
  fsx_t *fx = fsx_of(req);
  struct statvfs sv;
  memset(&sv, 0, sizeof(sv));
  if (statvfs(fx->node->repo->path, &sv) < 0) {
    fuse_reply_err(req, errno);
    return;
  }
  /* The repo's disk: what can still be added, and how much is there. */
  sv.f_files = itable_count(fx->it);
  sv.f_ffree = sv.f_favail = UINT32_MAX;
  sv.f_namemax = MFS_NAME_MAX;
  fuse_reply_statfs(req, &sv);
}

void fsx_ops(struct fuse_lowlevel_ops *ops)
{
  ops->lookup = op_lookup;
  ops->forget = op_forget;
  ops->forget_multi = op_forget_multi;
  ops->getattr = op_getattr;
  ops->readlink = op_readlink;
  ops->open = op_open;
  ops->read = op_read;
  ops->flush = op_flush;
  ops->fsync = op_fsync;
  ops->release = op_release;
  ops->opendir = op_opendir;
  ops->readdir = op_readdir;
  ops->readdirplus = op_readdirplus;
  ops->releasedir = op_releasedir;
  ops->getxattr = op_getxattr;
  ops->listxattr = op_listxattr;
  ops->statfs = op_statfs;
}
