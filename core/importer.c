#include "importer.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "chunker.h"
#include "err.h"
#include "importer_int.h"
#include "mh.h"

/*
 * File import, shaped exactly like boxo's balanced and trickle builders
 * (ipld/unixfs/importer), but push-driven: chunks arrive one at a time
 * from the chunker and only the open right-hand path of the tree is kept
 * in memory (at most max_links links per level).
 */

/* ---- options ---- */

void importer_opts_init(importer_opts_t *o)
{
  memset(o, 0, sizeof(*o));
  o->cid_version = 0;
  o->raw_leaves = false;
  o->mh_code = MH_SHA2_256;
  o->chunker = IMPORTER_CHUNK_SIZE;
  o->chunk_size = 262144;
  o->trickle = false;
  o->max_links = 174;
  o->hamt_threshold = 262144;
  o->hamt_by_block_size = false;
  o->hamt_fanout = 256;
}

int importer_opts_profile(importer_opts_t *o, const char *name)
{
  if (strcmp(name, "unixfs-v0-2015") == 0) {
    o->cid_version = 0;
    o->raw_leaves = false;
    o->chunk_size = 262144;
    o->max_links = 174;
    o->hamt_by_block_size = false;
  } else if (strcmp(name, "unixfs-v1-2025") == 0) {
    o->cid_version = 1;
    o->raw_leaves = true;
    o->chunk_size = 1048576;
    o->max_links = 1024;
    o->hamt_by_block_size = true;
  } else {
    return CIPFS_EUSAGE;
  }
  o->mh_code = MH_SHA2_256;
  o->chunker = IMPORTER_CHUNK_SIZE;
  o->hamt_threshold = 262144;
  o->hamt_fanout = 256;
  return 0;
}

int importer_opts_chunker(importer_opts_t *o, const char *spec)
{
  char *end;
  unsigned long long n;

  if (strcmp(spec, "buzhash") == 0) {
    o->chunker = IMPORTER_CHUNK_BUZHASH;
    return 0;
  }
  if (spec[0] == '\0' || strcmp(spec, "default") == 0) {
    o->chunker = IMPORTER_CHUNK_SIZE;
    return 0;
  }
  if (strncmp(spec, "size-", 5) != 0 || spec[5] < '0' || spec[5] > '9')
    return CIPFS_EUSAGE;
  errno = 0;
  n = strtoull(spec + 5, &end, 10);
  if (errno != 0 || *end != '\0' || n == 0 || n > CHUNKER_SIZE_LIMIT)
    return CIPFS_EUSAGE;
  o->chunker = IMPORTER_CHUNK_SIZE;
  o->chunk_size = (size_t)n;
  return 0;
}

void importer_opts_cid_version(importer_opts_t *o, int version,
                               bool raw_leaves_explicit)
{
  o->cid_version = version;
  if (!raw_leaves_explicit)
    o->raw_leaves = version >= 1;
}

int importer_opts_hash(importer_opts_t *o, const char *name,
                       bool cid_version_explicit, bool raw_leaves_explicit)
{
  uint64_t code;
  int rc;

  rc = mh_from_name(name, &code);
  if (rc < 0)
    return rc;
  if (code != MH_SHA2_256) {
    if (cid_version_explicit && o->cid_version == 0)
      return CIPFS_EUSAGE; /* CIDv0 only exists for sha2-256 */
    importer_opts_cid_version(o, 1, raw_leaves_explicit);
  }
  o->mh_code = code;
  return 0;
}

int imp_cid_version(const importer_opts_t *o)
{
  if (o->cid_version == 0 && o->mh_code != MH_SHA2_256)
    return 1;
  return o->cid_version;
}

int imp_put_node(const importer_opts_t *o, const block_putter_t *p,
                 const dagpb_link_t *links, size_t nlinks, const unixfs_t *u,
                 cid_t *cid, uint64_t *blen)
{
  buf_t data, blk;
  dagpb_node_t node;
  int rc;

  buf_init(&data);
  buf_init(&blk);
  rc = unixfs_encode(u, &data);
  if (rc < 0)
    goto out;
  memset(&node, 0, sizeof(node));
  node.links = (dagpb_link_t *)links;
  node.nlinks = nlinks;
  node.data = data.data;
  node.data_len = data.len;
  node.has_data = true;
  rc = dagpb_encode(&node, &blk);
  if (rc < 0)
    goto out;
  if (blk.len > BLOCK_MAX_SIZE) {
    rc = CIPFS_ETOOBIG;
    goto out;
  }
  rc = cid_sum(cid, imp_cid_version(o), CID_CODEC_DAG_PB, o->mh_code, blk.data,
               blk.len);
  if (rc < 0)
    goto out;
  rc = block_put(p, cid, blk.data, blk.len);
  if (rc < 0)
    goto out;
  *blen = blk.len;
out:
  buf_cleanup(&data);
  buf_cleanup(&blk);
  return rc;
}

