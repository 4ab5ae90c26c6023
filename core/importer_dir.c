#include "importer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "hamt.h"
#include "importer_int.h"

/*
 * Directories: a plain UnixFS directory node, or a HAMT shard once the
 * size estimate passes the threshold (boxo ipld/unixfs/io/directory.go and
 * hamt/, ipfs-unixfs-importer dir-flat.js / dir-sharded.js). Entries are
 * collected and the node is built at finish, so the decision uses the
 * final contents.
 */

typedef struct dent_s {
  char *name;
  size_t name_len;
  cid_t cid;
  uint64_t tsize;
  size_t seq;    /* insertion order: the last add of a name wins */
  uint64_t hash; /* murmur3 h1 of the name, for the HAMT */
} dent_t;

struct importer_dir_s {
  importer_opts_t o;
  block_putter_t p;
  dent_t *ents;
  size_t n;
  size_t cap;
  size_t seq;
};

int importer_dir_new(importer_dir_t **out, const importer_opts_t *o,
                     const block_putter_t *p)
{
  importer_dir_t *d;
  unsigned fanout = o->hamt_fanout;

  *out = NULL;
  /* kubo: a power of two, a multiple of 8, at most 1024 (a level then
   * takes 10 bits of the name's hash and prefixes have three digits). */
  if (fanout < 8 || fanout > HAMT_MAX_FANOUT || (fanout & (fanout - 1)) != 0)
    return CIPFS_EUSAGE;
  d = calloc(1, sizeof(*d));
  if (d == NULL)
    return -ENOMEM;
  d->o = *o;
  d->p = *p;
  *out = d;
  return 0;
}

int importer_dir_add(importer_dir_t *d, const char *name, const cid_t *cid,
                     uint64_t tsize)
{
  size_t len = strlen(name);
  dent_t *e;

  if (len == 0 || memchr(name, '/', len) != NULL)
    return CIPFS_EPATH;
  if (d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 16;
    dent_t *v = realloc(d->ents, cap * sizeof(*v));

    if (v == NULL)
      return -ENOMEM;
    d->ents = v;
    d->cap = cap;
  }
  e = &d->ents[d->n];
  e->name = malloc(len + 1);
  if (e->name == NULL)
    return -ENOMEM;
  memcpy(e->name, name, len + 1);
  e->name_len = len;
  e->cid = *cid;
  e->tsize = tsize;
  e->seq = d->seq++;
  e->hash = hamt_hash((const uint8_t *)name, len);
  d->n++;
  return 0;
}

static int cmp_name(const void *a, const void *b)
{
  const dent_t *x = a, *y = b;
  size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
  int c = memcmp(x->name, y->name, n);

  if (c != 0)
    return c;
  if (x->name_len != y->name_len)
    return x->name_len < y->name_len ? -1 : 1;
  return x->seq < y->seq ? -1 : 1;
}

static int cmp_hash(const void *a, const void *b)
{
  const dent_t *x = a, *y = b;

  if (x->hash != y->hash)
    return x->hash < y->hash ? -1 : 1;
  return 0;
}

/* Sort by name and drop all but the last add of each name. */
static void sort_dedup(importer_dir_t *d)
{
  size_t w = 0;

  if (d->n > 1)
    qsort(d->ents, d->n, sizeof(*d->ents), cmp_name);
  for (size_t i = 0; i < d->n; i++) {
    bool last =
        i + 1 == d->n || d->ents[i + 1].name_len != d->ents[i].name_len ||
        memcmp(d->ents[i + 1].name, d->ents[i].name, d->ents[i].name_len) != 0;

    if (!last) {
      free(d->ents[i].name);
      continue;
    }
    d->ents[w++] = d->ents[i];
  }
  d->n = w;
}

