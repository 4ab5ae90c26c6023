/* The writable half of the mount: the published tree. */
#include "fsops.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "err.h"
#include "exporter.h"
#include "importer.h"

#define COPY_CHUNK (1024 * 1024)

/* Copy the published content of in into fd (opening for append or
 * read-write keeps what is there). */
static int copy_in(fsx_t *fx, const cid_t *cid, int fd)
{
  exporter_file_t *ef;
  uint8_t *buf;
  uint64_t off = 0;
  int rc = exporter_file_open(&ef, &fx->node->get, cid);
  if (rc < 0)
    return rc;
  buf = malloc(COPY_CHUNK);
  rc = buf ? 0 : -ENOMEM;
  while (rc == 0) {
    ssize_t n = exporter_file_pread(ef, buf, COPY_CHUNK, off);
    if (n <= 0) {
      rc = (int)n;
      break;
    }
    for (ssize_t done = 0; done < n;) {
      ssize_t w = pwrite(fd, buf + done, (size_t)(n - done), (off_t)off + done);
      if (w < 0 && errno != EINTR) {
        rc = -errno;
        break;
      }
      done += w > 0 ? w : 0;
    }
    off += (uint64_t)n;
  }
  free(buf);
  exporter_file_free(ef);
  return rc;
}

/* Drop a streaming import without using it. */
static void stream_drop(fsx_t *fx, staging_t *s)
{
  if (s->imp == NULL)
    return;
  repo_gc_lock_shared(fx->node->repo);
  node_stream_end(fx->node, s->imp);
  importer_file_free(s->imp);
  repo_gc_unlock(fx->node->repo);
  s->imp = NULL;
  s->imp_off = 0;
}

/* Finish a streaming import: the CID of what was written. The caller
 * holds the shared GC lock until the CID is referenced. */
static int stream_finish(fsx_t *fx, staging_t *s, cid_t *cid, uint64_t *size,
                         uint64_t *tsize)
{
  int rc = importer_file_finish(s->imp, cid, size, tsize);
  node_stream_end(fx->node, s->imp);
  importer_file_free(s->imp);
  s->imp = NULL;
  s->imp_off = 0;
  return rc;
}

int fsx_stage_fill(fsx_t *fx, inode_t *in, staging_t *s)
{
  mfs_entry_t e;
  cid_t cid;
  uint64_t size, tsize;
  int rc = 0;

  if (s->lost)
    return -EIO;
  if (s->imp != NULL) {
    repo_gc_lock_shared(fx->node->repo);
    rc = stream_finish(fx, s, &cid, &size, &tsize);
    if (rc == 0 && size > 0)
      rc = copy_in(fx, &cid, s->fd);
    repo_gc_unlock(fx->node->repo);
    s->no_stream = true;
    s->lost = rc < 0;
    return rc;
  }
  if (s->in_mfs) {
    s->in_mfs = false;
    s->no_stream = true;
    rc = mfs_get(fx->node->mfs, in->mfs_id, &e, NULL, NULL);
    if (rc == 0 && e.size > 0)
      rc = copy_in(fx, &e.cid, s->fd);
    s->lost = rc < 0;
  }
  return rc;
}

int fsx_stage_size(staging_t *s, off_t *size)
{
  struct stat st;
  if (s->imp != NULL) {
    *size = (off_t)s->imp_off;
    return 0;
  }
  if (s->in_mfs || fstat(s->fd, &st) < 0)
    return -1; /* the published size holds */
  *size = st.st_size;
  return 0;
}

int fsx_stage(fsx_t *fx, inode_t *in, bool trunc, staging_t **out)
{
  mfs_entry_t e;
  staging_t *s = in->stg;
  int rc;

  if (s) {
    if (trunc) {
      stream_drop(fx, s);
      s->in_mfs = s->no_stream = s->lost = false;
      if (ftruncate(s->fd, 0) == 0)
        s->dirty = true;
    }
    s->refs++;
    *out = s;
    return 0;
  }
  rc = mfs_get(fx->node->mfs, in->mfs_id, &e, NULL, NULL);
  if (rc < 0)
    return rc == CIPFS_ENOTFOUND ? -ENOENT : rc;
  if (e.type != MFS_FILE)
    return e.type == MFS_DIR ? -EISDIR : -EINVAL;
  s = calloc(1, sizeof(*s));
  if (s == NULL)
    return -ENOMEM;
  rc = node_stage_fd(fx->node, &s->fd);
  if (rc < 0) {
    free(s);
    return rc;
  }
  if (trunc)
    s->dirty = e.size != 0;
  else if (e.size > 0)
    rc = copy_in(fx, &e.cid, s->fd);
  if (rc < 0) {
    close(s->fd);
    free(s);
    return rc;
  }
  s->refs = 1;
  in->stg = s;
  *out = s;
  return 0;
}

