/* IPNS records: what ipns_record_make writes passes the spec's checks, and
 * each check refuses the record it is there for. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "cbor.h"
#include "err.h"
#include "ipns.h"
#include "key.h"
#include "pb.h"
#include "peerid.h"

#define NOW ((int64_t)1800000000) /* 2027-01-15 */
#define HOUR 3600

typedef struct fx_s {
  key_pair_t *k, *other;
  peerid_t id, other_id;
} fx_t;

static void id_of(const key_pair_t *k, peerid_t *id)
{
  buf_t pub;
  buf_init(&pub);
  assert_int_equal(key_public_pb(k, &pub), 0);
  assert_int_equal(peerid_from_pubkey(id, pub.data, pub.len), 0);
  buf_cleanup(&pub);
}

static int setup(void **state)
{
  static fx_t f;
  memset(&f, 0, sizeof(f));
  if (key_generate_ed25519(&f.k) < 0 || key_generate_ed25519(&f.other) < 0)
    return -1;
  id_of(f.k, &f.id);
  id_of(f.other, &f.other_id);
  *state = &f;
  return 0;
}

static int teardown(void **state)
{
  fx_t *f = *state;
  key_free(f->k);
  key_free(f->other);
  return 0;
}

/* A record built field by field, so that each can be made wrong. */
typedef struct spec_s {
  const char *value;    /* signed Value */
  const char *v1_value; /* legacy copy; NULL: no V1 fields */
  const char *validity; /* signed Validity */
  uint64_t validity_type;
  uint64_t sequence;
  bool extra_key; /* an unknown key in the data, as extensions add */
  bool dup_key;   /* Value twice */
  bool no_sig;
  bool bad_sig;
  const key_pair_t *signer;
  const key_pair_t *embed; /* pubKey field */
} spec_t;

static void put_data(buf_t *d, const spec_t *s)
{
  unsigned n = 5 + s->extra_key + s->dup_key;
  assert_int_equal(cbor_put_head(d, CBOR_MAP, n), 0);
  if (s->extra_key) {
    assert_int_equal(cbor_put_string(d, CBOR_TEXT, "X", 1), 0);
    assert_int_equal(cbor_put_head(d, CBOR_ARRAY, 2), 0);
    assert_int_equal(cbor_put_head(d, CBOR_UINT, 7), 0);
    assert_int_equal(cbor_put_string(d, CBOR_TEXT, "ext", 3), 0);
  }
  assert_int_equal(cbor_put_string(d, CBOR_TEXT, "TTL", 3), 0);
  assert_int_equal(cbor_put_head(d, CBOR_UINT, 1000), 0);
  for (int i = 0; i <= s->dup_key; i++) {
    assert_int_equal(cbor_put_string(d, CBOR_TEXT, "Value", 5), 0);
    assert_int_equal(cbor_put_string(d, CBOR_BYTES, s->value, strlen(s->value)),
                     0);
  }
  assert_int_equal(cbor_put_string(d, CBOR_TEXT, "Sequence", 8), 0);
  assert_int_equal(cbor_put_head(d, CBOR_UINT, s->sequence), 0);
  assert_int_equal(cbor_put_string(d, CBOR_TEXT, "Validity", 8), 0);
  assert_int_equal(
      cbor_put_string(d, CBOR_BYTES, s->validity, strlen(s->validity)), 0);
  assert_int_equal(cbor_put_string(d, CBOR_TEXT, "ValidityType", 12), 0);
  assert_int_equal(cbor_put_head(d, CBOR_UINT, s->validity_type), 0);
}