/* ---- file import ---- */

/* A child of a file node: its CID, the bytes of its whole sub-DAG (the
 * link's Tsize) and the file bytes under it (the parent's blocksize). */
typedef struct ilink_s {
  cid_t cid;
  uint64_t tsize;
  uint64_t fsize;
} ilink_t;

typedef struct ilist_s {
  ilink_t *v;
  size_t n;
  size_t cap;
} ilist_t;

/* An open trickle node: leaves first, then subtrees of growing depth. */
typedef struct tnode_s {
  ilist_t links;
  int max_depth; /* -1 for the root: unbounded */
  size_t nsub;   /* subtrees opened so far */
} tnode_t;

struct importer_file_s {
  importer_opts_t o;
  block_putter_t p;
  chunker_t ch;
  int err;
  uint64_t nleaves;
  uint64_t size;
  ilist_t *levels; /* balanced: levels[0] holds leaves */
  size_t nlevels;
  tnode_t *stack; /* trickle: stack[0] is the root */
  size_t depth;
  size_t stack_cap;
};

static int ilist_push(ilist_t *l, const ilink_t *x)
{
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    ilink_t *v = realloc(l->v, cap * sizeof(*v));

    if (v == NULL)
      return -ENOMEM;
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = *x;
  return 0;
}

/* An inner file node {Type=File, filesize, blocksizes} over links, all
 * with an empty Name and a Tsize, as kubo writes them. */
static int make_inner(importer_file_t *f, const ilink_t *v, size_t n,
                      ilink_t *out)
{
  dagpb_link_t *links = NULL;
  uint64_t *sizes = NULL;
  unixfs_t u;
  uint64_t blen, tsum = 0, fsum = 0;
  int rc = -ENOMEM;

  if (n > 0) {
    links = calloc(n, sizeof(*links));
    sizes = calloc(n, sizeof(*sizes));
    if (links == NULL || sizes == NULL)
      goto out;
  }
  for (size_t i = 0; i < n; i++) {
    links[i].cid = v[i].cid;
    links[i].name = (const uint8_t *)"";
    links[i].name_len = 0;
    links[i].has_name = true;
    links[i].tsize = v[i].tsize;
    links[i].has_tsize = true;
    sizes[i] = v[i].fsize;
    tsum += v[i].tsize;
    fsum += v[i].fsize;
  }
  unixfs_init(&u);
  u.type = UNIXFS_FILE;
  u.filesize = fsum;
  u.has_filesize = true;
  u.blocksizes = sizes;
  u.nblocksizes = n;
  rc = imp_put_node(&f->o, &f->p, links, n, &u, &out->cid, &blen);
  if (rc < 0)
    goto out;
  out->tsize = blen + tsum;
  out->fsize = fsum;
out:
  free(links);
  free(sizes);
  return rc;
}

/* Balanced: a full level is folded into one node of the level above only
 * when one more link has to go in, so the tree only deepens when the data
 * really needs it (boxo's balanced.Layout). */
static int bal_push(importer_file_t *f, size_t lvl, const ilink_t *x)
{
  int rc;

  if (lvl == f->nlevels) {
    ilist_t *v = realloc(f->levels, (lvl + 1) * sizeof(*v));

    if (v == NULL)
      return -ENOMEM;
    memset(&v[lvl], 0, sizeof(v[lvl]));
    f->levels = v;
    f->nlevels = lvl + 1;
  }
  if (f->levels[lvl].n == f->o.max_links) {
    ilink_t parent;

    rc = make_inner(f, f->levels[lvl].v, f->levels[lvl].n, &parent);
    if (rc < 0)
      return rc;
    f->levels[lvl].n = 0;
    rc = bal_push(f, lvl + 1, &parent);
    if (rc < 0)
      return rc;
  }
  return ilist_push(&f->levels[lvl], x);
}

static int bal_finish(importer_file_t *f, ilink_t *root)
{
  ilink_t node;
  int rc;

  if (f->nleaves == 1) {
    /* A single chunk is the file itself (no wrapping node). */
    *root = f->levels[0].v[0];
    return 0;
  }
  for (size_t k = 0;; k++) {
    rc = make_inner(f, f->levels[k].v, f->levels[k].n, &node);
    if (rc < 0)
      return rc;
    f->levels[k].n = 0;
    if (k + 1 == f->nlevels) {
      *root = node;
      return 0;
    }
    rc = bal_push(f, k + 1, &node);
    if (rc < 0)
      return rc;
  }
}