void fsx_unstage(fsx_t *fx, inode_t *in, staging_t *stg)
{
  if (--stg->refs > 0)
    return;
  stream_drop(fx, stg);
  close(stg->fd);
  if (in->stg == stg)
    in->stg = NULL;
  free(stg);
}

int fsx_publish(fsx_t *fx, inode_t *in, staging_t *stg)
{
  char s[CID_MAX_STR];
  cid_t cid;
  uint64_t size, tsize;
  bool streamed;
  int rc;

  /* Until mfs records the new CID, nothing GC reads references its
   * blocks: hold GC off from the first block to the record. */
  if (stg->lost)
    return -EIO;
  repo_gc_lock_shared(fx->node->repo);
  streamed = stg->imp != NULL;
  if (streamed)
    rc = stream_finish(fx, stg, &cid, &size, &tsize);
  else if (stg->in_mfs)
    rc = CIPFS_ENOTFOUND; /* published already; nothing written since */
  else
    rc = node_import_fd(fx->node, stg->fd, &cid, &size, &tsize);
  if (rc >= 0)
    rc = mfs_set_content(fx->node->mfs, in->mfs_id, &cid, size, tsize);
  /* fd is empty: the published CID is the content now (or, had that
   * failed, nothing is: the streamed bytes are gone). */
  if (streamed) {
    stg->in_mfs = rc >= 0;
    stg->lost = rc < 0 && rc != CIPFS_ENOTFOUND;
  }
  repo_gc_unlock(fx->node->repo);
  if (rc == CIPFS_ENOTFOUND)
    rc = 0; /* removed while open: nothing to publish */
  if (rc < 0)
    return rc;
  stg->dirty = false;
  node_debug(fx->node, "published inode %llu: %s (%llu bytes)",
             (unsigned long long)in->ino, cid_str(&cid, s),
             (unsigned long long)size);
  return 0;
}

/* The published directory a new name goes into, or an errno. */
static int target_dir(fsx_t *fx, fuse_ino_t parent, const char *name,
                      uint64_t *dir)
{
  inode_t *p = itable_get(fx->it, parent);
  if (p == NULL)
    return ESTALE;
  if (p->kind == INODE_CID)
    return EROFS;
  if (p->kind == INODE_ROOT && fsx_is_cid_name(name, strlen(name)))
    return EROFS;
  *dir = fsx_mfs_dir(p);
  return 0;
}

static int mfs_errno(int rc)
{
  if (rc == CIPFS_ENOTFOUND)
    return ENOENT;
  if (rc == CIPFS_ENOTDIR)
    return ENOTDIR;
  return fsx_errno(rc);
}

static void new_entry(fsx_t *fx, mfs_entry_t *e, mfs_type_t type, mode_t mode)
{
  struct timespec ts;
  memset(e, 0, sizeof(*e));
  e->type = type;
  e->mode = mode & 07777; /* the kernel applied the umask */
  clock_gettime(CLOCK_REALTIME, &ts);
  e->mtime_sec = ts.tv_sec;
  e->mtime_nsec = (uint32_t)ts.tv_nsec;
  if (type == MFS_FILE) {
    e->cid = fx->node->empty_file;
    e->tsize = fx->node->empty_file_tsize;
  }
}

/* A new file links to the empty file's block, stored when the node
 * started; a GC since then may have taken it (nothing referenced it).
 * Store it again, under the GC lock the caller holds until the entry is
 * recorded. */