static void build(const spec_t *s, buf_t *out)
{
  buf_t d, msg, pub;
  uint8_t sig[KEY_SIG_MAX];
  size_t siglen;

  buf_init(&d);
  buf_init(&msg);
  buf_init(&pub);
  put_data(&d, s);
  assert_int_equal(buf_append(&msg, "ipns-signature:", 15), 0);
  assert_int_equal(buf_append(&msg, d.data, d.len), 0);
  assert_int_equal(key_sign(s->signer, msg.data, msg.len, sig, &siglen), 0);
  if (s->bad_sig)
    sig[10] ^= 1;
  if (s->v1_value != NULL) {
    assert_int_equal(pb_put_bytes(out, 1, s->v1_value, strlen(s->v1_value)), 0);
    assert_int_equal(pb_put_varint(out, 3, s->validity_type), 0);
    assert_int_equal(pb_put_bytes(out, 4, s->validity, strlen(s->validity)), 0);
    assert_int_equal(pb_put_varint(out, 5, s->sequence), 0);
    assert_int_equal(pb_put_varint(out, 6, 1000), 0);
  }
  if (s->embed != NULL) {
    assert_int_equal(key_public_pb(s->embed, &pub), 0);
    assert_int_equal(pb_put_bytes(out, 7, pub.data, pub.len), 0);
  }
  if (!s->no_sig)
    assert_int_equal(pb_put_bytes(out, 8, sig, siglen), 0);
  assert_int_equal(pb_put_bytes(out, 9, d.data, d.len), 0);
  buf_cleanup(&d);
  buf_cleanup(&msg);
  buf_cleanup(&pub);
}

static spec_t good(const fx_t *f)
{
  spec_t s = {0};
  s.value = "/ipfs/bafkqaddwgevxmmraojswg33smq";
  s.v1_value = s.value;
  s.validity = "2027-01-15T09:00:00.5Z"; /* NOW + 1 h, and a half */
  s.sequence = 3;
  s.signer = f->k;
  return s;
}

static int check(const fx_t *f, const peerid_t *name, const spec_t *s,
                 ipns_record_t *out)
{
  buf_t b;
  int rc;
  buf_init(&b);
  build(s, &b);
  rc = ipns_record_check(name->mh, name->len, b.data, b.len, NOW, out);
  buf_cleanup(&b);
  (void)f;
  return rc;
}

static void test_made_record_checks(void **state)
{
  fx_t *f = *state;
  ipns_record_t r;
  buf_t b;

  buf_init(&b);
  assert_int_equal(ipns_record_make(f->k, "/ipfs/bafkqaaa", 9, NOW + HOUR,
                                    60ull * 1000000000, &b),
                   0);
  assert_int_equal(
      ipns_record_check(f->id.mh, f->id.len, b.data, b.len, NOW, &r), 0);
  assert_int_equal(r.value_len, 14);
  assert_memory_equal(r.value, "/ipfs/bafkqaaa", 14);
  assert_int_equal(r.sequence, 9);
  assert_int_equal(r.ttl_ns, 60ull * 1000000000);
  assert_int_equal(r.eol_s, NOW + HOUR);
  /* Expired an hour later; someone else's name does not verify it. */
  assert_int_equal(
      ipns_record_check(f->id.mh, f->id.len, b.data, b.len, NOW + HOUR, NULL),
      CIPFS_EEXPIRED);
  assert_int_equal(ipns_record_check(f->other_id.mh, f->other_id.len, b.data,
                                     b.len, NOW, NULL),
                   CIPFS_ESIG);
  /* Every truncation is refused, none crashes. */
  for (size_t n = 0; n < b.len; n++)
    assert_int_not_equal(
        ipns_record_check(f->id.mh, f->id.len, b.data, n, NOW, NULL), 0);
  buf_cleanup(&b);
}