static int trk_push_node(importer_file_t *f, int max_depth)
{
  if (f->depth == f->stack_cap) {
    size_t cap = f->stack_cap ? f->stack_cap * 2 : 8;
    tnode_t *s = realloc(f->stack, cap * sizeof(*s));

    if (s == NULL)
      return -ENOMEM;
    f->stack = s;
    f->stack_cap = cap;
  }
  memset(&f->stack[f->depth], 0, sizeof(f->stack[0]));
  f->stack[f->depth].max_depth = max_depth;
  f->depth++;
  return 0;
}

/* Close the innermost open node and link it into its parent. */
static int trk_pop(importer_file_t *f, ilink_t *out)
{
  tnode_t *t = &f->stack[f->depth - 1];
  int rc;

  rc = make_inner(f, t->links.v, t->links.n, out);
  free(t->links.v);
  f->depth--;
  if (rc < 0 || f->depth == 0)
    return rc;
  return ilist_push(&f->stack[f->depth - 1].links, out);
}

/* Trickle (boxo trickle.Layout): a node takes max_links leaves, then
 * depthRepeat (4) subtrees of depth 1, 4 of depth 2, ... each strictly
 * shallower than the node itself. Decide where the next leaf goes. */
static int trk_add(importer_file_t *f, const ilink_t *leaf)
{
  ilink_t closed;
  int rc;

  for (;;) {
    tnode_t *t = &f->stack[f->depth - 1];

    if (t->nsub == 0 && t->links.n < f->o.max_links)
      return ilist_push(&t->links, leaf);
    if (t->max_depth >= 0 && t->nsub >= 4 * (size_t)(t->max_depth - 1)) {
      rc = trk_pop(f, &closed);
      if (rc < 0)
        return rc;
      continue;
    }
    t->nsub++;
    rc = trk_push_node(f, (int)((t->nsub - 1) / 4 + 1));
    if (rc < 0)
      return rc;
  }
}

static int add_leaf(importer_file_t *f, const ilink_t *leaf)
{
  f->nleaves++;
  f->size += leaf->fsize;
  if (f->o.trickle)
    return trk_add(f, leaf);
  return bal_push(f, 0, leaf);
}

static size_t put_varint(uint8_t *out, uint64_t v)
{
  size_t n = 0;

  do {
    out[n] = (uint8_t)(v & 0x7f);
    v >>= 7;
    if (v)
      out[n] |= 0x80;
    n++;
  } while (v);
  return n;
}

static size_t varint_len(uint64_t v)
{
  size_t n = 1;

  while (v >= 0x80) {
    v >>= 7;
    n++;
  }
  return n;
}

/* Wrap the chunk in place as dag-pb {Data: UnixFS{Type, Data, filesize}}:
 * the framing goes into the chunker's head and tail room, so file bytes
 * are never copied again after the chunker. Returns the block start. */
static uint8_t *frame_leaf(uint8_t *chunk, size_t len, unixfs_type_t type,
                           size_t *blen)
{
  uint8_t hdr[CHUNKER_HEADROOM];
  size_t vl = varint_len(len);
  uint64_t ulen = 2 + (1 + vl + len) + (1 + vl);
  size_t h = 0, t = 0;

  hdr[h++] = 0x0a;
  h += put_varint(hdr + h, ulen);
  hdr[h++] = 0x08;
  hdr[h++] = (uint8_t)type;
  hdr[h++] = 0x12;
  h += put_varint(hdr + h, len);
  memcpy(chunk - h, hdr, h);
  chunk[len + t++] = 0x18;
  t += put_varint(chunk + len + t, len);
  *blen = h + len + t;
  return chunk - h;
}

static int on_chunk(void *arg, uint8_t *chunk, size_t len)
{
  importer_file_t *f = arg;
  const uint8_t *blk = chunk;
  size_t blen = len;
  ilink_t leaf;
  int rc;

  if (f->o.raw_leaves) {
    /* Raw blocks have no CIDv0 form. */
    rc = cid_sum(&leaf.cid, 1, CID_CODEC_RAW, f->o.mh_code, chunk, len);
  } else {
    /* boxo: balanced leaves are UnixFS File, trickle leaves UnixFS Raw. */
    blk =
        frame_leaf(chunk, len, f->o.trickle ? UNIXFS_RAW : UNIXFS_FILE, &blen);
    rc = cid_sum(&leaf.cid, imp_cid_version(&f->o), CID_CODEC_DAG_PB,
                 f->o.mh_code, blk, blen);
  }
  if (rc < 0)
    return rc;
  rc = block_put(&f->p, &leaf.cid, blk, blen);
  if (rc < 0)
    return rc;
  leaf.tsize = blen;
  leaf.fsize = len;
  return add_leaf(f, &leaf);
}

