#include "dag.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "buf.h"
#include "cbor.h"
#include "dagpb.h"
#include "err.h"
#include "hamt.h"
#include "mh.h"

/* ---- DAG-CBOR: links are tag 42 over a byte string 0x00 || binary CID ---- */

typedef struct cbor_links_s {
  dag_link_cb cb;
  void *arg;
} cbor_links_t;

/* The byte string after a tag 42 as a CID. */
static int cbor_link(cbor_rd_t *c, void *arg)
{
  cbor_links_t *l = arg;
  const uint8_t *s;
  size_t n;
  cid_t link;

  if (cbor_string(c, CBOR_BYTES, &s, &n) < 0 || n < 2 || s[0] != 0x00 ||
      cid_decode(&link, s + 1, n - 1) < 0)
    return CIPFS_EIPLD;
  return l->cb(l->arg, &link);
}

/* The value is not checked for minimal form: only the links are wanted
 * here, and a stricter decoder is not ours to be. */
static int dagcbor_links(const uint8_t *data, size_t len, dag_link_cb cb,
                         void *arg)
{
  cbor_links_t l = {cb, arg};
  cbor_rd_t c;
  int rc;

  cbor_rd_init(&c, data, len, false);
  rc = cbor_skip(&c, cbor_link, &l);
  if (rc != 0)
    return rc;
  return c.pos == c.len ? 0 : CIPFS_EIPLD;
}

/* ---- DAG-JSON: links are {"/": "<CID string>"} ---- */

static int dagjson_walk(json_object *v, dag_link_cb cb, void *arg)
{
  json_object *slash;
  cid_t link;
  size_t i, n;
  int rc;

  if (json_object_is_type(v, json_type_array)) {
    n = json_object_array_length(v);
    for (i = 0; i < n; i++) {
      rc = dagjson_walk(json_object_array_get_idx(v, i), cb, arg);
      if (rc != 0)
        return rc;
    }
    return 0;
  }
  if (!json_object_is_type(v, json_type_object))
    return 0;
  /* {"/": "..."} alone is a link; {"/": {"bytes": ...}} is bytes. */
  if (json_object_object_length(v) == 1 &&
      json_object_object_get_ex(v, "/", &slash) &&
      json_object_is_type(slash, json_type_string)) {
    if (cid_parse_n(&link, json_object_get_string(slash),
                    (size_t)json_object_get_string_len(slash)) < 0)
      return CIPFS_EIPLD;
    return cb(arg, &link);
  }
  json_object_object_foreach(v, key, val)
  {
    (void)key;
    rc = dagjson_walk(val, cb, arg);
    if (rc != 0)
      return rc;
  }
  return 0;
}

static int dagjson_links(const uint8_t *data, size_t len, dag_link_cb cb,
                         void *arg)
{
  json_tokener *tok;
  json_object *doc;
  size_t end = len;
  int rc;

  if (len > INT32_MAX)
    return CIPFS_EIPLD;
  /* json-c's default depth limit (32) bounds the recursion above. */
  tok = json_tokener_new();
  if (tok == NULL)
    return -ENOMEM;
  doc = json_tokener_parse_ex(tok, (const char *)data, (int)len);
  if (json_tokener_get_error(tok) == json_tokener_continue)
    doc = json_tokener_parse_ex(tok, "", 1); /* a number at the very end */
  else
    end = json_tokener_get_parse_end(tok);
  rc = json_tokener_get_error(tok) == json_tokener_success && end == len
           ? 0
           : CIPFS_EIPLD;
  json_tokener_free(tok);
  if (rc == 0)
    rc = dagjson_walk(doc, cb, arg);
  json_object_put(doc);
  return rc;
}

int dag_links(const cid_t *cid, const uint8_t *data, size_t len, dag_link_cb cb,
              void *arg)
{
  dagpb_node_t node;
  size_t i;
  int rc;

  switch (cid->codec) {
  case CID_CODEC_DAG_PB:
    break;
  case CID_CODEC_RAW:
  case CID_CODEC_LIBP2P_KEY:
    return 0;
  case CID_CODEC_DAG_CBOR:
    return dagcbor_links(data, len, cb, arg);
  case CID_CODEC_DAG_JSON:
    return dagjson_links(data, len, cb, arg);
  default:
    /* Links we cannot see would be lost to GC and missing from exports:
     * refuse rather than treat the block as a leaf. */
    return CIPFS_EUNSUPPORTED;
  }
  rc = dagpb_decode(&node, data, len);
  if (rc < 0)
    return rc;
  for (i = 0; rc == 0 && i < node.nlinks; i++)
    rc = cb(arg, &node.links[i].cid);
  dagpb_node_cleanup(&node);
  return rc;
}

/*
 * Set of CIDs already visited: open addressing over the binary CIDs, which
 * are packed one after another (length byte, bytes) in an arena, so a walk
 * over a million blocks costs ~40 bytes each rather than a cid_t each.
 */
typedef struct cidset_s {
  uint64_t *slots; /* arena offset + 1; 0 = empty */
  size_t cap;      /* power of two */
  size_t n;
  buf_t arena;
} cidset_t;

static void cidset_init(cidset_t *s)
{
  memset(s, 0, sizeof(*s));
  buf_init(&s->arena);
}

static void cidset_cleanup(cidset_t *s)
{
  free(s->slots);
  buf_cleanup(&s->arena);
}

