#include "cbor.h"

#include "err.h"

void cbor_rd_init(cbor_rd_t *c, const uint8_t *p, size_t len, bool minimal)
{
  c->p = p;
  c->len = len;
  c->pos = 0;
  c->minimal = minimal;
}

int cbor_head(cbor_rd_t *c, unsigned *major, uint64_t *v)
{
  unsigned info, n, i;

  if (c->pos >= c->len)
    return CIPFS_EIPLD;
  *major = c->p[c->pos] >> 5;
  info = c->p[c->pos++] & 31;
  if (info < 24) {
    *v = info;
    return 0;
  }
  if (info > 27)
    return CIPFS_EIPLD;
  n = 1u << (info - 24);
  if (c->len - c->pos < n)
    return CIPFS_EIPLD;
  *v = 0;
  for (i = 0; i < n; i++)
    *v = (*v << 8) | c->p[c->pos++];
  /* Floats (major 7 with 2, 4 or 8 bytes) have no shorter form to want. */
  if (c->minimal && *major != CBOR_SIMPLE &&
      ((n == 1 && *v < 24) || (n > 1 && *v >> (4 * n) == 0)))
    return CIPFS_EIPLD;
  return 0;
}

int cbor_expect(cbor_rd_t *c, unsigned major, uint64_t *v)
{
  unsigned got;

  if (cbor_head(c, &got, v) < 0 || got != major)
    return CIPFS_EIPLD;
  return 0;
}

int cbor_string(cbor_rd_t *c, unsigned major, const uint8_t **s, size_t *len)
{
  uint64_t n;

  if (cbor_expect(c, major, &n) < 0 || n > c->len - c->pos)
    return CIPFS_EIPLD;
  *s = c->p + c->pos;
  *len = (size_t)n;
  c->pos += (size_t)n;
  return 0;
}

/*
 * Only the number of items still to read is kept (an array of n adds n, a
 * map 2n, a tag 1), so nesting depth costs nothing. Every item takes at
 * least one byte, which bounds the count by the bytes left and keeps it
 * from overflowing.
 */
int cbor_skip(cbor_rd_t *c, cbor_cid_cb tag, void *arg)
{
  uint64_t todo = 1, v;
  unsigned major;
  int rc;

  while (todo > 0) {
    todo--;
    rc = cbor_head(c, &major, &v);
    if (rc < 0)
      return rc;
    switch (major) {
    case CBOR_BYTES:
    case CBOR_TEXT:
      if (v > c->len - c->pos)
        return CIPFS_EIPLD;
      c->pos += (size_t)v;
      break;
    case CBOR_ARRAY:
    case CBOR_MAP:
      if (major == CBOR_MAP && v > UINT64_MAX / 2)
        return CIPFS_EIPLD;
      v = major == CBOR_MAP ? 2 * v : v;
      if (v > c->len - c->pos)
        return CIPFS_EIPLD;
      todo += v;
      break;
    case CBOR_TAG:
      if (v == CBOR_TAG_CID && tag != NULL) {
        rc = tag(c, arg);
        if (rc != 0)
          return rc;
      } else {
        todo++;
      }
      break;
    default: /* integers, simple values, floats: the head is all */
      break;
    }
  }
  return 0;
}

int cbor_put_head(buf_t *b, unsigned major, uint64_t v)
{
  uint8_t tmp[9];
  size_t n, i;

  major <<= 5;
  if (v < 24) {
    tmp[0] = (uint8_t)(major | v);
    n = 1;
  } else if (v <= 0xff) {
    tmp[0] = (uint8_t)(major | 24);
    n = 2;
  } else if (v <= 0xffff) {
    tmp[0] = (uint8_t)(major | 25);
    n = 3;
  } else if (v <= 0xffffffffu) {
    tmp[0] = (uint8_t)(major | 26);
    n = 5;
  } else {
    tmp[0] = (uint8_t)(major | 27);
    n = 9;
  }
  for (i = 1; i < n; i++)
    tmp[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
  return buf_append(b, tmp, n);
}

int cbor_put_string(buf_t *b, unsigned major, const void *s, size_t len)
{
  int rc = cbor_put_head(b, major, len);
  return rc < 0 ? rc : buf_append(b, s, len);
}