static int put_empty_file(fsx_t *fx)
{
  importer_file_t *imp;
  uint64_t size, tsize;
  cid_t cid;
  int rc = importer_file_new(&imp, &fx->node->iopts, &fx->node->put);
  if (rc < 0)
    return rc;
  rc = importer_file_finish(imp, &cid, &size, &tsize);
  importer_file_free(imp);
  return rc;
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
                      mode_t mode, struct fuse_file_info *fi)
{
  fsx_t *fx = fsx_of(req);
  struct fuse_entry_param ep;
  mfs_entry_t e;
  uint64_t dir;
  inode_t *in;
  fh_t *h;
  int rc, err = target_dir(fx, parent, name, &dir);

  if (err) {
    fuse_reply_err(req, err);
    return;
  }
  new_entry(fx, &e, MFS_FILE, mode);
  repo_gc_lock_shared(fx->node->repo);
  rc = put_empty_file(fx);
  if (rc >= 0)
    rc = mfs_create(fx->node->mfs, dir, name, strlen(name), &e);
  repo_gc_unlock(fx->node->repo);
  if (rc < 0) {
    fuse_reply_err(req, mfs_errno(rc));
    return;
  }
  in = itable_mfs(fx->it, e.id, 1);
  h = in ? calloc(1, sizeof(*h)) : NULL;
  if (h == NULL) {
    if (in)
      itable_forget(fx->it, in->ino, 1);
    fuse_reply_err(req, ENOMEM);
    return;
  }
  h->kind = FH_MFS_FILE;
  h->in = in;
  h->writable = true;
  pthread_mutex_init(&h->lock, NULL);
  pthread_mutex_lock(&in->lock);
  rc = fsx_stage(fx, in, true, &h->stg);
  pthread_mutex_unlock(&in->lock);
  if (rc < 0) {
    pthread_mutex_destroy(&h->lock);
    free(h);
    itable_forget(fx->it, in->ino, 1);
    fuse_reply_err(req, mfs_errno(rc));
    return;
  }
  memset(&ep, 0, sizeof(ep));
  ep.ino = in->ino;
  ep.attr_timeout = ep.entry_timeout = FSX_MFS_TIMEOUT;
  fsx_attr_mfs(fx, in, &e, &ep.attr);
  fi->fh = (uint64_t)(uintptr_t)h;
  fi->keep_cache = 0;
  node_debug(fx->node, "create %s", name);
  if (fuse_reply_create(req, &ep, fi) != 0) {
    pthread_mutex_lock(&in->lock);
    fsx_unstage(fx, in, h->stg);
    pthread_mutex_unlock(&in->lock);
    pthread_mutex_destroy(&h->lock);
    free(h);
  }
}

/* Store the block a new file or symlink links to (a symlink's target is
 * link). The caller holds the GC lock until the entry is recorded. */
static int put_entry_block(fsx_t *fx, mfs_entry_t *e, const char *link)
{
  if (e->type == MFS_FILE)
    return put_empty_file(fx);
  if (e->type != MFS_SYMLINK)
    return 0;
  e->size = strlen(link);
  return importer_symlink(&fx->node->iopts, &fx->node->put, link, &e->cid,
                          &e->tsize);
}

/* mkdir, symlink (to link) and mknod of a regular file: add e under
 * parent/name. */
static void add_entry(fuse_req_t req, fuse_ino_t parent, const char *name,
                      mfs_entry_t *e, const char *link)
{
  fsx_t *fx = fsx_of(req);
  uint64_t dir;
  int rc, err = target_dir(fx, parent, name, &dir);
  if (err) {
    fuse_reply_err(req, err);
    return;
  }
  /* From the entry's block to its record, GC must wait. */
  repo_gc_lock_shared(fx->node->repo);
  rc = put_entry_block(fx, e, link);
  if (rc >= 0)
    rc = mfs_create(fx->node->mfs, dir, name, strlen(name), e);
  repo_gc_unlock(fx->node->repo);
  if (rc < 0) {
    fuse_reply_err(req, mfs_errno(rc));
    return;
  }
  node_debug(fx->node, "add %s", name);
  fsx_reply_mfs_entry(req, fx, e);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
                     mode_t mode)
{
  mfs_entry_t e;
  new_entry(fsx_of(req), &e, MFS_DIR, mode);
  add_entry(req, parent, name, &e, NULL);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
                     mode_t mode, dev_t rdev)
{
  mfs_entry_t e;
  uint64_t dir;
  int err = target_dir(fsx_of(req), parent, name, &dir);
  if (err == 0 && !S_ISREG(mode))
    err = EPERM; /* UnixFS has no devices, fifos, sockets */
  if (err != 0) {
    fuse_reply_err(req, err);
    return;
  }
  new_entry(fsx_of(req), &e, MFS_FILE, mode);
  add_entry(req, parent, name, &e, NULL);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
                       const char *name)
{
  fsx_t *fx = fsx_of(req);
  mfs_entry_t e;
  new_entry(fx, &e, MFS_SYMLINK, 0777);
  add_entry(req, parent, name, &e, link);
}