static size_t cidset_find(const cidset_t *s, const uint8_t *b, size_t len,
                          bool *found)
{
  size_t mask = s->cap - 1;
  size_t i = (size_t)hamt_hash(b, len) & mask;

  for (;; i = (i + 1) & mask) {
    uint64_t off = s->slots[i];
    const uint8_t *e;

    if (off == 0) {
      *found = false;
      return i;
    }
    e = s->arena.data + off - 1;
    if (e[0] == len && memcmp(e + 1, b, len) == 0) {
      *found = true;
      return i;
    }
  }
}

static int cidset_grow(cidset_t *s)
{
  size_t ncap = s->cap ? s->cap * 2 : 1024, i, j;
  uint64_t *old = s->slots, *slots;
  size_t ocap = s->cap;
  bool found;

  slots = calloc(ncap, sizeof(*slots));
  if (slots == NULL)
    return -ENOMEM;
  s->slots = slots;
  s->cap = ncap;
  for (i = 0; i < ocap; i++) {
    const uint8_t *e;

    if (old[i] == 0)
      continue;
    e = s->arena.data + old[i] - 1;
    j = cidset_find(s, e + 1, e[0], &found);
    s->slots[j] = old[i];
  }
  free(old);
  return 0;
}

/* 1 if newly added, 0 if already present, or a negative code. */
static int cidset_add(cidset_t *s, const cid_t *cid)
{
  size_t i;
  bool found;
  int rc;

  /* CID_MAX_LEN is below 256, so one length byte is enough. */
  if (s->n + 1 > s->cap / 2 && (rc = cidset_grow(s)) < 0)
    return rc;
  i = cidset_find(s, cid->bytes, cid->len, &found);
  if (found)
    return 0;
  s->slots[i] = s->arena.len + 1;
  if ((rc = buf_append_byte(&s->arena, (uint8_t)cid->len)) < 0 ||
      (rc = buf_append(&s->arena, cid->bytes, cid->len)) < 0) {
    s->slots[i] = 0;
    return rc;
  }
  s->n++;
  return 1;
}

static void cidset_reset(cidset_t *s)
{
  if (s->n == 0)
    return;
  memset(s->slots, 0, s->cap * sizeof(*s->slots));
  buf_reset(&s->arena);
  s->n = 0;
}

static bool cidset_has(const cidset_t *s, const cid_t *cid)
{
  bool found = false;

  if (s->cap)
    cidset_find(s, cid->bytes, cid->len, &found);
  return found;
}

struct dag_cidset_s {
  cidset_t set;
};

int dag_cidset_new(dag_cidset_t **out)
{
  *out = malloc(sizeof(**out));
  if (*out == NULL)
    return -ENOMEM;
  cidset_init(&(*out)->set);
  return 0;
}

int dag_cidset_add(dag_cidset_t *s, const cid_t *cid)
{
  return cidset_add(&s->set, cid);
}

void dag_cidset_free(dag_cidset_t *s)
{
  if (s == NULL)
    return;
  cidset_cleanup(&s->set);
  free(s);
}

/* Stack of CIDs still to visit. */
typedef struct walk_s {
  cid_list_t stack;
  cidset_t seen;
  /* Links of the current block: a block listing one CID many times pushes
   * it once, which keeps the stack proportional to distinct blocks. */
  cidset_t block;
} walk_t;

static int walk_push(void *arg, const cid_t *cid)
{
  walk_t *w = arg;
  int rc;

  if (cidset_has(&w->seen, cid))
    return 0;
  rc = cidset_add(&w->block, cid);
  if (rc <= 0)
    return rc;
  return cid_list_push(&w->stack, cid);
}

static int walk_get(const block_getter_t *g, const cid_t *cid, uint8_t **data,
                    size_t *len)
{
  /* Identity CIDs are their own block. */
  if (cid->mh_code == MH_IDENTITY) {
    *data = malloc(cid->digest_len ? cid->digest_len : 1);
    if (*data == NULL)
      return -ENOMEM;
    memcpy(*data, cid->bytes + cid->digest_off, cid->digest_len);
    *len = cid->digest_len;
    return 0;
  }
  return block_get(g, cid, data, len);
}

/* Children are pushed in reverse so they pop in link order: the stack then
 * yields exactly the pre-order of a recursive walk, without its depth. */
static int walk_children(walk_t *w, const cid_t *cid, const uint8_t *data,
                         size_t len)
{
  cid_t *v, tmp;
  size_t base = w->stack.n, i, j;
  int rc;

  cidset_reset(&w->block);
  rc = dag_links(cid, data, len, walk_push, w);
  if (rc < 0)
    return rc;
  v = w->stack.v;
  for (i = base, j = w->stack.n; i + 1 < j; i++, j--) {
    tmp = v[i];
    v[i] = v[j - 1];
    v[j - 1] = tmp;
  }
  return 0;
}

int dag_walk(const block_getter_t *g, const cid_t *root, dag_visit_cb cb,
             void *arg)
{
  walk_t w;
  cid_t cid;
  uint8_t *data = NULL;
  size_t len;
  int rc;

  memset(&w, 0, sizeof(w));
  cidset_init(&w.seen);
  cidset_init(&w.block);
  rc = walk_push(&w, root);
  while (rc == 0 && w.stack.n > 0) {
    cid = w.stack.v[--w.stack.n];
    rc = cidset_add(&w.seen, &cid);
    if (rc <= 0)
      continue; /* seen already (rc 0) or out of memory */
    rc = walk_get(g, &cid, &data, &len);
    if (rc < 0)
      break;
    rc = cb(arg, &cid, data, len);
    if (rc == 0)
      rc = walk_children(&w, &cid, data, len);
    free(data);
  }
  cidset_cleanup(&w.seen);
  cidset_cleanup(&w.block);
  free(w.stack.v);
  return rc;
}