static size_t pb_varint_len(uint64_t v)
{
  size_t n = 1;

  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

/* Bytes one link adds to a dag-pb node (boxo linkSerializedSize). */
static uint64_t link_block_bytes(size_t name_len, size_t cid_len,
                                 uint64_t tsize)
{
  uint64_t l = 1 + pb_varint_len(cid_len) + cid_len + 1 +
               pb_varint_len(name_len) + name_len + 1 + pb_varint_len(tsize);

  return 1 + pb_varint_len(l) + l;
}

/* kubo's estimate: "links" mode counts name + CID bytes per entry
 * (unixfs-v0-2015), "block" mode the exact serialized node, whose Data
 * field {Type=Directory} takes 4 bytes (unixfs-v1-2025). */
static uint64_t estimate(const importer_dir_t *d)
{
  uint64_t sum = d->o.hamt_by_block_size ? 4 : 0;

  for (size_t i = 0; i < d->n; i++) {
    const dent_t *e = &d->ents[i];

    if (d->o.hamt_by_block_size)
      sum += link_block_bytes(e->name_len, e->cid.len, e->tsize);
    else
      sum += e->name_len + e->cid.len;
  }
  return sum;
}

static int plain_dir(importer_dir_t *d, cid_t *cid, uint64_t *tsize)
{
  dagpb_link_t *links = NULL;
  uint64_t blen, tsum = 0;
  unixfs_t u;
  int rc;

  if (d->n > 0) {
    links = calloc(d->n, sizeof(*links));
    if (links == NULL)
      return -ENOMEM;
  }
  for (size_t i = 0; i < d->n; i++) {
    links[i].cid = d->ents[i].cid;
    links[i].name = (const uint8_t *)d->ents[i].name;
    links[i].name_len = d->ents[i].name_len;
    links[i].has_name = true;
    links[i].tsize = d->ents[i].tsize;
    links[i].has_tsize = true;
    tsum += d->ents[i].tsize;
  }
  unixfs_init(&u);
  u.type = UNIXFS_DIRECTORY;
  rc = imp_put_node(&d->o, &d->p, links, d->n, &u, cid, &blen);
  if (rc == 0)
    *tsize = blen + tsum;
  free(links);
  return rc;
}

static unsigned fanout_bits(unsigned fanout)
{
  unsigned bits = 0;

  while ((1u << bits) < fanout)
    bits++;
  return bits;
}

/* One shard node over entries e[0..n) (sorted by hash), all sharing the
 * bucket indexes of the levels above. A bucket holding one entry links it
 * as "%0*X"+name; a bucket holding more becomes a sub-shard "%0*X". */
static int shard_node(importer_dir_t *d, dent_t *e, size_t n, unsigned depth,
                      cid_t *cid, uint64_t *tsize)
{
  unsigned fanout = d->o.hamt_fanout, bits = fanout_bits(fanout);
  int pad = snprintf(NULL, 0, "%X", fanout - 1);
  dagpb_link_t *links = calloc(n, sizeof(*links));
  char **names = calloc(n, sizeof(*names));
  uint8_t bitfield[HAMT_MAX_FANOUT / 8] = {0};
  size_t nbytes = fanout / 8, nl = 0, skip = 0;
  uint64_t blen, tsum = 0;
  unixfs_t u;
  int rc = -ENOMEM;

  if (links == NULL || names == NULL)
    goto out;
  for (size_t i = 0, j; i < n; i = j) {
    int idx = hamt_index(e[i].hash, depth, bits);
    dagpb_link_t *l = &links[nl];
    size_t nlen = (size_t)pad;

    if (idx < 0) {
      rc = CIPFS_ELIMIT; /* two names with the same 64-bit hash */
      goto out;
    }
    for (j = i + 1; j < n && hamt_index(e[j].hash, depth, bits) == idx; j++)
      ;
    if (j - i == 1)
      nlen += e[i].name_len;
    names[nl] = malloc(nlen + 1);
    if (names[nl] == NULL)
      goto out;
    snprintf(names[nl], nlen + 1, "%0*X%s", pad, (unsigned)idx,
             j - i == 1 ? e[i].name : "");
    if (j - i == 1) {
      l->cid = e[i].cid;
      l->tsize = e[i].tsize;
    } else {
      rc = shard_node(d, e + i, j - i, depth + 1, &l->cid, &l->tsize);
      if (rc < 0)
        goto out;
    }
    l->name = (const uint8_t *)names[nl];
    l->name_len = nlen;
    l->has_name = true;
    l->has_tsize = true;
    tsum += l->tsize;
    bitfield[nbytes - 1 - (size_t)idx / 8] |= (uint8_t)(1u << (idx % 8));
    nl++;
  }
  /* The bitfield is a big-endian integer without leading zero bytes. */
  while (skip < nbytes && bitfield[skip] == 0)
    skip++;
  unixfs_init(&u);
  u.type = UNIXFS_HAMT;
  u.data = bitfield + skip;
  u.data_len = nbytes - skip;
  u.has_data = true;
  u.hash_type = HAMT_HASH_MURMUR3;
  u.has_hash_type = true;
  u.fanout = fanout;
  u.has_fanout = true;
  rc = imp_put_node(&d->o, &d->p, links, nl, &u, cid, &blen);
  if (rc == 0)
    *tsize = blen + tsum;
out:
  for (size_t i = 0; names != NULL && i < n; i++)
    free(names[i]);
  free(names);
  free(links);
  return rc;
}

int importer_dir_finish(importer_dir_t *d, cid_t *cid, uint64_t *tsize)
{
  uint64_t ts = 0;
  cid_t c;
  int rc;

  sort_dedup(d);
  if (d->o.hamt_threshold > 0 && estimate(d) > d->o.hamt_threshold) {
    if (d->n > 1)
      qsort(d->ents, d->n, sizeof(*d->ents), cmp_hash);
    rc = shard_node(d, d->ents, d->n, 0, &c, &ts);
  } else {
    rc = plain_dir(d, &c, &ts);
  }
  if (rc < 0)
    return rc;
  if (cid)
    *cid = c;
  if (tsize)
    *tsize = ts;
  return 0;
}

void importer_dir_free(importer_dir_t *d)
{
  if (d == NULL)
    return;
  for (size_t i = 0; i < d->n; i++)
    free(d->ents[i].name);
  free(d->ents);
  free(d);
}

int importer_symlink(const importer_opts_t *o, const block_putter_t *p,
                     const char *target, cid_t *cid, uint64_t *tsize)
{
  unixfs_t u;
  uint64_t blen;
  cid_t c;
  int rc;

  unixfs_init(&u);
  u.type = UNIXFS_SYMLINK;
  u.data = (const uint8_t *)target;
  u.data_len = strlen(target);
  u.has_data = true;
  rc = imp_put_node(o, p, NULL, 0, &u, &c, &blen);
  if (rc < 0)
    return rc;
  if (cid)
    *cid = c;
  if (tsize)
    *tsize = blen;
  return 0;
}