static void remove_entry(fuse_req_t req, fuse_ino_t parent, const char *name,
                         bool dir_only)
{
  fsx_t *fx = fsx_of(req);
  uint64_t dir;
  int rc, err = target_dir(fx, parent, name, &dir);
  if (err) {
    fuse_reply_err(req, err);
    return;
  }
  rc = mfs_remove(fx->node->mfs, dir, name, strlen(name), dir_only);
  if (rc == 0)
    node_debug(fx->node, "remove %s", name);
  fuse_reply_err(req, rc < 0 ? mfs_errno(rc) : 0);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
  remove_entry(req, parent, name, false);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
  remove_entry(req, parent, name, true);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
                      fuse_ino_t newparent, const char *newname,
                      unsigned int flags)
{
  fsx_t *fx = fsx_of(req);
  uint64_t sdir, ddir;
  int rc, err = target_dir(fx, parent, name, &sdir);
  if (err == 0)
    err = target_dir(fx, newparent, newname, &ddir);
  if (err == 0 && (flags & ~(unsigned)RENAME_NOREPLACE))
    err = EINVAL; /* RENAME_EXCHANGE, RENAME_WHITEOUT */
  if (err) {
    fuse_reply_err(req, err);
    return;
  }
  rc = mfs_rename(fx->node->mfs, sdir, name, strlen(name), ddir, newname,
                  strlen(newname),
                  (flags & RENAME_NOREPLACE) ? MFS_RENAME_NOREPLACE : 0, NULL);
  if (rc == 0)
    node_debug(fx->node, "rename %s -> %s", name, newname);
  fuse_reply_err(req, rc < 0 ? mfs_errno(rc) : 0);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
                    const char *newname)
{
  uint64_t dir;
  int err = target_dir(fsx_of(req), newparent, newname, &dir);
  /* Below a CID nothing can be added; the published tree has no hard
   * links. */
  fuse_reply_err(req, err != 0 ? err : EPERM);
}

/* Feed a write to the staging's importer when it continues the stream
 * from offset 0: 1 when taken, 0 when fd must take it, or an error. Under
 * the inode's lock. */
static int stream_write(fsx_t *fx, staging_t *s, const uint8_t *buf,
                        size_t size, off_t off)
{
  struct stat st;
  int rc;

  if (s->lost)
    return -EIO;
  if (s->no_stream || s->in_mfs)
    return 0;
  if (s->imp == NULL) {
    if (off != 0 || fstat(s->fd, &st) < 0 || st.st_size != 0)
      return 0;
  } else if ((uint64_t)off != s->imp_off) {
    return 0;
  }
  /* Shared GC lock: GC sees the import's state between writes only, and
   * keeps what it wrote (node_stream_begin). */
  repo_gc_lock_shared(fx->node->repo);
  rc = 0;
  if (s->imp == NULL) {
    rc = importer_file_new(&s->imp, &fx->node->iopts, &fx->node->put);
    if (rc == 0 && (rc = node_stream_begin(fx->node, s->imp)) < 0) {
      importer_file_free(s->imp);
      s->imp = NULL;
    }
  }
  if (rc == 0)
    rc = importer_file_write(s->imp, buf, size);
  repo_gc_unlock(fx->node->repo);
  if (rc < 0) {
    /* What the importer took is gone: the file cannot be published. */
    s->lost = s->imp != NULL;
    stream_drop(fx, s);
    return rc;
  }
  s->imp_off += size;
  s->dirty = true;
  (void)futimens(s->fd, NULL); /* getattr's mtime */
  return 1;
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
                     size_t size, off_t off, struct fuse_file_info *fi)
{
  fsx_t *fx = fsx_of(req);
  fh_t *h = (fh_t *)(uintptr_t)fi->fh;
  size_t done = 0;
  int rc;

  if (h->stg == NULL || !h->writable) {
    fuse_reply_err(req, EBADF);
    return;
  }
  pthread_mutex_lock(&h->in->lock);
  rc = stream_write(fx, h->stg, (const uint8_t *)buf, size, off);
  if (rc == 0) /* not in order: the content goes back to fd */
    rc = fsx_stage_fill(fx, h->in, h->stg);
  pthread_mutex_unlock(&h->in->lock);
  if (rc < 0) {
    fuse_reply_err(req, fsx_errno(rc));
    return;
  }
  if (rc == 1) {
    fuse_reply_write(req, size);
    return;
  }
  while (done < size) {
    ssize_t w = pwrite(h->stg->fd, buf + done, size - done, off + (off_t)done);
    if (w < 0 && errno == EINTR)
      continue;
    if (w < 0) {
      fuse_reply_err(req, errno);
      return;
    }
    done += (size_t)w;
  }
  pthread_mutex_lock(&h->in->lock);
  h->stg->dirty = true;
  pthread_mutex_unlock(&h->in->lock);
  fuse_reply_write(req, done);
}

