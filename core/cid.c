#include "cid.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "mh.h"
#include "varint.h"

#define CIDV0_LEN 34
#define CIDV0_STRLEN 46
/* boxo verifcid: hashed digests shorter than 20 bytes are refused. */
#define CID_MIN_DIGEST 20

/* Fill the multihash fields of cid from bytes[off..]; the multihash must end
 * exactly at cid->len. */
static int cid_set_mh(cid_t *cid, size_t off)
{
  const uint8_t *digest;
  size_t dlen;
  uint64_t code;

  if (mh_decode(cid->bytes + off, cid->len - off, &code, &digest, &dlen) < 0)
    return CIPFS_ECID;
  if (code != MH_IDENTITY && dlen < CID_MIN_DIGEST)
    return CIPFS_ECID;
  cid->mh_off = (uint16_t)off;
  cid->mh_code = code;
  cid->digest_off = (uint16_t)(digest - cid->bytes);
  cid->digest_len = (uint16_t)dlen;
  return 0;
}

ssize_t cid_decode_prefix(cid_t *cid, const uint8_t *buf, size_t len)
{
  uint64_t version, codec, code;
  const uint8_t *digest;
  size_t dlen, off;
  ssize_t n, m;

  memset(cid, 0, sizeof(*cid));
  if (len >= 2 && buf[0] == MH_SHA2_256 && buf[1] == 32) {
    if (len < CIDV0_LEN)
      return CIPFS_ECID;
    memcpy(cid->bytes, buf, CIDV0_LEN);
    cid->len = CIDV0_LEN;
    cid->version = 0;
    cid->codec = CID_CODEC_DAG_PB;
    cid->mh_code = MH_SHA2_256;
    cid->digest_off = 2;
    cid->digest_len = 32;
    return CIDV0_LEN;
  }
  n = varint_decode(buf, len, &version);
  if (n < 0 || version != 1)
    return CIPFS_ECID;
  off = (size_t)n;
  n = varint_decode(buf + off, len - off, &codec);
  if (n < 0)
    return CIPFS_ECID;
  off += (size_t)n;
  m = mh_decode_prefix(buf + off, len - off, &code, &digest, &dlen);
  if (m < 0 || off + (size_t)m > CID_MAX_LEN)
    return CIPFS_ECID;
  cid->len = (uint16_t)(off + (size_t)m);
  memcpy(cid->bytes, buf, cid->len);
  cid->version = 1;
  cid->codec = codec;
  if (cid_set_mh(cid, off) < 0)
    return CIPFS_ECID;
  return cid->len;
}

int cid_decode(cid_t *cid, const uint8_t *buf, size_t len)
{
  ssize_t n = cid_decode_prefix(cid, buf, len);

  if (n < 0)
    return (int)n;
  return (size_t)n == len ? 0 : CIPFS_ECID;
}

/*
 * As the CID spec says: 46 chars starting "Qm" is a bare base58btc v0;
 * anything else is multibase and must not decode to a v0 multihash (v0 has
 * no multibase form).
 */
int cid_parse_n(cid_t *cid, const char *str, size_t len)
{
  uint8_t raw[CID_MAX_LEN];
  ssize_t n;

  if (str == NULL || len == 0 || len >= CID_MAX_STR)
    return CIPFS_ECID;
  if (len == CIDV0_STRLEN && str[0] == 'Q' && str[1] == 'm') {
    n = mbase_b58_decode(str, len, raw, sizeof(raw));
    if (n != CIDV0_LEN || raw[0] != MH_SHA2_256 || raw[1] != 32)
      return CIPFS_ECID;
    return cid_decode(cid, raw, (size_t)n);
  }
  n = mbase_decode(str, len, raw, sizeof(raw), NULL);
  if (n < 1 || raw[0] == MH_SHA2_256)
    return CIPFS_ECID;
  return cid_decode(cid, raw, (size_t)n);
}

int cid_parse(cid_t *cid, const char *str)
{
  if (str == NULL)
    return CIPFS_ECID;
  return cid_parse_n(cid, str, strnlen(str, CID_MAX_STR));
}

ssize_t cid_format(const cid_t *cid, mbase_t base, char *out, size_t outcap)
{
  if (cid->version == 0) {
    if (base != 0 && base != MBASE_BASE58BTC)
      return CIPFS_EMBASE;
    return mbase_b58_encode(cid->bytes, cid->len, out, outcap);
  }
  if (base == 0)
    base = MBASE_BASE32;
  return mbase_encode(base, cid->bytes, cid->len, out, outcap);
}

const char *cid_str(const cid_t *cid, char *out)
{
  if (cid_format(cid, 0, out, CID_MAX_STR) < 0)
    strcpy(out, "<invalid>");
  return out;
}

