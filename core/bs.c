#include "bs.h"

#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "err.h"
#include "mh.h"

#define BS_PREFIX_LEN 2
#define BS_KEY_MAX (BS_PREFIX_LEN + MH_MAX_LEN)
/* A batch starts a new pack past this, so one dead import frees its space
 * at GC even when a later import in the same batch lives on. */
#define BS_PACK_MAX ((uint64_t)256 << 20)
/* Index value: pack id (8 bytes), offset (8), length (4), little-endian. */
#define BS_INDEX_LEN 20
#define BS_PACK_NAME_MAX 32
/* Start writing a pack back to disk every this many bytes, so the commit's
 * fdatasync finds little left to do instead of a whole import's worth. */
#define BS_WRITEBACK_STEP ((uint64_t)8 << 20)
/* The shared append pack rolls over past this: small enough that GC can
 * free fetched content it no longer needs a pack at a time. */
#define BS_APPEND_MAX ((uint64_t)64 << 20)

typedef struct bs_pack_s {
  uint64_t id;
  uint64_t size;
  uint64_t flushed; /* writeback started up to here */
  int fd;
} bs_pack_t;

/* Pack ids on a list: the packs open batches are writing, or the ones an
 * index scan found live. */
typedef struct bs_ids_s {
  uint64_t *v;
  size_t n;
  size_t cap;
} bs_ids_t;

struct bs_s {
  kv_t *kv;
  int dirfd;            /* packs; -1 keeps every block in kv */
  pthread_mutex_t lock; /* next_id and open, shared by batch threads */
  uint64_t next_id;
  bs_ids_t open; /* packs of uncommitted batches: GC keeps them */
  /* Single puts and bs_put_many (fetched blocks, a few at a time) append
   * to one pack instead of creating a file each: a remote read of 1 GiB
   * otherwise made thousands of pack files. Held across the index commit,
   * so a pack leaves the open list only once all it holds is indexed. */
  pthread_mutex_t alock;
  bs_pack_t apack; /* fd -1: none yet */
};

struct bs_batch_s {
  bs_t *bs;
  kv_batch_t *kb;
  size_t mem;    /* bytes held by kb */
  bool has_puts; /* commit must be durable */
  bool append;   /* writes to bs->apack, under bs->alock */
  bs_pack_t *packs;
  size_t npacks;
  size_t cap;
  uint8_t last_mh[MH_MAX_LEN]; /* a run of equal blocks is written once */
  size_t last_mhlen;
};

/* prefix + multihash: a CIDv0 and a CIDv1 (any codec) of the same bytes
 * are one block, as in kubo's blockstore. */
static int bs_key(const char *prefix, const cid_t *cid, uint8_t key[BS_KEY_MAX],
                  size_t *klen)
{
  size_t mhlen;
  const uint8_t *mh = cid_mh(cid, &mhlen);

  if (mh == NULL || mhlen == 0 || mhlen > MH_MAX_LEN)
    return CIPFS_ECID;
  memcpy(key, prefix, BS_PREFIX_LEN);
  memcpy(key + BS_PREFIX_LEN, mh, mhlen);
  *klen = BS_PREFIX_LEN + mhlen;
  return 0;
}

/* Identity CIDs carry their data inline; they are never stored (as kubo's
 * identity-aware blockstore), yet every read of them succeeds. */
static bool bs_is_identity(const cid_t *cid)
{
  return cid->mh_code == MH_IDENTITY;
}

static bool bs_use_file(const bs_t *bs, size_t len)
{
  return bs->dirfd >= 0 && len > BS_INLINE_MAX;
}

