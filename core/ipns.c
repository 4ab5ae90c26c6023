#include "ipns.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cbor.h"
#include "err.h"
#include "pb.h"
#include "peerid.h"

#define SIG_PREFIX "ipns-signature:"
#define VALIDITY_EOL 0

/* The protobuf's fields; the V1 ones are kept to compare with the signed
 * data. */
typedef struct entry_s {
  const uint8_t *value, *sig1, *validity, *pubkey, *sig2, *data;
  size_t value_len, sig1_len, validity_len, pubkey_len, sig2_len, data_len;
  uint64_t validity_type, sequence, ttl;
} entry_t;

/* The signed DAG-CBOR data. */
typedef struct signed_s {
  const uint8_t *value, *validity;
  size_t value_len, validity_len;
  uint64_t validity_type, sequence, ttl;
  unsigned seen; /* bit per known key */
} signed_t;

static int parse_entry(const uint8_t *rec, size_t len, entry_t *e)
{
  pb_reader_t r;
  uint32_t field;
  int wt, rc;

  memset(e, 0, sizeof(*e));
  pb_reader_init(&r, rec, len);
  while ((rc = pb_next(&r, &field, &wt)) == 1) {
    const uint8_t **bytes = NULL;
    size_t *blen = NULL;
    uint64_t *num = NULL;
    switch (field) {
    case 1:
      bytes = &e->value, blen = &e->value_len;
      break;
    case 2:
      bytes = &e->sig1, blen = &e->sig1_len;
      break;
    case 3:
      num = &e->validity_type;
      break;
    case 4:
      bytes = &e->validity, blen = &e->validity_len;
      break;
    case 5:
      num = &e->sequence;
      break;
    case 6:
      num = &e->ttl;
      break;
    case 7:
      bytes = &e->pubkey, blen = &e->pubkey_len;
      break;
    case 8:
      bytes = &e->sig2, blen = &e->sig2_len;
      break;
    case 9:
      bytes = &e->data, blen = &e->data_len;
      break;
    }
    if (bytes != NULL && wt == PB_LEN)
      rc = pb_read_bytes(&r, bytes, blen);
    else if (num != NULL && wt == PB_VARINT)
      rc = pb_read_varint(&r, num);
    else if (bytes != NULL || num != NULL)
      rc = CIPFS_EPB; /* a known field with the wrong wire type */
    else
      rc = pb_skip(&r, wt);
    if (rc < 0)
      return CIPFS_EPB;
  }
  return rc < 0 ? CIPFS_EPB : 0;
}

/* One key of the data map: the known ones are read (each at most once),
 * others skipped, since the data is extensible. */
static int signed_field(cbor_rd_t *c, const uint8_t *k, size_t klen,
                        signed_t *s)
{
  static const char *const names[] = {"Value", "Validity", "ValidityType",
                                      "Sequence", "TTL"};
  unsigned i;

  for (i = 0; i < 5; i++)
    if (strlen(names[i]) == klen && memcmp(names[i], k, klen) == 0)
      break;
  if (i == 5)
    return cbor_skip(c, NULL, NULL);
  if (s->seen & (1u << i))
    return CIPFS_EIPLD; /* DAG-CBOR maps have no repeated keys */
  s->seen |= 1u << i;
  switch (i) {
  case 0:
    return cbor_string(c, CBOR_BYTES, &s->value, &s->value_len);
  case 1:
    return cbor_string(c, CBOR_BYTES, &s->validity, &s->validity_len);
  case 2:
    return cbor_expect(c, CBOR_UINT, &s->validity_type);
  case 3:
    return cbor_expect(c, CBOR_UINT, &s->sequence);
  default:
    return cbor_expect(c, CBOR_UINT, &s->ttl);
  }
}

static int parse_signed(const uint8_t *data, size_t len, signed_t *s)
{
  cbor_rd_t c;
  uint64_t n;
  int rc;

  memset(s, 0, sizeof(*s));
  cbor_rd_init(&c, data, len, true);
  if (cbor_expect(&c, CBOR_MAP, &n) < 0 || n > len)
    return CIPFS_EIPLD;
  while (n-- > 0) {
    const uint8_t *k;
    size_t klen;
    if (cbor_string(&c, CBOR_TEXT, &k, &klen) < 0)
      return CIPFS_EIPLD;
    rc = signed_field(&c, k, klen, s);
    if (rc < 0)
      return CIPFS_EIPLD;
  }
  if (c.pos != c.len)
    return CIPFS_EIPLD;
  /* Value, Validity and ValidityType say what the record is and until
   * when; Sequence and TTL read as 0 when absent. */
  return (s->seen & 7u) == 7u ? 0 : CIPFS_EIPNS;
}