static void test_spec_checks(void **state)
{
  fx_t *f = *state;
  ipns_record_t r;
  spec_t s;

  s = good(f);
  assert_int_equal(check(f, &f->id, &s, &r), 0);
  assert_int_equal(r.eol_s, NOW + HOUR);
  assert_int_equal(r.eol_ns, 500000000);
  s.v1_value = NULL; /* V2 only */
  assert_int_equal(check(f, &f->id, &s, NULL), 0);
  s = good(f);
  s.extra_key = true; /* extensible data */
  assert_int_equal(check(f, &f->id, &s, NULL), 0);
  s = good(f);
  s.embed = f->k; /* the name's own key, embedded */
  assert_int_equal(check(f, &f->id, &s, NULL), 0);

  s = good(f);
  s.v1_value = "/ipfs/bafkqaaa"; /* legacy copy says something else */
  assert_int_equal(check(f, &f->id, &s, NULL), CIPFS_EIPNS);
  s = good(f);
  s.no_sig = true;
  assert_int_equal(check(f, &f->id, &s, NULL), CIPFS_EIPNS);
  s = good(f);
  s.bad_sig = true;
  assert_int_equal(check(f, &f->id, &s, NULL), CIPFS_ESIG);
  s = good(f);
  s.signer = f->other; /* signed by another key */
  assert_int_equal(check(f, &f->id, &s, NULL), CIPFS_ESIG);
  s.embed = f->other; /* ... which it embeds: still not the name's */
  assert_int_equal(check(f, &f->id, &s, NULL), CIPFS_EIPNS);
  s = good(f);
  s.dup_key = true;
  assert_int_equal(check(f, &f->id, &s, NULL), CIPFS_EIPLD);
  s = good(f);
  s.validity_type = 1;
  assert_int_equal(check(f, &f->id, &s, NULL), CIPFS_EUNSUPPORTED);
  s = good(f);
  s.validity = "2027-01-15 09:00:00Z";
  assert_int_equal(check(f, &f->id, &s, NULL), CIPFS_EIPNS);
  s.validity = "2027-01-15T07:59:59Z"; /* an hour ago */
  assert_int_equal(check(f, &f->id, &s, NULL), CIPFS_EEXPIRED);
  /* 10:00 at +02:00 is 08:00Z, a few seconds after NOW. */
  s.validity = "2027-01-15T10:00:05+02:00";
  assert_int_equal(check(f, &f->id, &s, &r), 0);
  assert_int_equal(r.eol_s, NOW + 5);
}

static void test_limits(void **state)
{
  fx_t *f = *state;
  static uint8_t big[IPNS_RECORD_MAX + 1];
  static const uint8_t garbage[] = {0x4a, 0x05, 0xff}; /* cut short */
  peerid_t hashed;
  buf_t b;

  assert_int_equal(
      ipns_record_check(f->id.mh, f->id.len, big, sizeof(big), NOW, NULL),
      CIPFS_ETOOBIG);
  assert_int_equal(ipns_record_check(f->id.mh, f->id.len, garbage,
                                     sizeof(garbage), NOW, NULL),
                   CIPFS_EPB);
  /* A hashed name (an RSA key's) needs the key in the record. */
  assert_int_equal(
      peerid_parse(&hashed, "QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N"),
      0);
  buf_init(&b);
  assert_int_equal(
      ipns_record_make(f->k, "/ipfs/bafkqaaa", 1, NOW + HOUR, 0, &b), 0);
  assert_int_equal(
      ipns_record_check(hashed.mh, hashed.len, b.data, b.len, NOW, NULL),
      CIPFS_EIPNS);
  buf_cleanup(&b);
}

static void test_cmp(void **state)
{
  ipns_record_t a = {0}, b = {0};
  (void)state;
  a.sequence = 2;
  b.sequence = 1;
  b.eol_s = NOW + 100;
  assert_true(ipns_record_cmp(&a, &b) > 0);
  assert_true(ipns_record_cmp(&b, &a) < 0);
  b.sequence = 2;
  assert_true(ipns_record_cmp(&a, &b) < 0); /* same sequence: later EOL */
  a.eol_s = b.eol_s;
  a.eol_ns = 1;
  assert_true(ipns_record_cmp(&a, &b) > 0);
  a.eol_ns = 0;
  assert_int_equal(ipns_record_cmp(&a, &b), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_made_record_checks),
      cmocka_unit_test(test_spec_checks),
      cmocka_unit_test(test_limits),
      cmocka_unit_test(test_cmp),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
