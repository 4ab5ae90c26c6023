#include "car.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cbor.h"
#include "dag.h"
#include "err.h"
#include "varint.h"

#define CAR_V2_PRAGMA_LEN 11
#define CAR_V2_HEADER_LEN 40
#define CAR_WBUF_SIZE (1024 * 1024)
#define CAR_RBUF_SIZE (256 * 1024)

static const uint8_t car_v2_pragma[CAR_V2_PRAGMA_LEN] = {
    0x0a, 0xa1, 0x67, 'v', 'e', 'r', 's', 'i', 'o', 'n', 0x02};

int car_header_encode(const cid_t *roots, size_t nroots, buf_t *out)
{
  buf_t h;
  size_t i;
  int rc;

  /* Map keys in DAG-CBOR order (shorter first): roots, then version. */
  buf_init(&h);
  if ((rc = cbor_put_head(&h, 5, 2)) < 0 ||
      (rc = cbor_put_head(&h, 3, 5)) < 0 ||
      (rc = buf_append(&h, "roots", 5)) < 0 ||
      (rc = cbor_put_head(&h, 4, nroots)) < 0)
    goto out;
  for (i = 0; i < nroots; i++) {
    /* A CID is tag 42 over the bytes 0x00 || binary CID. */
    if ((rc = cbor_put_head(&h, 6, CBOR_TAG_CID)) < 0 ||
        (rc = cbor_put_head(&h, 2, (uint64_t)roots[i].len + 1)) < 0 ||
        (rc = buf_append_byte(&h, 0)) < 0 ||
        (rc = buf_append(&h, roots[i].bytes, roots[i].len)) < 0)
      goto out;
  }
  if ((rc = cbor_put_head(&h, 3, 7)) < 0 ||
      (rc = buf_append(&h, "version", 7)) < 0 ||
      (rc = cbor_put_head(&h, 0, 1)) < 0)
    goto out;
  if ((rc = buf_append_varint(out, h.len)) < 0)
    goto out;
  rc = buf_append(out, h.data, h.len);
out:
  buf_cleanup(&h);
  return rc;
}

typedef struct car_header_s {
  uint64_t version;
  cid_t *roots;
  size_t nroots;
  bool has_roots;
} car_header_t;

static int parse_roots(cbor_rd_t *c, car_header_t *h)
{
  uint64_t n, tag, blen;
  size_t i;

  if (cbor_expect(c, 4, &n) < 0 || n > (c->len - c->pos) / 4)
    return CIPFS_ECAR; /* each root takes at least 4 bytes */
  h->roots = calloc(n ? n : 1, sizeof(*h->roots));
  if (h->roots == NULL)
    return -ENOMEM;
  for (i = 0; i < n; i++) {
    if (cbor_expect(c, 6, &tag) < 0 || tag != CBOR_TAG_CID ||
        cbor_expect(c, 2, &blen) < 0 || blen < 2 || blen > c->len - c->pos ||
        c->p[c->pos] != 0x00)
      return CIPFS_ECAR;
    if (cid_decode(&h->roots[i], c->p + c->pos + 1, blen - 1) < 0)
      return CIPFS_ECAR;
    c->pos += blen;
  }
  h->nroots = n;
  h->has_roots = true;
  return 0;
}

/* {"roots": [CID...], "version": 1}, or the CARv2 pragma's {"version": 2}.
 * Keys in either order, each once, nothing else. */
static int parse_header_fields(const uint8_t *buf, size_t len, car_header_t *h)
{
  cbor_rd_t c;
  uint64_t n, klen;
  bool has_version = false;
  int rc;

  cbor_rd_init(&c, buf, len, true);
  if (cbor_expect(&c, 5, &n) < 0 || n < 1 || n > 2)
    return CIPFS_ECAR;
  while (n-- > 0) {
    if (cbor_expect(&c, 3, &klen) < 0 || klen > c.len - c.pos)
      return CIPFS_ECAR;
    if (klen == 5 && memcmp(c.p + c.pos, "roots", 5) == 0 && !h->has_roots) {
      c.pos += 5;
      rc = parse_roots(&c, h);
    } else if (klen == 7 && memcmp(c.p + c.pos, "version", 7) == 0 &&
               !has_version) {
      c.pos += 7;
      rc = cbor_expect(&c, 0, &h->version);
      has_version = true;
    } else {
      rc = CIPFS_ECAR;
    }
    if (rc < 0)
      return rc == -ENOMEM ? rc : CIPFS_ECAR;
  }
  if (c.pos != c.len || !has_version)
    return CIPFS_ECAR;
  if (h->version == 1 && h->has_roots)
    return 0;
  if (h->version == 2 && !h->has_roots)
    return 0;
  return CIPFS_ECAR;
}