int cid_make(cid_t *cid, int version, uint64_t codec, const uint8_t *mh,
             size_t mh_len)
{
  uint8_t raw[CID_MAX_LEN];
  size_t n;

  if (version == 0) {
    if (codec != CID_CODEC_DAG_PB || mh_len != CIDV0_LEN ||
        mh[0] != MH_SHA2_256 || mh[1] != 32)
      return CIPFS_ECID;
    return cid_decode(cid, mh, mh_len);
  }
  if (version != 1 || mh_len > CID_MAX_LEN - 2 * VARINT_MAX_LEN)
    return CIPFS_ECID;
  if (codec >= (1ull << 63))
    return CIPFS_ECID;
  n = varint_encode(1, raw);
  n += varint_encode(codec, raw + n);
  memcpy(raw + n, mh, mh_len);
  return cid_decode(cid, raw, n + mh_len);
}

int cid_sum(cid_t *cid, int version, uint64_t codec, uint64_t mh_code,
            const uint8_t *data, size_t len)
{
  uint8_t mh[MH_MAX_LEN];
  ssize_t n = mh_sum(mh_code, data, len, mh);

  if (n < 0)
    return (int)n;
  return cid_make(cid, version, codec, mh, (size_t)n);
}

/* A digest shorter than the function's output is a truncated hash (the
 * multihash spec allows it), so only its first digest_len bytes compare. */
int cid_verify(const cid_t *cid, const uint8_t *data, size_t len)
{
  uint8_t mh[MH_MAX_LEN];
  const uint8_t *digest;
  size_t dlen;
  uint64_t code;
  ssize_t n;

  if (cid->mh_code == MH_IDENTITY) {
    if (len != cid->digest_len ||
        (len > 0 && memcmp(data, cid->bytes + cid->digest_off, len) != 0))
      return CIPFS_ECORRUPT;
    return 0;
  }
  n = mh_sum(cid->mh_code, data, len, mh);
  if (n < 0)
    return (int)n;
  if (mh_decode(mh, (size_t)n, &code, &digest, &dlen) < 0)
    return CIPFS_ECRYPTO;
  if (cid->digest_len > dlen ||
      memcmp(digest, cid->bytes + cid->digest_off, cid->digest_len) != 0)
    return CIPFS_ECORRUPT;
  return 0;
}

int cid_to_v1(cid_t *dst, const cid_t *src)
{
  size_t len;
  const uint8_t *mh;

  if (src->version == 1) {
    *dst = *src;
    return 0;
  }
  mh = cid_mh(src, &len);
  return cid_make(dst, 1, CID_CODEC_DAG_PB, mh, len);
}

int cid_to_v0(cid_t *dst, const cid_t *src)
{
  size_t len;
  const uint8_t *mh;

  if (src->codec != CID_CODEC_DAG_PB || src->mh_code != MH_SHA2_256 ||
      src->digest_len != 32)
    return CIPFS_ECID;
  mh = cid_mh(src, &len);
  return cid_make(dst, 0, CID_CODEC_DAG_PB, mh, len);
}

bool cid_equal(const cid_t *a, const cid_t *b)
{
  return a->len == b->len && memcmp(a->bytes, b->bytes, a->len) == 0;
}

const uint8_t *cid_mh(const cid_t *cid, size_t *len)
{
  *len = cid->len - cid->mh_off;
  return cid->bytes + cid->mh_off;
}

static const struct {
  uint64_t codec;
  const char *name;
} codec_names[] = {
    {CID_CODEC_RAW, "raw"},           {CID_CODEC_DAG_PB, "dag-pb"},
    {CID_CODEC_DAG_CBOR, "dag-cbor"}, {CID_CODEC_LIBP2P_KEY, "libp2p-key"},
    {CID_CODEC_DAG_JSON, "dag-json"},
};

#define NCODECS (sizeof(codec_names) / sizeof(codec_names[0]))

/* NULL for a codec without a name here. */
const char *cid_codec_name(uint64_t codec)
{
  for (size_t i = 0; i < NCODECS; i++)
    if (codec_names[i].codec == codec)
      return codec_names[i].name;
  return NULL;
}

int cid_codec_from_name(const char *name, uint64_t *codec)
{
  for (size_t i = 0; name != NULL && i < NCODECS; i++)
    if (strcmp(codec_names[i].name, name) == 0) {
      *codec = codec_names[i].codec;
      return 0;
    }
  return CIPFS_EUNSUPPORTED;
}

int cid_list_push(void *arg, const cid_t *cid)
{
  cid_list_t *l = arg;
  if (l->n == l->cap) {
    size_t cap = l->cap ? 2 * l->cap : 16;
    cid_t *v = realloc(l->v, cap * sizeof(*v));
    if (v == NULL)
      return -ENOMEM;
    l->v = v;
    l->cap = cap;
  }
  l->v[l->n++] = *cid;
  return 0;
}