int importer_file_new(importer_file_t **out, const importer_opts_t *o,
                      const block_putter_t *p)
{
  importer_file_t *f;
  int rc;

  *out = NULL;
  if (o->max_links < 2 || (o->cid_version != 0 && o->cid_version != 1))
    return CIPFS_EUSAGE;
  f = calloc(1, sizeof(*f));
  if (f == NULL)
    return -ENOMEM;
  f->o = *o;
  f->p = *p;
  rc = chunker_init(&f->ch,
                    o->chunker == IMPORTER_CHUNK_BUZHASH ? CHUNKER_BUZHASH
                                                         : CHUNKER_SIZE,
                    o->chunk_size, on_chunk, f);
  if (rc < 0)
    goto fail_chunker;
  if (o->trickle) {
    rc = trk_push_node(f, -1);
    if (rc < 0)
      goto fail_stack;
  }
  *out = f;
  return 0;

fail_stack:
  chunker_cleanup(&f->ch);
fail_chunker:
  free(f);
  return rc;
}

int importer_file_write(importer_file_t *f, const uint8_t *data, size_t len)
{
  if (f->err < 0)
    return f->err;
  f->err = chunker_write(&f->ch, data, len);
  return f->err;
}

/* kubo's empty file: balanced gives a bare leaf (a raw block of no bytes,
 * or {Type=File, filesize=0} without a Data field). */
static int empty_leaf(importer_file_t *f, ilink_t *root)
{
  static const uint8_t pb[] = {0x0a, 0x04, 0x08, 0x02, 0x18, 0x00};
  const uint8_t *blk = pb;
  size_t blen = sizeof(pb);
  int rc;

  if (f->o.raw_leaves) {
    blen = 0;
    rc = cid_sum(&root->cid, 1, CID_CODEC_RAW, f->o.mh_code, blk, 0);
  } else {
    rc = cid_sum(&root->cid, imp_cid_version(&f->o), CID_CODEC_DAG_PB,
                 f->o.mh_code, blk, blen);
  }
  if (rc < 0)
    return rc;
  root->tsize = blen;
  root->fsize = 0;
  return block_put(&f->p, &root->cid, blk, blen);
}

int importer_file_finish(importer_file_t *f, cid_t *cid, uint64_t *size,
                         uint64_t *tsize)
{
  ilink_t root;
  int rc;

  if (f->err < 0)
    return f->err;
  rc = chunker_finish(&f->ch);
  if (rc < 0)
    goto out;
  if (f->o.trickle) {
    /* Close every open node; the root is always a File node, even over
     * zero or one leaf. */
    while (f->depth > 0) {
      rc = trk_pop(f, &root);
      if (rc < 0)
        goto out;
    }
  } else if (f->nleaves == 0) {
    rc = empty_leaf(f, &root);
  } else {
    rc = bal_finish(f, &root);
  }
  if (rc < 0)
    goto out;
  if (cid)
    *cid = root.cid;
  if (size)
    *size = root.fsize;
  if (tsize)
    *tsize = root.tsize;
out:
  f->err = rc < 0 ? rc : CIPFS_ECLOSED;
  return rc;
}

int importer_file_pending(const importer_file_t *f, importer_cid_cb cb,
                          void *arg)
{
  int rc = 0;

  for (size_t i = 0; rc == 0 && i < f->nlevels; i++)
    for (size_t j = 0; rc == 0 && j < f->levels[i].n; j++)
      rc = cb(arg, &f->levels[i].v[j].cid);
  for (size_t i = 0; rc == 0 && i < f->depth; i++)
    for (size_t j = 0; rc == 0 && j < f->stack[i].links.n; j++)
      rc = cb(arg, &f->stack[i].links.v[j].cid);
  return rc;
}

void importer_file_free(importer_file_t *f)
{
  if (f == NULL)
    return;
  chunker_cleanup(&f->ch);
  for (size_t i = 0; i < f->nlevels; i++)
    free(f->levels[i].v);
  free(f->levels);
  for (size_t i = 0; i < f->depth; i++)
    free(f->stack[i].links.v);
  free(f->stack);
  free(f);
}