/* On failure h holds nothing (no roots to free). */
static int parse_header(const uint8_t *buf, size_t len, car_header_t *h)
{
  int rc;

  memset(h, 0, sizeof(*h));
  rc = parse_header_fields(buf, len, h);
  if (rc < 0) {
    free(h->roots);
    memset(h, 0, sizeof(*h));
  }
  return rc;
}

/* ---- writer ---- */

struct car_writer_s {
  int fd;
  buf_t b;
};

static int write_all(int fd, const uint8_t *p, size_t len)
{
  ssize_t n;

  while (len > 0) {
    n = write(fd, p, len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -errno;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

int car_writer_flush(car_writer_t *w)
{
  int rc = write_all(w->fd, w->b.data, w->b.len);

  buf_reset(&w->b);
  return rc;
}

int car_writer_new(car_writer_t **out, int fd, const cid_t *roots,
                   size_t nroots)
{
  car_writer_t *w;
  int rc;

  *out = NULL;
  w = calloc(1, sizeof(*w));
  if (w == NULL)
    return -ENOMEM;
  w->fd = fd;
  buf_init(&w->b);
  rc = buf_reserve(&w->b, CAR_WBUF_SIZE);
  if (rc == 0)
    rc = car_header_encode(roots, nroots, &w->b);
  if (rc < 0) {
    car_writer_free(w);
    return rc;
  }
  *out = w;
  return 0;
}

int car_writer_put(car_writer_t *w, const cid_t *cid, const uint8_t *data,
                   size_t len)
{
  uint8_t hdr[VARINT_MAX_LEN];
  size_t n;
  int rc;

  if (len > BLOCK_MAX_SIZE)
    return CIPFS_ETOOBIG;
  n = varint_encode((uint64_t)cid->len + len, hdr);
  if (w->b.len + n + cid->len + len > CAR_WBUF_SIZE) {
    rc = car_writer_flush(w);
    if (rc < 0)
      return rc;
  }
  if ((rc = buf_append(&w->b, hdr, n)) < 0 ||
      (rc = buf_append(&w->b, cid->bytes, cid->len)) < 0)
    return rc;
  /* Blocks as large as the buffer go straight out, uncopied. */
  if (len >= CAR_WBUF_SIZE / 2) {
    rc = car_writer_flush(w);
    return rc < 0 ? rc : write_all(w->fd, data, len);
  }
  return buf_append(&w->b, data, len);
}

void car_writer_free(car_writer_t *w)
{
  if (w == NULL)
    return;
  buf_cleanup(&w->b);
  free(w);
}

static int export_visit(void *arg, const cid_t *cid, const uint8_t *data,
                        size_t len)
{
  return car_writer_put(arg, cid, data, len);
}

int car_export(const block_getter_t *g, const cid_t *root, int fd)
{
  car_writer_t *w;
  int rc;

  rc = car_writer_new(&w, fd, root, 1);
  if (rc < 0)
    return rc;
  rc = dag_walk(g, root, export_visit, w);
  if (rc == 0)
    rc = car_writer_flush(w);
  car_writer_free(w);
  return rc;
}

/* ---- reader ---- */

struct car_reader_s {
  int fd; /* -1: reading memory */
  uint8_t *buf;
  size_t cap;
  const uint8_t *win; /* unread bytes: win[0..avail) */
  size_t avail;
  bool eof;
  bool done;
  uint64_t left; /* payload bytes left (CARv2 data size); UINT64_MAX: v1 */
  int version;
  car_header_t hdr;
};

/* Make at least n bytes readable (fewer only at EOF). 0 or -errno. */
static int rd_fill(car_reader_t *r, size_t n)
{
  ssize_t got;

  if (r->avail >= n || r->eof)
    return 0;
  if (r->cap < n) {
    uint8_t *p = malloc(n);
    if (p == NULL)
      return -ENOMEM;
    memcpy(p, r->win, r->avail);
    free(r->buf);
    r->buf = p;
    r->cap = n;
  } else if (r->win != r->buf) {
    memmove(r->buf, r->win, r->avail);
  }
  r->win = r->buf;
  while (r->avail < n) {
    got = read(r->fd, r->buf + r->avail, r->cap - r->avail);
    if (got < 0 && errno == EINTR)
      continue;
    if (got < 0)
      return -errno;
    if (got == 0) {
      r->eof = true;
      break;
    }
    r->avail += (size_t)got;
  }
  return 0;
}

static void rd_skip(car_reader_t *r, size_t n)
{
  r->win += n;
  r->avail -= n;
  if (r->left != UINT64_MAX)
    r->left -= n;
}

/* Exactly n bytes, or CIPFS_ECAR on truncation. */
static int rd_need(car_reader_t *r, size_t n)
{
  int rc = rd_fill(r, n);

  if (rc < 0)
    return rc;
  return r->avail >= n && n <= r->left ? 0 : CIPFS_ECAR;
}

/* A varint at the read position; CIPFS_ECAR if there is none. */
static int rd_varint(car_reader_t *r, uint64_t *v)
{
  size_t have;
  ssize_t n;
  int rc;

  rc = rd_fill(r, VARINT_MAX_LEN);
  if (rc < 0)
    return rc;
  have = r->avail < r->left ? r->avail : (size_t)r->left;
  n = varint_decode(r->win, have, v);
  if (n < 0)
    return CIPFS_ECAR;
  rd_skip(r, (size_t)n);
  return 0;
}

/* The varint-prefixed DAG-CBOR header at the read position. h is always
 * initialised, so the caller may free h->roots whatever the result (a
 * truncated CARv2 used to leave it as stack garbage). */
static int rd_header(car_reader_t *r, car_header_t *h)
{
  uint64_t len;
  int rc;

  memset(h, 0, sizeof(*h));
  rc = rd_varint(r, &len);
  if (rc == 0 && (len == 0 || len > CAR_MAX_HEADER))
    rc = CIPFS_ECAR;
  if (rc == 0)
    rc = rd_need(r, (size_t)len);
  if (rc < 0)
    return rc;
  rc = parse_header(r->win, (size_t)len, h);
  rd_skip(r, (size_t)len);
  return rc;
}

static uint64_t load_le64(const uint8_t *p)
{
  uint64_t v = 0;
  int i;

  for (i = 7; i >= 0; i--)
    v = (v << 8) | p[i];
  return v;
}

/* After the pragma: the CARv2 header, padding, then the inner CARv1's
 * header, with the payload bounded by the data size. */
static int rd_v2(car_reader_t *r)
{
  car_header_t inner;
  uint64_t off, size, skip;
  size_t n;
  int rc;

  rc = rd_need(r, CAR_V2_HEADER_LEN);
  if (rc < 0)
    return rc;
  off = load_le64(r->win + 16);
  size = load_le64(r->win + 24);
  rd_skip(r, CAR_V2_HEADER_LEN);
  if (off < CAR_V2_PRAGMA_LEN + CAR_V2_HEADER_LEN || size == 0 ||
      size > UINT64_MAX - off - 1)
    return CIPFS_ECAR;
  /* Read over the padding rather than seek, so pipes work too. */
  for (skip = off - CAR_V2_PRAGMA_LEN - CAR_V2_HEADER_LEN; skip > 0;
       skip -= n) {
    n = skip < CAR_RBUF_SIZE ? (size_t)skip : CAR_RBUF_SIZE;
    rc = rd_need(r, n);
    if (rc < 0)
      return rc;
    rd_skip(r, n);
  }
  r->left = size;
  rc = rd_header(r, &inner);
  if (rc == 0 && inner.version != 1)
    rc = CIPFS_ECAR;
  if (rc < 0) {
    free(inner.roots);
    return rc;
  }
  free(r->hdr.roots);
  r->hdr = inner;
  return 0;
}

static int reader_start(car_reader_t *r)
{
  int rc;

  r->left = UINT64_MAX;
  rc = rd_fill(r, CAR_V2_PRAGMA_LEN);
  if (rc < 0)
    return rc;
  if (r->avail >= CAR_V2_PRAGMA_LEN &&
      memcmp(r->win, car_v2_pragma, CAR_V2_PRAGMA_LEN) == 0) {
    rd_skip(r, CAR_V2_PRAGMA_LEN);
    r->version = 2;
    return rd_v2(r);
  }
  rc = rd_header(r, &r->hdr);
  if (rc == 0 && r->hdr.version != 1)
    rc = CIPFS_ECAR; /* {"version": 2} without the rest of the pragma */
  r->version = 1;
  return rc;
}

static int reader_new(car_reader_t **out, car_reader_t *r)
{
  int rc = reader_start(r);

  if (rc < 0) {
    car_reader_free(r);
    return rc;
  }
  *out = r;
  return 0;
}

int car_reader_new(car_reader_t **out, int fd)
{
  car_reader_t *r;

  *out = NULL;
  r = calloc(1, sizeof(*r));
  if (r == NULL)
    return -ENOMEM;
  r->fd = fd;
  r->cap = CAR_RBUF_SIZE;
  r->buf = malloc(r->cap);
  if (r->buf == NULL) {
    free(r);
    return -ENOMEM;
  }
  r->win = r->buf;
  return reader_new(out, r);
}

int car_reader_new_mem(car_reader_t **out, const uint8_t *buf, size_t len)
{
  car_reader_t *r;

  *out = NULL;
  r = calloc(1, sizeof(*r));
  if (r == NULL)
    return -ENOMEM;
  r->fd = -1;
  r->win = buf;
  r->avail = len;
  r->eof = true; /* nothing to read beyond buf */
  return reader_new(out, r);
}

int car_reader_version(const car_reader_t *r)
{
  return r->version;
}

const cid_t *car_reader_roots(const car_reader_t *r, size_t *nroots)
{
  *nroots = r->hdr.nroots;
  return r->hdr.roots;
}

static int reader_section(car_reader_t *r, cid_t *cid, const uint8_t **data,
                          size_t *len)
{
  uint64_t slen;
  ssize_t clen;
  int rc;

  rc = rd_fill(r, 1);
  if (rc < 0)
    return rc;
  /* The end: EOF on a section boundary, or the end of a CARv2 payload. */
  if (r->avail == 0 || r->left == 0)
    return r->left == 0 || r->left == UINT64_MAX ? 0 : CIPFS_ECAR;
  rc = rd_varint(r, &slen);
  if (rc == 0 && (slen == 0 || slen > CAR_MAX_SECTION))
    rc = CIPFS_ECAR;
  if (rc == 0)
    rc = rd_need(r, (size_t)slen);
  if (rc < 0)
    return rc;
  clen = cid_decode_prefix(cid, r->win, (size_t)slen);
  if (clen < 0 || (size_t)slen - (size_t)clen > BLOCK_MAX_SIZE)
    return CIPFS_ECAR;
  *data = r->win + clen;
  *len = (size_t)slen - (size_t)clen;
  rd_skip(r, (size_t)slen);
  rc = cid_verify(cid, *data, *len);
  if (rc < 0)
    return rc == CIPFS_EUNSUPPORTED ? rc : CIPFS_ECORRUPT;
  return 1;
}

int car_reader_next(car_reader_t *r, cid_t *cid, const uint8_t **data,
                    size_t *len)
{
  int rc;

  if (r->done)
    return 0;
  rc = reader_section(r, cid, data, len);
  if (rc <= 0)
    r->done = true;
  return rc;
}

void car_reader_free(car_reader_t *r)
{
  if (r == NULL)
    return;
  free(r->hdr.roots);
  if (r->fd >= 0)
    free(r->buf);
  free(r);
}

/* ---- import ---- */

int car_import(int fd, const block_putter_t *p, car_block_cb cb, void *arg,
               car_import_result_t *res)
{
  car_reader_t *r;
  const uint8_t *data;
  const cid_t *roots;
  cid_t cid;
  size_t len, n;
  int rc;

  memset(res, 0, sizeof(*res));
  rc = car_reader_new(&r, fd);
  if (rc < 0)
    return rc;
  roots = car_reader_roots(r, &n);
  res->roots = malloc((n ? n : 1) * sizeof(*res->roots));
  if (res->roots == NULL) {
    rc = -ENOMEM;
    goto out;
  }
  memcpy(res->roots, roots, n * sizeof(*roots));
  res->nroots = n;
  while ((rc = car_reader_next(r, &cid, &data, &len)) == 1) {
    rc = block_put(p, &cid, data, len);
    if (rc < 0)
      break;
    res->nblocks++;
    res->bytes += len;
    if (cb && (rc = cb(arg, &cid, len)) != 0)
      break;
  }
out:
  car_reader_free(r);
  if (rc < 0)
    car_import_result_cleanup(res);
  return rc;
}

void car_import_result_cleanup(car_import_result_t *res)
{
  if (res == NULL)
    return;
  free(res->roots);
  memset(res, 0, sizeof(*res));
}