/* Truncate a published file, staged or not. */
static int truncate_mfs(fsx_t *fx, inode_t *in, off_t size)
{
  staging_t *stg;
  int rc;
  pthread_mutex_lock(&in->lock);
  rc = fsx_stage(fx, in, size == 0, &stg);
  if (rc == 0 && size != 0)
    rc = fsx_stage_fill(fx, in, stg);
  if (rc == 0) {
    if (ftruncate(stg->fd, size) < 0)
      rc = -errno;
    else
      stg->dirty = true;
    /* Nobody else has it open: publish now, nothing will later. */
    if (rc == 0 && stg->refs == 1)
      rc = fsx_publish(fx, in, stg);
    fsx_unstage(fx, in, stg);
  }
  pthread_mutex_unlock(&in->lock);
  return rc;
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
                       int to_set, struct fuse_file_info *fi)
{
  fsx_t *fx = fsx_of(req);
  inode_t *in = itable_get(fx->it, ino);
  mfs_entry_t e;
  struct stat st;
  struct timespec ts;
  int64_t sec = -1;
  uint32_t nsec = 0;
  int mode = -1, rc = 0;

  if (in == NULL || in->kind == INODE_CID) {
    fuse_reply_err(req, in == NULL ? ESTALE : EROFS);
    return;
  }
  if (in->kind == INODE_ROOT) {
    /* cp -a and rsync -a set the times of the top directory: the mount's
     * root keeps none, so accept and ignore them, as for ownership. */
    if (to_set & FUSE_SET_ATTR_SIZE) {
      fuse_reply_err(req, EISDIR);
      return;
    }
    fsx_root_attr(fx, &st);
    fuse_reply_attr(req, &st, FSX_MFS_TIMEOUT);
    return;
  }
  if (to_set & FUSE_SET_ATTR_SIZE)
    rc = truncate_mfs(fx, in, attr->st_size);
  if (to_set & FUSE_SET_ATTR_MODE)
    mode = (int)(attr->st_mode & 07777);
  if (to_set & FUSE_SET_ATTR_MTIME_NOW) {
    clock_gettime(CLOCK_REALTIME, &ts);
    sec = ts.tv_sec;
    nsec = (uint32_t)ts.tv_nsec;
  } else if (to_set & FUSE_SET_ATTR_MTIME) {
    sec = attr->st_mtim.tv_sec;
    nsec = (uint32_t)attr->st_mtim.tv_nsec;
  }
  /* Ownership and atime are not kept: accepted and ignored, as on
   * filesystems without them, so cp -a and rsync -a work. */
  if (rc == 0 && (mode >= 0 || sec >= 0))
    rc =
        mfs_set_meta(fx->node->mfs, in->mfs_id, mode, sec < 0 ? -1 : sec, nsec);
  if (rc == 0)
    rc = mfs_get(fx->node->mfs, in->mfs_id, &e, NULL, NULL);
  if (rc < 0) {
    fuse_reply_err(req, mfs_errno(rc));
    return;
  }
  fsx_attr_mfs(fx, in, &e, &st);
  fuse_reply_attr(req, &st, FSX_MFS_TIMEOUT);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
                        const char *value, size_t size, int flags)
{
  inode_t *in = itable_get(fsx_of(req)->it, ino);
  fuse_reply_err(req, in && in->kind == INODE_CID ? EROFS : ENOTSUP);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
  inode_t *in = itable_get(fsx_of(req)->it, ino);
  fuse_reply_err(req, in && in->kind == INODE_CID ? EROFS : ENOTSUP);
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
                        struct fuse_file_info *fi)
{
  int rc = mfs_flush(fsx_of(req)->node->mfs);
  fuse_reply_err(req, rc < 0 ? fsx_errno(rc) : 0);
}

void fsx_write_ops(struct fuse_lowlevel_ops *ops)
{
  ops->create = op_create;
  ops->mkdir = op_mkdir;
  ops->mknod = op_mknod;
  ops->symlink = op_symlink;
  ops->unlink = op_unlink;
  ops->rmdir = op_rmdir;
  ops->rename = op_rename;
  ops->link = op_link;
  ops->write = op_write;
  ops->setattr = op_setattr;
  ops->setxattr = op_setxattr;
  ops->removexattr = op_removexattr;
  ops->fsyncdir = op_fsyncdir;
}