static void bs_put_le(uint8_t *out, uint64_t v, int n)
{
  for (int i = 0; i < n; i++)
    out[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t bs_get_le(const uint8_t *v, int n)
{
  uint64_t x = 0;

  for (int i = 0; i < n; i++)
    x |= (uint64_t)v[i] << (8 * i);
  return x;
}

size_t bs_index_size(const uint8_t *val, size_t vlen)
{
  return vlen < BS_INDEX_LEN ? 0 : (size_t)bs_get_le(val + 16, 4);
}

static void bs_pack_name(uint64_t id, char name[BS_PACK_NAME_MAX])
{
  snprintf(name, BS_PACK_NAME_MAX, "%016" PRIx64 ".pack", id);
}

/* The id of a pack file name, 0 if it is not one. */
static uint64_t bs_pack_id(const char *name)
{
  char *end;
  uint64_t id;

  if (strlen(name) != 21 || strcmp(name + 16, ".pack") != 0)
    return 0;
  id = strtoull(name, &end, 16);
  return end == name + 16 ? id : 0;
}

static int bs_ids_add(bs_ids_t *l, uint64_t id)
{
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    uint64_t *v = realloc(l->v, cap * sizeof(*v));

    if (v == NULL)
      return -ENOMEM;
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = id;
  return 0;
}

static bool bs_ids_has(const bs_ids_t *l, uint64_t id)
{
  for (size_t i = 0; i < l->n; i++)
    if (l->v[i] == id)
      return true;
  return false;
}

static void bs_ids_remove(bs_ids_t *l, uint64_t id)
{
  for (size_t i = 0; i < l->n; i++) {
    if (l->v[i] == id) {
      l->v[i] = l->v[--l->n];
      return;
    }
  }
}

static int bs_ids_cmp(const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

  return x < y ? -1 : x > y;
}

static bool bs_ids_sorted_has(const bs_ids_t *l, uint64_t id)
{
  return l->n > 0 && bsearch(&id, l->v, l->n, sizeof(id), bs_ids_cmp) != NULL;
}

/* A new pack for a batch, registered as open until the batch ends. */
static int bs_pack_new(bs_t *bs, bs_pack_t *p)
{
  char name[BS_PACK_NAME_MAX];
  int rc;

  pthread_mutex_lock(&bs->lock);
  p->id = bs->next_id++;
  rc = bs_ids_add(&bs->open, p->id);
  pthread_mutex_unlock(&bs->lock);
  if (rc != 0)
    return rc;
  bs_pack_name(p->id, name);
  p->size = 0;
  p->flushed = 0;
  p->fd =
      openat(bs->dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (p->fd >= 0)
    return 0;
  rc = -errno;
  pthread_mutex_lock(&bs->lock);
  bs_ids_remove(&bs->open, p->id);
  pthread_mutex_unlock(&bs->lock);
  return rc;
}

/* Close a batch's pack; remove the file too when the batch never made it
 * visible. */
static void bs_pack_end(bs_t *bs, bs_pack_t *p, bool discard)
{
  char name[BS_PACK_NAME_MAX];

  if (p->fd >= 0)
    close(p->fd);
  p->fd = -1;
  if (discard) {
    bs_pack_name(p->id, name);
    unlinkat(bs->dirfd, name, 0);
  }
  pthread_mutex_lock(&bs->lock);
  bs_ids_remove(&bs->open, p->id);
  pthread_mutex_unlock(&bs->lock);
}

static int bs_pwrite_all(int fd, const uint8_t *data, size_t len, off_t off)
{
  while (len > 0) {
    ssize_t n = pwrite(fd, data, len, off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -errno;
    if (n == 0)
      return -ENOSPC;
    data += n;
    len -= (size_t)n;
    off += n;
  }
  return 0;
}

static int bs_pread_all(int fd, uint8_t *data, size_t len, off_t off)
{
  while (len > 0) {
    ssize_t n = pread(fd, data, len, off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -errno;
    if (n == 0)
      return CIPFS_ECORRUPT; /* the pack is shorter than its index says */
    data += n;
    len -= (size_t)n;
    off += n;
  }
  return 0;
}

/* The index entry of a packed block: CIPFS_ENOTFOUND if there is none. */
static int bs_index_get(bs_t *bs, const cid_t *cid, uint8_t idx[BS_INDEX_LEN])
{
  uint8_t key[BS_KEY_MAX], *val;
  size_t klen, vlen;
  int rc;

  if (bs->dirfd < 0)
    return CIPFS_ENOTFOUND;
  rc = bs_key(BS_KEY_FILE, cid, key, &klen);
  if (rc == 0)
    rc = kv_get(bs->kv, key, klen, &val, &vlen);
  if (rc != 0)
    return rc;
  if (vlen == BS_INDEX_LEN)
    memcpy(idx, val, BS_INDEX_LEN);
  else
    rc = CIPFS_ECORRUPT;
  free(val);
  return rc;
}

static int bs_read_packed(bs_t *bs, const uint8_t idx[BS_INDEX_LEN],
                          uint8_t **data, size_t *len)
{
  char name[BS_PACK_NAME_MAX];
  uint64_t off = bs_get_le(idx + 8, 8);
  size_t n = (size_t)bs_get_le(idx + 16, 4);
  uint8_t *p;
  int fd, rc;

  if (n > BLOCK_MAX_SIZE || off > INT64_MAX - n)
    return CIPFS_ECORRUPT;
  bs_pack_name(bs_get_le(idx, 8), name);
  fd = openat(bs->dirfd, name, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    /* Indexed but gone: the store is damaged, which is what "corrupt"
     * tells the user (and repo verify). */
    return errno == ENOENT ? CIPFS_ECORRUPT : -errno;
  p = malloc(n > 0 ? n : 1);
  rc = p == NULL ? -ENOMEM : bs_pread_all(fd, p, n, (off_t)off);
  close(fd);
  if (rc != 0) {
    free(p);
    return rc;
  }
  *data = p;
  *len = n;
  return 0;
}

int bs_locate(bs_t *bs, const cid_t *cid, char *name, size_t cap, uint64_t *off,
              size_t *len)
{
  uint8_t idx[BS_INDEX_LEN];
  char pack[BS_PACK_NAME_MAX];
  int rc;

  rc = bs_index_get(bs, cid, idx);
  if (rc != 0)
    return rc;
  bs_pack_name(bs_get_le(idx, 8), pack);
  if (snprintf(name, cap, "%s", pack) >= (int)cap)
    return -ENAMETOOLONG;
  *off = bs_get_le(idx + 8, 8);
  *len = (size_t)bs_get_le(idx + 16, 4);
  return 0;
}

int bs_new(bs_t **out, kv_t *kv)
{
  bs_t *bs = calloc(1, sizeof(*bs));

  *out = NULL;
  if (bs == NULL)
    return -ENOMEM;
  bs->kv = kv;
  bs->dirfd = -1;
  bs->next_id = 1;
  pthread_mutex_init(&bs->lock, NULL);
  pthread_mutex_init(&bs->alock, NULL);
  bs->apack.fd = -1;
  *out = bs;
  return 0;
}

/* New packs get ids above every pack on disk. */
/* The pack directory from its start, for one scan; closedir() after. */
static int bs_open_packs(bs_t *bs, DIR **out)
{
  int fd = dup(bs->dirfd);
  DIR *d;

  if (fd < 0)
    return -errno;
  d = fdopendir(fd);
  if (d == NULL) {
    close(fd);
    return -errno;
  }
  /* A dup shares the directory offset an earlier scan left at the end. */
  rewinddir(d);
  *out = d;
  return 0;
}

static int bs_scan_ids(bs_t *bs)
{
  struct dirent *e;
  DIR *d = NULL;
  int rc = bs_open_packs(bs, &d);

  if (rc != 0)
    return rc;
  while ((e = readdir(d)) != NULL) {
    uint64_t id = bs_pack_id(e->d_name);
    if (id >= bs->next_id)
      bs->next_id = id + 1;
  }
  closedir(d);
  return 0;
}

int bs_new_dir(bs_t **out, kv_t *kv, const char *dir)
{
  int rc, fd;

  *out = NULL;
  if (mkdir(dir, 0755) < 0 && errno != EEXIST)
    return -errno;
  fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    return -errno;
  rc = bs_new(out, kv);
  if (rc != 0) {
    close(fd);
    return rc;
  }
  (*out)->dirfd = fd;
  rc = bs_scan_ids(*out);
  if (rc != 0) {
    bs_free(*out);
    *out = NULL;
  }
  return rc;
}

void bs_free(bs_t *bs)
{
  if (bs == NULL)
    return;
  if (bs->apack.fd >= 0)
    bs_pack_end(bs, &bs->apack, false);
  if (bs->dirfd >= 0)
    close(bs->dirfd);
  pthread_mutex_destroy(&bs->alock);
  pthread_mutex_destroy(&bs->lock);
  free(bs->open.v);
  free(bs);
}

static int bs_batch_put_int(bs_batch_t *b, const cid_t *cid,
                            const uint8_t *data, size_t len, bool force);
static int bs_batch_commit_int(bs_batch_t *b, bool durable);

int bs_put(bs_t *bs, const cid_t *cid, const uint8_t *data, size_t len)
{
  bs_put_item_t item = {cid, data, len};
  uint8_t key[BS_KEY_MAX];
  size_t klen;
  int rc;

  if (len > BLOCK_MAX_SIZE)
    return CIPFS_ETOOBIG;
  if (bs_is_identity(cid))
    return 0;
  if (!bs_use_file(bs, len)) {
    rc = bs_key(BS_KEY_INLINE, cid, key, &klen);
    if (rc != 0)
      return rc;
    /* No has() first (kubo's WriteThrough default): a put over a corrupt
     * copy must repair it, and LevelDB writes are cheap appends. */
    return kv_put(bs->kv, key, klen, data, len, false);
  }
  return bs_put_many(bs, &item, 1);
}

int bs_put_many(bs_t *bs, const bs_put_item_t *items, size_t n)
{
  bs_batch_t *b;
  int rc = 0;

  b = bs_batch_new(bs);
  if (b == NULL)
    return -ENOMEM;
  b->append = true;
  pthread_mutex_lock(&bs->alock);
  for (size_t i = 0; rc == 0 && i < n; i++)
    if (!bs_is_identity(items[i].cid))
      rc = bs_batch_put_int(b, items[i].cid, items[i].data, items[i].len, true);
  if (rc == 0)
    rc = bs_batch_commit_int(b, false);
  pthread_mutex_unlock(&bs->alock);
  bs_batch_free(b);
  return rc;
}

static int bs_get_int(bs_t *bs, const cid_t *cid, uint8_t **data, size_t *len,
                      bool check)
{
  uint8_t key[BS_KEY_MAX], idx[BS_INDEX_LEN];
  size_t klen;
  int rc;

  *data = NULL;
  *len = 0;
  if (bs_is_identity(cid)) {
    *data = malloc(cid->digest_len > 0 ? cid->digest_len : 1);
    if (*data == NULL)
      return -ENOMEM;
    memcpy(*data, cid->bytes + cid->digest_off, cid->digest_len);
    *len = cid->digest_len;
    return 0;
  }
  rc = bs_key(BS_KEY_INLINE, cid, key, &klen);
  if (rc != 0)
    return rc;
  rc = kv_get(bs->kv, key, klen, data, len);
  if (rc == CIPFS_ENOTFOUND) {
    rc = bs_index_get(bs, cid, idx);
    if (rc == 0)
      rc = bs_read_packed(bs, idx, data, len);
  }
  if (rc != 0 || !check)
    return rc;
  /* Disks and people corrupt files: never serve bytes that are not what
   * the CID names. */
  rc = cid_verify(cid, *data, *len);
  if (rc != 0) {
    free(*data);
    *data = NULL;
    *len = 0;
    return rc;
  }
  return 0;
}

int bs_get(bs_t *bs, const cid_t *cid, uint8_t **data, size_t *len)
{
  return bs_get_int(bs, cid, data, len, true);
}

int bs_get_unchecked(bs_t *bs, const cid_t *cid, uint8_t **data, size_t *len)
{
  return bs_get_int(bs, cid, data, len, false);
}

int bs_has(bs_t *bs, const cid_t *cid)
{
  uint8_t key[BS_KEY_MAX];
  size_t klen;
  int rc;

  if (bs_is_identity(cid))
    return 1;
  rc = bs_key(BS_KEY_INLINE, cid, key, &klen);
  if (rc != 0)
    return rc;
  rc = kv_has(bs->kv, key, klen);
  if (rc != 0 || bs->dirfd < 0)
    return rc;
  key[0] = BS_KEY_FILE[0];
  return kv_has(bs->kv, key, klen);
}

int bs_size(bs_t *bs, const cid_t *cid, size_t *len)
{
  uint8_t key[BS_KEY_MAX], idx[BS_INDEX_LEN];
  uint8_t *data;
  size_t klen;
  int rc;

  *len = 0;
  if (bs_is_identity(cid)) {
    *len = cid->digest_len;
    return 0;
  }
  rc = bs_key(BS_KEY_INLINE, cid, key, &klen);
  if (rc != 0)
    return rc;
  /* LevelDB has no value-size query; inline blocks are small. */
  rc = kv_get(bs->kv, key, klen, &data, len);
  if (rc == 0)
    free(data);
  if (rc == CIPFS_ENOTFOUND) {
    rc = bs_index_get(bs, cid, idx);
    if (rc == 0)
      *len = bs_index_size(idx, sizeof(idx));
  }
  return rc;
}

int bs_delete(bs_t *bs, const cid_t *cid)
{
  bs_batch_t *b;
  int rc;

  if (bs_is_identity(cid))
    return 0;
  b = bs_batch_new(bs);
  if (b == NULL)
    return -ENOMEM;
  rc = bs_batch_delete(b, cid);
  if (rc == 0)
    rc = bs_batch_commit_int(b, false);
  bs_batch_free(b);
  return rc;
}

bs_batch_t *bs_batch_new(bs_t *bs)
{
  bs_batch_t *b = calloc(1, sizeof(*b));

  if (b == NULL)
    return NULL;
  b->bs = bs;
  b->kb = kv_batch_new();
  if (b->kb == NULL) {
    free(b);
    return NULL;
  }
  return b;
}

/* The pack the next block goes to: the batch's last one, or a new one when
 * there is none yet or it is full. */
static int bs_batch_pack(bs_batch_t *b, bs_pack_t **out)
{
  int rc;

  if (b->append) {
    bs_pack_t *a = &b->bs->apack;
    if (a->fd >= 0 && a->size >= BS_APPEND_MAX)
      bs_pack_end(b->bs, a, false); /* all it holds is indexed by now */
    if (a->fd < 0) {
      rc = bs_pack_new(b->bs, a);
      if (rc != 0)
        return rc;
    }
    *out = a;
    return 0;
  }
  if (b->npacks > 0) {
    bs_pack_t *last = &b->packs[b->npacks - 1];
    if (last->size < BS_PACK_MAX) {
      *out = last;
      return 0;
    }
    /* A full pack is synced and closed now: a huge import keeps one
     * descriptor open, not one per 256 MiB. It stays the batch's (and
     * hidden from GC) until the commit. */
    if (fdatasync(last->fd) < 0)
      return -errno;
    close(last->fd);
    last->fd = -1;
  }
  if (b->npacks == b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 4;
    bs_pack_t *v = realloc(b->packs, cap * sizeof(*v));

    if (v == NULL)
      return -ENOMEM;
    b->packs = v;
    b->cap = cap;
  }
  rc = bs_pack_new(b->bs, &b->packs[b->npacks]);
  if (rc != 0)
    return rc;
  *out = &b->packs[b->npacks++];
  return 0;
}

static int bs_batch_put_packed(bs_batch_t *b, const cid_t *cid,
                               const uint8_t *data, size_t len, bool force)
{
  uint8_t key[BS_KEY_MAX], idx[BS_INDEX_LEN];
  size_t klen, mhlen;
  const uint8_t *mh = cid_mh(cid, &mhlen);
  bs_pack_t *p = NULL;
  int rc;

  rc = bs_key(BS_KEY_FILE, cid, key, &klen);
  if (rc != 0)
    return rc;
  /* Imports repeat blocks (runs of zeros, files added again): store each
   * once. */
  if (!force && b->last_mhlen == mhlen && memcmp(b->last_mh, mh, mhlen) == 0)
    return 0;
  if (!force) {
    rc = kv_has(b->bs->kv, key, klen);
    if (rc != 0)
      return rc < 0 ? rc : 0;
  }
  rc = bs_batch_pack(b, &p);
  if (rc == 0)
    rc = bs_pwrite_all(p->fd, data, len, (off_t)p->size);
  if (rc != 0)
    return rc;
  bs_put_le(idx, p->id, 8);
  bs_put_le(idx + 8, p->size, 8);
  bs_put_le(idx + 16, len, 4);
  p->size += len;
  if (p->size - p->flushed >= BS_WRITEBACK_STEP) {
    /* Asynchronous: queues the range for writeback and returns. */
    (void)sync_file_range(p->fd, (off_t)p->flushed,
                          (off_t)(p->size - p->flushed), SYNC_FILE_RANGE_WRITE);
    p->flushed = p->size;
  }
  kv_batch_put(b->kb, key, klen, idx, sizeof(idx));
  b->mem += klen + sizeof(idx);
  memcpy(b->last_mh, mh, mhlen);
  b->last_mhlen = mhlen;
  return 0;
}

static int bs_batch_put_int(bs_batch_t *b, const cid_t *cid,
                            const uint8_t *data, size_t len, bool force)
{
  uint8_t key[BS_KEY_MAX];
  size_t klen;
  int rc;

  if (len > BLOCK_MAX_SIZE)
    return CIPFS_ETOOBIG;
  if (bs_is_identity(cid))
    return 0;
  b->has_puts = true;
  if (bs_use_file(b->bs, len))
    return bs_batch_put_packed(b, cid, data, len, force);
  rc = bs_key(BS_KEY_INLINE, cid, key, &klen);
  if (rc != 0)
    return rc;
  kv_batch_put(b->kb, key, klen, data, len);
  b->mem += klen + len;
  return 0;
}

int bs_batch_put(bs_batch_t *b, const cid_t *cid, const uint8_t *data,
                 size_t len)
{
  return bs_batch_put_int(b, cid, data, len, false);
}

int bs_batch_delete(bs_batch_t *b, const cid_t *cid)
{
  uint8_t key[BS_KEY_MAX];
  size_t klen;
  int rc;

  if (bs_is_identity(cid))
    return 0;
  rc = bs_key(BS_KEY_INLINE, cid, key, &klen);
  if (rc != 0)
    return rc;
  kv_batch_delete(b->kb, key, klen);
  b->mem += klen;
  if (b->bs->dirfd < 0)
    return 0;
  /* The bytes stay in their pack until GC finds it holds nothing live. */
  key[0] = BS_KEY_FILE[0];
  kv_batch_delete(b->kb, key, klen);
  b->mem += klen;
  b->last_mhlen = 0;
  return 0;
}

static int bs_batch_commit_int(bs_batch_t *b, bool durable)
{
  int rc;

  /* The packs must be on disk before the index names them. */
  for (size_t i = 0; durable && i < b->npacks; i++)
    if (b->packs[i].fd >= 0 && fdatasync(b->packs[i].fd) < 0)
      return -errno;
  rc = kv_batch_commit(b->bs->kv, b->kb, durable && b->has_puts);
  if (rc != 0)
    return rc;
  for (size_t i = 0; i < b->npacks; i++)
    bs_pack_end(b->bs, &b->packs[i], false);
  b->npacks = 0;
  b->mem = 0;
  b->has_puts = false;
  b->last_mhlen = 0;
  return 0;
}

int bs_batch_commit(bs_batch_t *b)
{
  /* Durable when it adds blocks: a batch is the unit an import or fetch
   * relies on afterwards. Deletions need no such promise. */
  return bs_batch_commit_int(b, true);
}

size_t bs_batch_mem(const bs_batch_t *b)
{
  return b->mem;
}

void bs_batch_free(bs_batch_t *b)
{
  if (b == NULL)
    return;
  /* Packs of an uncommitted batch hold nothing anyone can see. */
  for (size_t i = 0; i < b->npacks; i++)
    bs_pack_end(b->bs, &b->packs[i], true);
  free(b->packs);
  kv_batch_free(b->kb);
  free(b);
}

static int bs_list_prefix(bs_t *bs, const char *prefix, bs_list_cb cb,
                          void *arg)
{
  const uint8_t *key, *val;
  size_t klen, vlen;
  kv_iter_t *it;
  cid_t cid;
  int rc;

  rc = kv_iter_new(&it, bs->kv, prefix, BS_PREFIX_LEN);
  if (rc != 0)
    return rc;
  while ((rc = kv_iter_next(it, &key, &klen, &val, &vlen)) == 1) {
    /* A key that is not a multihash was not written by us; skip it rather
     * than make the whole listing fail. */
    if (cid_make(&cid, 1, CID_CODEC_RAW, key + BS_PREFIX_LEN,
                 klen - BS_PREFIX_LEN) != 0)
      continue;
    if (prefix[0] == BS_KEY_FILE[0])
      vlen = bs_index_size(val, vlen);
    rc = cb(arg, &cid, vlen);
    if (rc != 0)
      break;
  }
  kv_iter_free(it);
  return rc;
}

int bs_list(bs_t *bs, bs_list_cb cb, void *arg)
{
  int rc = bs_list_prefix(bs, BS_KEY_INLINE, cb, arg);

  if (rc != 0 || bs->dirfd < 0)
    return rc;
  return bs_list_prefix(bs, BS_KEY_FILE, cb, arg);
}

/* Every pack an index entry points to, sorted. */
static int bs_live_packs(bs_t *bs, bs_ids_t *live)
{
  const uint8_t *key, *val;
  size_t klen, vlen;
  kv_iter_t *it;
  uint64_t last = 0;
  int rc;

  rc = kv_iter_new(&it, bs->kv, BS_KEY_FILE, BS_PREFIX_LEN);
  if (rc != 0)
    return rc;
  while ((rc = kv_iter_next(it, &key, &klen, &val, &vlen)) == 1) {
    uint64_t id;
    if (vlen != BS_INDEX_LEN)
      continue;
    id = bs_get_le(val, 8);
    if (id != last) /* cheap dedup; sorting does the rest */
      rc = bs_ids_add(live, id);
    last = id;
    if (rc != 0)
      break;
  }
  kv_iter_free(it);
  if (rc == 0 && live->n > 0)
    qsort(live->v, live->n, sizeof(*live->v), bs_ids_cmp);
  return rc;
}

static int bs_remove_dead(bs_t *bs, uint64_t limit, const bs_ids_t *open,
                          const bs_ids_t *live)
{
  char name[BS_PACK_NAME_MAX];
  struct dirent *e;
  int removed = 0;
  DIR *d = NULL;
  int rc = bs_open_packs(bs, &d);

  if (rc != 0)
    return rc;
  while ((e = readdir(d)) != NULL) {
    uint64_t id = bs_pack_id(e->d_name);
    if (id == 0 || id >= limit || bs_ids_has(open, id) ||
        bs_ids_sorted_has(live, id))
      continue;
    bs_pack_name(id, name);
    if (unlinkat(bs->dirfd, name, 0) == 0)
      removed++;
  }
  closedir(d);
  return removed;
}

int bs_gc_packs(bs_t *bs)
{
  bs_ids_t open = {0}, live = {0};
  uint64_t limit;
  int rc = 0;

  if (bs->dirfd < 0)
    return 0;
  /* Which packs are open and which ids exist is read before the index:
   * a pack whose batch commits after this is either on the open list or
   * at or above limit, so the scan's older view cannot condemn it. */
  pthread_mutex_lock(&bs->alock);
  pthread_mutex_lock(&bs->lock);
  limit = bs->next_id;
  for (size_t i = 0; rc == 0 && i < bs->open.n; i++)
    rc = bs_ids_add(&open, bs->open.v[i]);
  pthread_mutex_unlock(&bs->lock);
  if (rc == 0)
    rc = bs_live_packs(bs, &live);
  /* No put is between its write and its commit while alock is held: an
   * append pack nothing indexed lives in is closed and goes with the other
   * dead packs (else a node's fetched content could never be freed). */
  if (rc == 0 && bs->apack.fd >= 0 && !bs_ids_sorted_has(&live, bs->apack.id)) {
    bs_ids_remove(&open, bs->apack.id);
    bs_pack_end(bs, &bs->apack, false);
  }
  pthread_mutex_unlock(&bs->alock);
  if (rc == 0)
    rc = bs_remove_dead(bs, limit, &open, &live);
  free(open.v);
  free(live.v);
  return rc;
}

static int bs_getter_get(void *arg, const cid_t *cid, uint8_t **data,
                         size_t *len)
{
  return bs_get(arg, cid, data, len);
}

static int bs_putter_put(void *arg, const cid_t *cid, const uint8_t *data,
                         size_t len)
{
  return bs_put(arg, cid, data, len);
}

void bs_getter(bs_t *bs, block_getter_t *g)
{
  g->get = bs_getter_get;
  g->prefetch = NULL;
  g->arg = bs;
}

void bs_putter(bs_t *bs, block_putter_t *p)
{
  p->put = bs_putter_put;
  p->arg = bs;
}