/* The public key that must have signed: the record's own (which must be
 * the name's) or the one inlined in an identity-multihash name, which
 * then points into *id. */
static int name_key(const uint8_t *name, size_t name_len, const entry_t *e,
                    peerid_t *id, const uint8_t **pub, size_t *pub_len)
{
  peerid_t got;

  if (peerid_from_bytes(id, name, name_len) < 0)
    return CIPFS_EIPNS;
  if (e->pubkey != NULL) {
    if (peerid_from_pubkey(&got, e->pubkey, e->pubkey_len) < 0 ||
        !peerid_equal(id, &got))
      return CIPFS_EIPNS;
    *pub = e->pubkey;
    *pub_len = e->pubkey_len;
    return 0;
  }
  return peerid_pubkey(id, pub, pub_len) < 0 ? CIPFS_EIPNS : 0;
}

static int verify_sig(const uint8_t *pub, size_t pub_len, const entry_t *e)
{
  uint8_t msg[sizeof(SIG_PREFIX) - 1 + IPNS_RECORD_MAX];
  size_t plen = sizeof(SIG_PREFIX) - 1;
  int rc;

  memcpy(msg, SIG_PREFIX, plen);
  memcpy(msg + plen, e->data, e->data_len); /* data fits: record <= max */
  rc = key_verify(pub, pub_len, msg, plen + e->data_len, e->sig2, e->sig2_len);
  if (rc == CIPFS_EUNSUPPORTED)
    return rc;
  return rc < 0 ? CIPFS_ESIG : 0;
}

static bool same_bytes(const uint8_t *a, size_t alen, const uint8_t *b,
                       size_t blen)
{
  return alen == blen && (alen == 0 || memcmp(a, b, alen) == 0);
}

/* Legacy V1 copies, when there are any, must say what was signed. */
static bool v1_matches(const entry_t *e, const signed_t *s)
{
  if (e->sig1 == NULL && e->value == NULL)
    return true;
  return same_bytes(e->value, e->value_len, s->value, s->value_len) &&
         same_bytes(e->validity, e->validity_len, s->validity,
                    s->validity_len) &&
         e->validity_type == s->validity_type && e->sequence == s->sequence &&
         e->ttl == s->ttl;
}

static int digits(const uint8_t *p, size_t n, unsigned *v)
{
  *v = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9')
      return -1;
    *v = *v * 10 + (unsigned)(p[i] - '0');
  }
  return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* RFC 3339: 2006-01-02T15:04:05[.fraction](Z|+hh:mm|-hh:mm). */
static int parse_rfc3339(const uint8_t *p, size_t n, int64_t *sec,
                         uint32_t *nsec)
{
  unsigned y, mo, d, h, mi, s, oh = 0, om = 0;
  size_t i = 19;
  int sign = 0;

  if (n < 20 || digits(p, 4, &y) || p[4] != '-' || digits(p + 5, 2, &mo) ||
      p[7] != '-' || digits(p + 8, 2, &d) || (p[10] != 'T' && p[10] != 't') ||
      digits(p + 11, 2, &h) || p[13] != ':' || digits(p + 14, 2, &mi) ||
      p[16] != ':' || digits(p + 17, 2, &s))
    return CIPFS_EIPNS;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
    return CIPFS_EIPNS;
  *nsec = 0;
  if (p[i] == '.') {
    unsigned k = 0;
    for (i++; i < n && p[i] >= '0' && p[i] <= '9'; i++, k++)
      if (k < 9)
        *nsec = *nsec * 10 + (uint32_t)(p[i] - '0');
    if (k == 0)
      return CIPFS_EIPNS;
    for (; k < 9; k++)
      *nsec *= 10;
  }
  if (i + 1 == n && (p[i] == 'Z' || p[i] == 'z'))
    sign = 0;
  else if (i + 6 == n && (p[i] == '+' || p[i] == '-') &&
           !digits(p + i + 1, 2, &oh) && p[i + 3] == ':' &&
           !digits(p + i + 4, 2, &om) && oh < 24 && om < 60)
    sign = p[i] == '+' ? 1 : -1;
  else
    return CIPFS_EIPNS;
  *sec = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s -
         sign * (int64_t)(oh * 3600 + om * 60);
  return 0;
}

int ipns_record_check(const uint8_t *name, size_t name_len, const uint8_t *rec,
                      size_t len, int64_t now_s, ipns_record_t *out)
{
  entry_t e;
  signed_t s;
  peerid_t id;
  const uint8_t *pub;
  size_t pub_len;
  int64_t eol_s;
  uint32_t eol_ns;
  int rc;

  if (len > IPNS_RECORD_MAX)
    return CIPFS_ETOOBIG;
  if ((rc = parse_entry(rec, len, &e)) < 0)
    return rc;
  if (e.sig2_len == 0 || e.data_len == 0)
    return CIPFS_EIPNS;
  if ((rc = name_key(name, name_len, &e, &id, &pub, &pub_len)) < 0 ||
      (rc = parse_signed(e.data, e.data_len, &s)) < 0 ||
      (rc = verify_sig(pub, pub_len, &e)) < 0)
    return rc;
  if (!v1_matches(&e, &s))
    return CIPFS_EIPNS;
  if (s.validity_type != VALIDITY_EOL)
    return CIPFS_EUNSUPPORTED;
  if ((rc = parse_rfc3339(s.validity, s.validity_len, &eol_s, &eol_ns)) < 0)
    return rc;
  if (eol_s < now_s || (eol_s == now_s && eol_ns == 0))
    return CIPFS_EEXPIRED;
  if (out != NULL) {
    out->value = s.value;
    out->value_len = s.value_len;
    out->sequence = s.sequence;
    out->ttl_ns = s.ttl;
    out->eol_s = eol_s;
    out->eol_ns = eol_ns;
  }
  return 0;
}

int ipns_record_cmp(const ipns_record_t *a, const ipns_record_t *b)
{
  if (a->sequence != b->sequence)
    return a->sequence > b->sequence ? 1 : -1;
  if (a->eol_s != b->eol_s)
    return a->eol_s > b->eol_s ? 1 : -1;
  if (a->eol_ns != b->eol_ns)
    return a->eol_ns > b->eol_ns ? 1 : -1;
  return 0;
}

/* Keys in DAG-CBOR order: shorter first, then bytewise. */
static int make_data(buf_t *d, const char *value, uint64_t sequence,
                     const char *validity, uint64_t ttl_ns)
{
  int rc;

  if ((rc = cbor_put_head(d, CBOR_MAP, 5)) < 0 ||
      (rc = cbor_put_string(d, CBOR_TEXT, "TTL", 3)) < 0 ||
      (rc = cbor_put_head(d, CBOR_UINT, ttl_ns)) < 0 ||
      (rc = cbor_put_string(d, CBOR_TEXT, "Value", 5)) < 0 ||
      (rc = cbor_put_string(d, CBOR_BYTES, value, strlen(value))) < 0 ||
      (rc = cbor_put_string(d, CBOR_TEXT, "Sequence", 8)) < 0 ||
      (rc = cbor_put_head(d, CBOR_UINT, sequence)) < 0 ||
      (rc = cbor_put_string(d, CBOR_TEXT, "Validity", 8)) < 0 ||
      (rc = cbor_put_string(d, CBOR_BYTES, validity, strlen(validity))) < 0 ||
      (rc = cbor_put_string(d, CBOR_TEXT, "ValidityType", 12)) < 0 ||
      (rc = cbor_put_head(d, CBOR_UINT, VALIDITY_EOL)) < 0)
    return rc;
  return 0;
}

int ipns_record_make(const key_pair_t *k, const char *value, uint64_t sequence,
                     int64_t eol_s, uint64_t ttl_ns, buf_t *out)
{
  char validity[64];
  uint8_t sig[KEY_SIG_MAX];
  size_t siglen;
  time_t t = (time_t)eol_s;
  struct tm tm;
  buf_t d, msg;
  int rc;

  if (gmtime_r(&t, &tm) == NULL ||
      strftime(validity, sizeof(validity), "%Y-%m-%dT%H:%M:%S.000000000Z",
               &tm) == 0)
    return CIPFS_EUSAGE;
  buf_init(&d);
  buf_init(&msg);
  if ((rc = make_data(&d, value, sequence, validity, ttl_ns)) < 0 ||
      (rc = buf_append(&msg, SIG_PREFIX, sizeof(SIG_PREFIX) - 1)) < 0 ||
      (rc = buf_append(&msg, d.data, d.len)) < 0 ||
      (rc = key_sign(k, msg.data, msg.len, sig, &siglen)) < 0)
    goto out;
  if ((rc = pb_put_bytes(out, 1, value, strlen(value))) < 0 ||
      (rc = pb_put_varint(out, 3, VALIDITY_EOL)) < 0 ||
      (rc = pb_put_bytes(out, 4, validity, strlen(validity))) < 0 ||
      (rc = pb_put_varint(out, 5, sequence)) < 0 ||
      (rc = pb_put_varint(out, 6, ttl_ns)) < 0 ||
      (rc = pb_put_bytes(out, 8, sig, siglen)) < 0 ||
      (rc = pb_put_bytes(out, 9, d.data, d.len)) < 0)
    goto out;
  rc = out->len > IPNS_RECORD_MAX ? CIPFS_ETOOBIG : 0;
out:
  buf_cleanup(&d);
  buf_cleanup(&msg);
  return rc;
}
