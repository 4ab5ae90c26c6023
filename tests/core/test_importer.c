#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chunker.h"
#include "cid.h"
#include "err.h"
#include "importer.h"
#include "mh.h"

/*
 * The expected CIDs below come from ipfs-unixfs-importer 17.1.1 configured
 * like kubo (see tests/interop/importer_ref.mjs), run over the same bytes:
 * the AES-128-CTR keystream of key 00 01 .. 0f and a zero IV, which
 * `openssl enc -aes-128-ctr`, node's crypto and this file all produce.
 */

/* ---- deterministic input ---- */

typedef struct rng_s {
  EVP_CIPHER_CTX *ctx;
  uint8_t zero[65536];
} rng_t;

static void rng_init(rng_t *r)
{
  static const uint8_t key[16] = {0, 1, 2,  3,  4,  5,  6,  7,
                                  8, 9, 10, 11, 12, 13, 14, 15};
  static const uint8_t iv[16] = {0};

  memset(r->zero, 0, sizeof(r->zero));
  r->ctx = EVP_CIPHER_CTX_new();
  assert_non_null(r->ctx);
  assert_int_equal(EVP_EncryptInit_ex(r->ctx, EVP_aes_128_ctr(), NULL, key, iv),
                   1);
}

static void rng_fill(rng_t *r, uint8_t *out, size_t len)
{
  while (len > 0) {
    int n = len > sizeof(r->zero) ? (int)sizeof(r->zero) : (int)len, outl;

    assert_int_equal(EVP_EncryptUpdate(r->ctx, out, &outl, r->zero, n), 1);
    assert_int_equal(outl, n);
    out += n;
    len -= (size_t)n;
  }
}

static void rng_cleanup(rng_t *r)
{
  EVP_CIPHER_CTX_free(r->ctx);
}

/* ---- a putter that checks every block against its CID ---- */

typedef struct sink_s {
  size_t nblocks;
  uint64_t bytes;
  size_t max_block;
} sink_t;

static int sink_put(void *arg, const cid_t *cid, const uint8_t *data,
                    size_t len)
{
  sink_t *s = arg;
  cid_t again;

  assert_int_equal(
      cid_sum(&again, cid->version, cid->codec, cid->mh_code, data, len), 0);
  assert_true(cid_equal(&again, cid));
  assert_true(len <= BLOCK_MAX_SIZE);
  s->nblocks++;
  s->bytes += len;
  if (len > s->max_block)
    s->max_block = len;
  return 0;
}

static const char *fmt(const cid_t *cid, char *buf)
{
  assert_true(cid_format(cid, 0, buf, CID_MAX_STR) > 0);
  return buf;
}

/* Import size bytes of the keystream in irregular writes. */
static void import_stream(const importer_opts_t *o, uint64_t size, cid_t *cid,
                          sink_t *sink)
{
  static const size_t pieces[] = {1 << 20, 1, 77777, 262144, 3, 500000};
  block_putter_t p = {sink_put, sink};
  uint8_t *buf = malloc(1 << 20);
  importer_file_t *f;
  uint64_t done = 0, fsize, tsize;
  size_t k = 0;
  rng_t r;

  assert_non_null(buf);
  rng_init(&r);
  assert_int_equal(importer_file_new(&f, o, &p), 0);
  while (done < size) {
    size_t n = pieces[k++ % 6];

    if (n > size - done)
      n = (size_t)(size - done);
    rng_fill(&r, buf, n);
    assert_int_equal(importer_file_write(f, buf, n), 0);
    done += n;
  }
  assert_int_equal(importer_file_finish(f, cid, &fsize, &tsize), 0);
  assert_int_equal(fsize, size);
  assert_true(tsize >= size);
  importer_file_free(f);
  rng_cleanup(&r);
  free(buf);
}

static void opts_for(importer_opts_t *o, const char *mode)
{
  importer_opts_init(o);
  if (strncmp(mode, "small-", 6) == 0) {
    o->chunk_size = 256;
    o->max_links = 4;
    mode += 6;
  }
  if (strcmp(mode, "v1-2025") == 0) {
    assert_int_equal(importer_opts_profile(o, "unixfs-v1-2025"), 0);
    return;
  }
  o->trickle = strncmp(mode, "trk", 3) == 0;
  if (strcmp(mode + 4, "v1") == 0)
    importer_opts_cid_version(o, 1, false);
}

typedef struct vec_s {
  const char *mode;
  uint64_t size;
  const char *cid;
} vec_t;

static void check_vectors(const vec_t *v, size_t n)
{
  char buf[CID_MAX_STR];

  for (size_t i = 0; i < n; i++) {
    importer_opts_t o;
    sink_t sink = {0};
    cid_t cid;

    opts_for(&o, v[i].mode);
    import_stream(&o, v[i].size, &cid, &sink);
    if (strcmp(fmt(&cid, buf), v[i].cid) != 0)
      fail_msg("%s size %llu: got %s want %s", v[i].mode,
               (unsigned long long)v[i].size, buf, v[i].cid);
  }
}

/* Boundaries of chunk size and of the 174-link node (v0/v1, balanced and
 * trickle, dag-pb and raw leaves). */
static void test_vectors_kubo_defaults(void **state)
{
  static const vec_t v[] = {
      {"bal-v0", 0, "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"},
      {"bal-v1", 0,
       "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"},
      {"trk-v0", 0, "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"},
      {"trk-v1", 0,
       "bafybeif7ztnhq65lumvvtr4ekcwd2ifwgm3awq4zfr3srh462rwyinlb4y"},
      {"bal-v0", 1, "QmUk4ETZqBvJ12yvC9Fd7x91JUTxAwzY6GP4j853Vt4aQj"},
      {"bal-v1", 1,
       "bafkreicjtfcgdvvumoipafgiyutvvbmr56dwi5qk7yttttxch5x34kcxpa"},
      {"trk-v0", 1, "QmekUCifPWLZF57yp5k5xFiFMVjv7uMEsWKmLNuWipc6YY"},
      {"trk-v1", 1,
       "bafybeibhrvrvxqime3b6p4ivq6xngwuoa7ucsmr63qqkbeok22zgymenzy"},
      {"bal-v0", 262143, "QmT1VyngTBrebSHfKnFPfFzJqYxACjvCVxadX1qwabXk1u"},
      {"bal-v1", 262143,
       "bafkreigaiqmd2beiz5tz6ru4atd4ugd2ghmdhaohzlqjifgds5qqinknxu"},
      {"trk-v0", 262143, "QmWUVNKQitTHbhAXesH2atKuhBfUhd1DHb7vWxhCLmaqgS"},
      {"trk-v1", 262143,
       "bafybeiefgwtgrv7mrr7aii5xxhjs75tlsjfcxe7bmad4sixj2clu2vw3ci"},
      {"bal-v0", 262144, "QmYZNpWjF78az93GyowRYyRoZS57mDQXE4wC2x4nrx4yJV"},
      {"bal-v1", 262144,
       "bafkreihfrtyci7yjyylirf7kshew3ctictpakg7v2e6atvq4o5dl54hdiq"},
      {"trk-v0", 262144, "QmZ6qmRMwEQNijtxqWHJ5tNUXTnFy4Yr9haJyTeV372KUH"},
      {"trk-v1", 262144,
       "bafybeihtfufbddf2c7klbebtowfnvgcplkhcrle67i6kvnl6yckmpj74te"},
      {"bal-v0", 262145, "QmTHbJRFDbWP8LdTPWESdeyziohgRxpxFEJaQEZGADewix"},
      {"bal-v1", 262145,
       "bafybeicvfpeh5u5zdw6bcrnfubm6vfchvuiv4ftqbj4dntc6vopnnan4bq"},
      {"trk-v0", 262145, "QmVsGdYyfFowhMspAJvfbHsGLPuPk8PY1kp7TpcqYRzeVF"},
      {"trk-v1", 262145,
       "bafybeicvfpeh5u5zdw6bcrnfubm6vfchvuiv4ftqbj4dntc6vopnnan4bq"},
      {"bal-v0", 45613055, "QmTr4wKCGCnwCnfg6B3QWE1umXHKd9zNsH8XTVKo5zaj6L"},
      {"bal-v1", 45613055,
       "bafybeia24vdrxfw7s2chx2ssr3dqabtdefn4bbzwngnj5jmqev65k3jhji"},
      {"trk-v0", 45613055, "QmVHa9LoEyLooZaGM4t2KBj1yLBCatSAKU8vFmUBiALeFX"},
      {"trk-v1", 45613055,
       "bafybeia24vdrxfw7s2chx2ssr3dqabtdefn4bbzwngnj5jmqev65k3jhji"},
      {"bal-v0", 45613056, "QmSsnTVn4Etqv1i1xjbkWNnyTuVRmkezXzsYtZAgTLsAA4"},
      {"bal-v1", 45613056,
       "bafybeiawkl7hbms2bjkqdpw7i5nrb6izbddxv7srlwtfjtd2ytfvtt45lm"},
      {"trk-v0", 45613056, "QmNe4y4W73CQAFKBsq3yAziF9VncUFHKVinTtVZTaWpvzq"},
      {"trk-v1", 45613056,
       "bafybeiawkl7hbms2bjkqdpw7i5nrb6izbddxv7srlwtfjtd2ytfvtt45lm"},
      {"bal-v0", 45613057, "QmZpdd6zS57HPLq95Yuc9iuEdhnEPivUmAGZYoqGWoMCus"},
      {"bal-v1", 45613057,
       "bafybeiciqcrvmrv5o6kzwsw3s75mnyjp3oxyefkiex2yw5ajp6droqlffi"},
      {"trk-v0", 45613057, "QmW3MJ2EvB2L2XHJiQQJrgUeDqC5NdL1sJQc6jAa6e3Hqd"},
      {"trk-v1", 45613057,
       "bafybeiayq34jjqls67j5wewloavs3zorpa2lncbxbsmn2cikhzcstlqrxe"},
  };

  check_vectors(v, sizeof(v) / sizeof(v[0]));
}

/* Small chunks and 4 links per node: deep balanced and trickle trees
 * cheaply; plus the unixfs-v1-2025 profile (1 MiB chunks, raw leaves). */
static void test_vectors_deep_and_profile(void **state)
{
  static const vec_t v[] = {
      {"small-bal-v0", 0, "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"},
      {"small-bal-v1", 0,
       "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"},
      {"small-trk-v0", 0, "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH"},
      {"small-trk-v1", 0,
       "bafybeif7ztnhq65lumvvtr4ekcwd2ifwgm3awq4zfr3srh462rwyinlb4y"},
      {"small-bal-v0", 1, "QmUk4ETZqBvJ12yvC9Fd7x91JUTxAwzY6GP4j853Vt4aQj"},
      {"small-bal-v1", 1,
       "bafkreicjtfcgdvvumoipafgiyutvvbmr56dwi5qk7yttttxch5x34kcxpa"},
      {"small-trk-v0", 1, "QmekUCifPWLZF57yp5k5xFiFMVjv7uMEsWKmLNuWipc6YY"},
      {"small-trk-v1", 1,
       "bafybeibhrvrvxqime3b6p4ivq6xngwuoa7ucsmr63qqkbeok22zgymenzy"},
      {"small-bal-v0", 255, "QmXFE5Gb5K7taTTCgaG9ntwMWHA4656YyQSorrx4tHgUd4"},
      {"small-bal-v1", 255,
       "bafkreictpwfbtdfl2hy4sofcoivrhnggc75672sbjy6ugwqov5ybs5uroa"},
      {"small-trk-v0", 255, "QmasFbuebHquJpS5KgL9y8hvKVv3Vurb6Tmm5CshiKNMko"},
      {"small-trk-v1", 255,
       "bafybeihwd6mqgyvzb2zyh4arm5r4fdjdu3z43ldmfbo2fymxqro6hjeypa"},
      {"small-bal-v0", 256, "QmcVXoqX4JRqwgBGmLzBYQCTbPyqoLYX8UhASqMephMb4L"},
      {"small-bal-v1", 256,
       "bafkreicpl5dnt4j3s75iqa2qpgvhtil66bfsjyvg6ioaooawg5gkyixama"},
      {"small-trk-v0", 256, "QmaiRh5WCzR7Zu69QF9NVvz1tPDdKmMTpaY6BsH4Ezsgfh"},
      {"small-trk-v1", 256,
       "bafybeifb4i6eyljrfpaac3viouj7h4j2zm2kolakwu23fz7q4ebmz5tafu"},
      {"small-bal-v0", 257, "QmZEAz9NfiQAStpcYrB2v33MeN6yEUbsyQSpNQLGCH5QYi"},
      {"small-bal-v1", 257,
       "bafybeigrep62ww4zpw7bkfvldn2kqe6hj5hci4krf5tfp4edr2omwprsdu"},
      {"small-trk-v0", 257, "QmS5UECNzN4bipsTmcwKjBXbYp1owthG4i8vPDStUoB9Q5"},
      {"small-trk-v1", 257,
       "bafybeigrep62ww4zpw7bkfvldn2kqe6hj5hci4krf5tfp4edr2omwprsdu"},
      {"small-bal-v0", 1023, "QmeUdUAxh1LRgWEAKVg7qeNJzUUWiePjkRMfikdohBig1K"},
      {"small-bal-v1", 1023,
       "bafybeihzrcgyjeugg234ubemspcpccsnybtcev6lsnl2fqilo4y3wrnscq"},
      {"small-trk-v0", 1023, "QmdmDMfwWzB1ZYPT8JyZuyAet2bLibDUcDmDEwdpghWgGm"},
      {"small-trk-v1", 1023,
       "bafybeihzrcgyjeugg234ubemspcpccsnybtcev6lsnl2fqilo4y3wrnscq"},
      {"small-bal-v0", 1024, "QmVkHS7XbjEPJcwQC9Tk6FyfLeS1DHAUXqfEayg4NVKWY9"},
      {"small-bal-v1", 1024,
       "bafybeicc3txnmtdbj6qq63xhv736vwb2swc24cpbntq6bbckpblq5cjedm"},
      {"small-trk-v0", 1024, "QmYDeyGFN4YANUE7twDCc6afhNFCe6fMPqMLJattrN8xuZ"},
      {"small-trk-v1", 1024,
       "bafybeicc3txnmtdbj6qq63xhv736vwb2swc24cpbntq6bbckpblq5cjedm"},
      {"small-bal-v0", 1025, "QmRB11uJqNBKTF6i7vqk7MioLFGReXB8FVFTXTC1Sjc3bH"},
      {"small-bal-v1", 1025,
       "bafybeicpm765a4rg5a7rettf2ujk6ekyowqoumpvaxgw3wanygyrc5kg3i"},
      {"small-trk-v0", 1025, "QmdZdyWpwox8hZrTYrihJJ4hGFByKmm8E5FhSEFjn7etLE"},
      {"small-trk-v1", 1025,
       "bafybeidpsyercwh547vfca6dgjpxohwjfwyz2mrv2iyd56rf3esjkvmapu"},
      {"small-bal-v0", 4095, "QmY9bon2t8eXJZyRgkhYkpYYn6zdfC2MPVoyW8QC5uRirU"},
      {"small-bal-v1", 4095,
       "bafybeic3sfnrtt55fskdfezleywrfatnecd7w2tkwtrtrrfs5qvvgtxi5q"},
      {"small-trk-v0", 4095, "QmWiZbLFvAWJ7PFuVsfLkLcD2WvaGfxvU5fRSpNgVv2GUZ"},
      {"small-trk-v1", 4095,
       "bafybeidkk4gkdyf35p6razied5fa6mh4uudlcydy6c2p7pswa4agqef7b4"},
      {"small-bal-v0", 4096, "QmXKYp8Dd9B5j5HQFUq4XZqk4ygQrseRZsH1PSVShjRfgB"},
      {"small-bal-v1", 4096,
       "bafybeibah2s656ipng2useebpal5b4uoqcffmsvmguvlzc66ze2xbsipqu"},
      {"small-trk-v0", 4096, "QmNizbWUoD2eWmkBGrjh6RVFNUrdyLCWpUQbqDhBBxi6Ve"},
      {"small-trk-v1", 4096,
       "bafybeie5iblgzumbhaq2vhvnjacat6z5p3mwgz26lgk4ntxw22c4lnpzxu"},
      {"small-bal-v0", 4097, "QmYsBZiUPWJZUz3k4WbnXqTZtTegJnTa9TCNm2tJmEASFy"},
      {"small-bal-v1", 4097,
       "bafybeigohkrbcdgql2fbmcp5ar7p2gydmgru5rz4udo3hxmeji2m376lea"},
      {"small-trk-v0", 4097, "QmPF6nddg2PvgfSJSBtf33XkCT9rzBAHJd884g7utiHPjm"},
      {"small-trk-v1", 4097,
       "bafybeid5x6cqkgoxafqdxuhsmbhqvormrbizun6omb2boajeegqlqfzb2u"},
      {"small-bal-v0", 100000,
       "QmQRoQzHJzMaJP9BP8MhapeV5ozHAdVK6sKVE8XxtVsB63"},
      {"small-bal-v1", 100000,
       "bafybeidz4ykc2bye6mbyoijgwfxwkmlezfnbrsm6jhxib6zimncd7iozki"},
      {"small-trk-v0", 100000,
       "Qma5b6gwjsohpJbpKP7mE9sLbXTFjNw3NPU4nCaXVtYhRJ"},
      {"small-trk-v1", 100000,
       "bafybeiamuj7zscmlz4pzjl73cgf7n5g2lenybszgx6cpqphkeqcuvgkjha"},
      {"v1-2025", 0,
       "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"},
      {"v1-2025", 1,
       "bafkreicjtfcgdvvumoipafgiyutvvbmr56dwi5qk7yttttxch5x34kcxpa"},
      {"v1-2025", 1048575,
       "bafkreifwywu2uekb42abi6ko4xlu5i74wpcmfgzxn2vmohciict7lr4qne"},
      {"v1-2025", 1048576,
       "bafkreibqc43uciu2o4tga6ev24r4i2grpbuiqaqfxsxlyblycg54bawx2a"},
      {"v1-2025", 1048577,
       "bafybeictwfhdsa7iv6k5wetnmih34unqq2uub77w4f6jcichv2l2ti7dri"},
      {"v1-2025", 3000000,
       "bafybeifxniybqpf7rnnsymfqhll7fygllfdbgbk2udhnl35d3rngcfpjqm"},
  };

  check_vectors(v, sizeof(v) / sizeof(v[0]));
}

static void import_bytes(const importer_opts_t *o, const char *s, cid_t *cid,
                         uint64_t *tsize)
{
  block_putter_t p = {NULL, NULL};
  importer_file_t *f;

  assert_int_equal(importer_file_new(&f, o, &p), 0);
  assert_int_equal(importer_file_write(f, (const uint8_t *)s, strlen(s)), 0);
  assert_int_equal(importer_file_finish(f, cid, NULL, tsize), 0);
  importer_file_free(f);
}

/* CIDs anyone running kubo with default settings gets. */
static void test_known_kubo_cids(void **state)
{
  block_putter_t p = {NULL, NULL};
  char buf[CID_MAX_STR];
  importer_opts_t o;
  importer_dir_t *d;
  uint64_t tsize;
  cid_t cid;

  importer_opts_init(&o);
  import_bytes(&o, "hello world\n", &cid, &tsize);
  assert_string_equal(fmt(&cid, buf),
                      "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o");
  assert_int_equal(tsize, 20);
  import_bytes(&o, "", &cid, &tsize);
  assert_string_equal(fmt(&cid, buf),
                      "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH");
  assert_int_equal(importer_dir_new(&d, &o, &p), 0);
  assert_int_equal(importer_dir_finish(d, &cid, &tsize), 0);
  importer_dir_free(d);
  assert_string_equal(fmt(&cid, buf),
                      "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn");
  assert_int_equal(tsize, 4);
  importer_opts_cid_version(&o, 1, false);
  import_bytes(&o, "", &cid, &tsize);
  assert_string_equal(
      fmt(&cid, buf),
      "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku");
}

/* --hash sha2-512: CIDv1 with raw leaves, the digest OpenSSL computes. */
static void test_hash_sha512(void **state)
{
  const char *s = "hello world\n";
  uint8_t md[64];
  unsigned int mdlen;
  importer_opts_t o;
  sink_t sink = {0};
  cid_t cid;

  importer_opts_init(&o);
  assert_int_equal(importer_opts_hash(&o, "sha2-512", false, false), 0);
  assert_int_equal(o.cid_version, 1);
  assert_true(o.raw_leaves);
  import_bytes(&o, s, &cid, NULL);
  assert_int_equal(cid.version, 1);
  assert_int_equal(cid.codec, CID_CODEC_RAW);
  assert_int_equal(EVP_Digest(s, strlen(s), md, &mdlen, EVP_sha512(), NULL), 1);
  assert_int_equal(cid.len, 4 + 2 + 64 - 2);
  assert_memory_equal(cid.bytes + cid.len - 64, md, 64);
  /* a multi-block file: every node hashed with sha2-512 (sink checks) */
  import_stream(&o, 600000, &cid, &sink);
  assert_int_equal(cid.codec, CID_CODEC_DAG_PB);
  assert_int_equal(cid.mh_code, MH_SHA2_512);
  assert_int_equal(sink.nblocks, 4);

  importer_opts_init(&o);
  importer_opts_cid_version(&o, 0, false);
  assert_int_equal(importer_opts_hash(&o, "sha2-512", true, false),
                   CIPFS_EUSAGE);
}

static void test_opts(void **state)
{
  importer_opts_t o;

  importer_opts_init(&o);
  assert_int_equal(o.cid_version, 0);
  assert_false(o.raw_leaves);
  assert_int_equal(o.chunk_size, 262144);
  assert_int_equal(o.max_links, 174);
  assert_int_equal(o.hamt_threshold, 262144);
  assert_int_equal(o.hamt_fanout, 256);
  assert_int_equal(importer_opts_chunker(&o, "size-1024"), 0);
  assert_int_equal(o.chunk_size, 1024);
  assert_int_equal(importer_opts_chunker(&o, "size-0"), CIPFS_EUSAGE);
  assert_int_equal(importer_opts_chunker(&o, "size-2096897"), CIPFS_EUSAGE);
  assert_int_equal(importer_opts_chunker(&o, "size-2096896"), 0);
  assert_int_equal(importer_opts_chunker(&o, "size-12x"), CIPFS_EUSAGE);
  assert_int_equal(importer_opts_chunker(&o, "size--1"), CIPFS_EUSAGE);
  assert_int_equal(importer_opts_chunker(&o, "rabin"), CIPFS_EUSAGE);
  assert_int_equal(importer_opts_chunker(&o, "buzhash"), 0);
  assert_int_equal(o.chunker, IMPORTER_CHUNK_BUZHASH);
  assert_int_equal(importer_opts_profile(&o, "unixfs-v9"), CIPFS_EUSAGE);
  assert_int_equal(importer_opts_profile(&o, "unixfs-v1-2025"), 0);
  assert_int_equal(o.cid_version, 1);
  assert_true(o.raw_leaves);
  assert_int_equal(o.chunk_size, 1048576);
  assert_int_equal(o.max_links, 1024);
  assert_true(o.hamt_by_block_size);
  importer_opts_init(&o);
  importer_opts_cid_version(&o, 1, false);
  assert_true(o.raw_leaves);
  importer_opts_init(&o);
  importer_opts_cid_version(&o, 1, true);
  assert_false(o.raw_leaves);
}

/* ---- buzhash ---- */

typedef struct cuts_s {
  size_t n;
  size_t sizes[256];
  uint64_t total;
} cuts_t;

static int record_cut(void *arg, uint8_t *chunk, size_t len)
{
  cuts_t *c = arg;

  assert_true(c->n < 256);
  assert_true(len > 0);
  /* the leaf encoder writes around the chunk: make sure that is allowed */
  memset(chunk - CHUNKER_HEADROOM, 0xee, CHUNKER_HEADROOM);
  memset(chunk + len, 0xee, CHUNKER_TAILROOM);
  c->sizes[c->n++] = len;
  c->total += len;
  return 0;
}

static void buz_run(const uint8_t *data, size_t len, size_t piece, cuts_t *c)
{
  chunker_t ch;

  memset(c, 0, sizeof(*c));
  assert_int_equal(chunker_init(&ch, CHUNKER_BUZHASH, 0, record_cut, c), 0);
  for (size_t off = 0; off < len; off += piece)
    assert_int_equal(
        chunker_write(&ch, data + off, len - off < piece ? len - off : piece),
        0);
  assert_int_equal(chunker_finish(&ch), 0);
  chunker_cleanup(&ch);
}

/* No published kubo vector exists for buzhash; these cut points come from
 * a line-by-line transcription of boxo's NextBytes (chunker/buzhash.go)
 * run over the same 8 MiB. */
static void test_buzhash_cuts(void **state)
{
  static const size_t first[] = {329964, 346871, 190669, 152090, 149396,
                                 279509, 133371, 297185, 480271, 242896};
  static const size_t pieces[] = {8 << 20, 1 << 20, 4096, 99991};
  size_t len = 8 << 20;
  uint8_t *data = malloc(len);
  cuts_t c, c2;
  rng_t r;

  assert_non_null(data);
  rng_init(&r);
  rng_fill(&r, data, len);
  rng_cleanup(&r);
  buz_run(data, len, len, &c);
  assert_int_equal(c.n, 34);
  assert_int_equal(c.total, len);
  for (size_t i = 0; i < 10; i++)
    assert_int_equal(c.sizes[i], first[i]);
  assert_int_equal(c.sizes[31], 211777);
  assert_int_equal(c.sizes[32], 228468);
  assert_int_equal(c.sizes[33], 46623);
  for (size_t i = 0; i + 1 < c.n; i++) {
    assert_true(c.sizes[i] >= CHUNKER_BUZ_MIN);
    assert_true(c.sizes[i] <= CHUNKER_BUZ_MAX);
  }
  /* the cut points do not depend on how the data is written */
  for (size_t k = 0; k < 4; k++) {
    buz_run(data, len, pieces[k], &c2);
    assert_int_equal(c2.n, c.n);
    assert_memory_equal(c2.sizes, c.sizes, c.n * sizeof(c.sizes[0]));
  }
  /* a tail that fits in one chunk: a single chunk */
  buz_run(data, 600000, 4096, &c);
  assert_int_equal(c.n, 2);
  assert_int_equal(c.sizes[0], 329964);
  /* all zeros: the window hash masks to zero at once, so minimum cuts */
  memset(data, 0, 2 << 20);
  buz_run(data, 2 << 20, 65536, &c);
  assert_int_equal(c.n, 16);
  for (size_t i = 0; i < c.n; i++)
    assert_int_equal(c.sizes[i], CHUNKER_BUZ_MIN);
  /* nothing in, nothing out (kubo no longer emits an empty chunk) */
  buz_run(data, 0, 1, &c);
  assert_int_equal(c.n, 0);
  free(data);
}

/* A buzhash import is a balanced DAG over those chunks; same CID whatever
 * the write pattern, and an empty file is kubo's empty file. */
static void test_buzhash_import(void **state)
{
  char a[CID_MAX_STR], b[CID_MAX_STR];
  importer_opts_t o;
  sink_t s1 = {0}, s2 = {0};
  cid_t c1, c2;

  importer_opts_init(&o);
  assert_int_equal(importer_opts_chunker(&o, "buzhash"), 0);
  import_stream(&o, 8 << 20, &c1, &s1);
  assert_int_equal(s1.nblocks, 34 + 1);
  assert_true(s1.max_block <= CHUNKER_BUZ_MAX + 32);
  o.chunk_size = 1; /* ignored by buzhash */
  import_stream(&o, 8 << 20, &c2, &s2);
  assert_string_equal(fmt(&c1, a), fmt(&c2, b));
  import_bytes(&o, "", &c1, NULL);
  assert_string_equal(fmt(&c1, a),
                      "QmbFMke1KXqnYyBBWxB74N4c5SBnJMVAiMNRcGu6x1AwQH");
}

/* ---- directories ---- */

static void put_file(const char *path, const char *content)
{
  FILE *f = fopen(path, "wb");

  assert_non_null(f);
  assert_int_equal(fwrite(content, 1, strlen(content), f), strlen(content));
  assert_int_equal(fclose(f), 0);
}

static void file_cid(const importer_opts_t *o, const block_putter_t *p,
                     const char *content, cid_t *cid, uint64_t *tsize)
{
  importer_file_t *f;

  assert_int_equal(importer_file_new(&f, o, p), 0);
  assert_int_equal(
      importer_file_write(f, (const uint8_t *)content, strlen(content)), 0);
  assert_int_equal(importer_file_finish(f, cid, NULL, tsize), 0);
  importer_file_free(f);
}

/* 5000 entries: far past 256 KiB of links, so a HAMT with sub-shards. */
static void test_hamt_dir(void **state)
{
  static const char *want[] = {
      "Qmc2u9C8hrNTLeFogLruMVeucYAfRmGDPmL3T7TBSBkC3w",
      "bafybeia43ez2buwfhpir5s7p5ou2dstgecaglyj76iswvh5hvl44gzs6eu",
      "bafybeia43ez2buwfhpir5s7p5ou2dstgecaglyj76iswvh5hvl44gzs6eu"};
  static const uint64_t want_tsize[] = {460380, 431292, 431292};
  char buf[CID_MAX_STR], name[64], content[16];

  for (int mode = 0; mode < 3; mode++) {
    sink_t sink = {0};
    block_putter_t p = {sink_put, &sink};
    importer_opts_t o;
    importer_dir_t *d;
    uint64_t tsize;
    cid_t cid;

    importer_opts_init(&o);
    if (mode == 1)
      importer_opts_cid_version(&o, 1, false);
    if (mode == 2)
      assert_int_equal(importer_opts_profile(&o, "unixfs-v1-2025"), 0);
    assert_int_equal(importer_dir_new(&d, &o, &p), 0);
    /* reverse order: the result must not depend on it */
    for (int i = 5000; i >= 1; i--) {
      snprintf(name, sizeof(name), "file-with-a-longish-name-%d", i);
      snprintf(content, sizeof(content), "%d", i);
      file_cid(&o, &p, content, &cid, &tsize);
      assert_int_equal(importer_dir_add(d, name, &cid, tsize), 0);
    }
    sink.nblocks = 0;
    assert_int_equal(importer_dir_finish(d, &cid, &tsize), 0);
    importer_dir_free(d);
    assert_string_equal(fmt(&cid, buf), want[mode]);
    assert_int_equal(tsize, want_tsize[mode]);
    assert_true(sink.nblocks > 1 + 256 / 2); /* root plus sub-shards */
  }
}

/* kubo and the JS importer shard only when the estimate is strictly over
 * the threshold: 4096 names of 30 bytes + 34-byte CIDs are exactly
 * 262144 bytes (plain), one byte more shards. */
static void test_hamt_threshold(void **state)
{
  static const char *want[] = {
      "QmSp5XpB488UxG64sziC7Cfh6Z9seAYqQazMTG3Uiv2tCS",
      "QmVh7P6BwyXJFhcMRLb8AhzTCe8rLDsGZiffzm1YQbNpGn"};
  char buf[CID_MAX_STR], name[64];

  for (int k = 0; k < 2; k++) {
    sink_t sink = {0};
    block_putter_t p = {sink_put, &sink};
    importer_opts_t o;
    importer_dir_t *d;
    uint64_t tsize;
    cid_t empty, cid;

    importer_opts_init(&o);
    file_cid(&o, &p, "", &empty, &tsize);
    assert_int_equal(importer_dir_new(&d, &o, &p), 0);
    for (int i = 1; i <= 4096; i++) {
      snprintf(name, sizeof(name), k == 1 && i == 1 ? "%031d" : "%030d", i);
      assert_int_equal(importer_dir_add(d, name, &empty, tsize), 0);
    }
    sink.nblocks = 0;
    assert_int_equal(importer_dir_finish(d, &cid, &tsize), 0);
    importer_dir_free(d);
    assert_string_equal(fmt(&cid, buf), want[k]);
    if (k == 0)
      assert_int_equal(sink.nblocks, 1);
    else
      assert_true(sink.nblocks > 1 + 256);
  }
}

/* unixfs-v1-2025 measures the serialized block: 4 bytes of Data plus 74
 * per link here (36-byte CID, 30-byte name, Tsize 0), so 3542 entries
 * (262112 bytes) stay plain and 3543 (262186) shard. */
static void test_hamt_threshold_block_bytes(void **state)
{
  static const char *want[] = {
      "bafybeidefhry4agiyn4fzsz2pwpi2ta7tgcmghtkhjtimntegb5ghrpr7i",
      "bafybeib2cmfbmfshxpdssdzjrxwzprutjb4wbydqyihx2dwxxtvwdnxmbq"};
  char buf[CID_MAX_STR], name[64];

  for (int k = 0; k < 2; k++) {
    sink_t sink = {0};
    block_putter_t p = {sink_put, &sink};
    importer_opts_t o;
    importer_dir_t *d;
    uint64_t tsize;
    cid_t empty, cid;

    importer_opts_init(&o);
    assert_int_equal(importer_opts_profile(&o, "unixfs-v1-2025"), 0);
    file_cid(&o, &p, "", &empty, &tsize);
    assert_int_equal(importer_dir_new(&d, &o, &p), 0);
    for (int i = 1; i <= 3542 + k; i++) {
      snprintf(name, sizeof(name), "%030d", i);
      assert_int_equal(importer_dir_add(d, name, &empty, tsize), 0);
    }
    sink.nblocks = 0;
    assert_int_equal(importer_dir_finish(d, &cid, &tsize), 0);
    importer_dir_free(d);
    assert_string_equal(fmt(&cid, buf), want[k]);
    if (k == 0)
      assert_int_equal(sink.nblocks, 1);
    else
      assert_true(sink.nblocks > 1 + 256);
  }
}

static void test_dir_add_rules(void **state)
{
  block_putter_t p = {NULL, NULL};
  char a[CID_MAX_STR];
  importer_opts_t o;
  importer_dir_t *d;
  uint64_t ts1, ts2, ts;
  cid_t c1, c2, cid, want;

  importer_opts_init(&o);
  file_cid(&o, &p, "a\n", &c1, &ts1);
  file_cid(&o, &p, "b\n", &c2, &ts2);
  assert_int_equal(importer_dir_new(&d, &o, &p), 0);
  assert_int_equal(importer_dir_add(d, "", &c1, ts1), CIPFS_EPATH);
  assert_int_equal(importer_dir_add(d, "x/y", &c1, ts1), CIPFS_EPATH);
  /* a name added twice: the last one wins, like kubo's AddChild */
  assert_int_equal(importer_dir_add(d, "f", &c2, ts2), 0);
  assert_int_equal(importer_dir_add(d, "f", &c1, ts1), 0);
  assert_int_equal(importer_dir_finish(d, &cid, &ts), 0);
  importer_dir_free(d);
  assert_int_equal(importer_dir_new(&d, &o, &p), 0);
  assert_int_equal(importer_dir_add(d, "f", &c1, ts1), 0);
  assert_int_equal(importer_dir_finish(d, &want, NULL), 0);
  importer_dir_free(d);
  assert_string_equal(fmt(&cid, a), fmt(&want, (char[CID_MAX_STR]){0}));
  o.hamt_fanout = 100;
  assert_int_equal(importer_dir_new(&d, &o, &p), CIPFS_EUSAGE);
  o.hamt_fanout = 2048; /* past kubo's 1024 */
  assert_int_equal(importer_dir_new(&d, &o, &p), CIPFS_EUSAGE);
  o.hamt_fanout = 1024;
  assert_int_equal(importer_dir_new(&d, &o, &p), 0);
  importer_dir_free(d);
}

typedef struct events_s {
  size_t n;
  char rel[32][96];
  char cid[32][CID_MAX_STR];
  uint64_t progress;
} events_t;

static int on_entry(void *arg, const char *relpath, const cid_t *cid,
                    uint64_t size)
{
  events_t *e = arg;

  assert_true(e->n < 32);
  snprintf(e->rel[e->n], sizeof(e->rel[0]), "%s", relpath);
  fmt(cid, e->cid[e->n]);
  e->n++;
  return 0;
}

static void on_progress(void *arg, uint64_t bytes)
{
  events_t *e = arg;

  assert_true(bytes > e->progress);
  e->progress = bytes;
}

#define UNI                                                                    \
  "\xc3\xbc\x6e\xc3\xaf\x63\xc3\xb8\x64\xc3\xa9 \xe7\x9b\xae\xe5\xbd\x95"
#define FILE_RU "\xd1\x84\xd0\xb0\xd0\xb9\xd0\xbb"

static void make_tree(const char *root)
{
  char p[512];
  uint8_t *big = malloc(262145);
  FILE *f;
  rng_t r;

#define P(s) (snprintf(p, sizeof(p), "%s/%s", root, s), p)
  assert_int_equal(mkdir(P("tree"), 0755), 0);
  assert_int_equal(mkdir(P("tree/sub"), 0755), 0);
  assert_int_equal(mkdir(P("tree/sub/deeper"), 0755), 0);
  assert_int_equal(mkdir(P("tree/" UNI), 0755), 0);
  assert_int_equal(mkdir(P("tree/.hid"), 0755), 0);
  assert_int_equal(mkdir(P("tree/emptydir"), 0755), 0);
  put_file(P("tree/a.txt"), "a\n");
  put_file(P("tree/sub/b"), "b\n");
  put_file(P("tree/" UNI "/" FILE_RU), "x");
  put_file(P("tree/.hid/h"), "h");
  put_file(P("tree/.dotfile"), "dot");
  put_file(P("tree/Zed"), "Z");
  assert_int_equal(symlink("a.txt", P("tree/link")), 0);
  assert_int_equal(symlink("/nonexistent/target", P("tree/sub/dangling")), 0);
  assert_non_null(big);
  rng_init(&r);
  rng_fill(&r, big, 262145);
  rng_cleanup(&r);
  f = fopen(P("tree/sub/deeper/big"), "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(big, 1, 262145, f), 262145);
  assert_int_equal(fclose(f), 0);
  free(big);
#undef P
}

static void rm_rf(const char *path)
{
  char cmd[600];

  snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
  assert_int_equal(system(cmd), 0);
}

/* A nested tree with unicode names, symlinks (one dangling), dot-files and
 * an empty directory, as `ipfs add -r [-H] [-w] [--cid-version 1]`. */
static void test_add_path_tree(void **state)
{
  static const char *order[] = {"tree/Zed",
                                "tree/a.txt",
                                "tree/link",
                                "tree/sub/b",
                                "tree/sub/dangling",
                                "tree/sub/deeper/big",
                                "tree/" UNI "/" FILE_RU,
                                "tree/emptydir",
                                "tree/sub/deeper",
                                "tree/sub",
                                "tree/" UNI,
                                "tree"};
  static const char *order_cid[] = {
      "QmVYqz5tKDzJ1SdqKysJxhKruqCFRyG2NfgDE5jWifCmMd",
      "Qmbvkmk9LFsGneteXk3G7YLqtLVME566ho6ibaQZZVHaC9",
      "QmS9U51FvTAqDDVLJ5okMzeLjsEeg8JEG1rPmSq2oPahF6",
      "QmR9pC5uCF3UExca8RSrCVL8eKv7nHMpATzbEQkAHpXmVM",
      "QmXms9wAueLtW2UD2rciHLbJTKQ8Z8HgcgQzDabJphDuXT",
      "QmTHbJRFDbWP8LdTPWESdeyziohgRxpxFEJaQEZGADewix",
      "QmULKig5Fxrs2sC4qt9nNduucXfb92AFYQ6Hi3YRqDmrYC",
      "QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn",
      "QmNdFpmwhW2ytep5g1SzH7Tr9gvX136EDFcnkrUZUWuXG8",
      "QmfW7iURJxbJqM73RB1YneW71HSs3B3FrUjNPQhFZxQJMC",
      "QmXNBhWkjSjGav5yGiGgUY9ATbDER7P5sTKoxmUzjq4Hzs",
      "QmeQstsVhw176rkTsvXaiys81vEAB2wyyntiHSxWHUYRSq"};
  char tmpl[] = "/tmp/cipfs-imp-XXXXXX", path[600], buf[CID_MAX_STR];
  block_putter_t p = {NULL, NULL};
  importer_cbs_t cbs;
  importer_opts_t o;
  events_t *ev = calloc(1, sizeof(*ev));
  cid_t root;

  assert_non_null(ev);
  assert_non_null(mkdtemp(tmpl));
  make_tree(tmpl);
  snprintf(path, sizeof(path), "%s/tree", tmpl);
  cbs.entry = on_entry;
  cbs.progress = on_progress;
  cbs.arg = ev;

  importer_opts_init(&o);
  assert_int_equal(importer_add_path(&o, &p, path, &cbs, &root), 0);
  assert_int_equal(ev->n, 12);
  for (size_t i = 0; i < 12; i++) {
    assert_string_equal(ev->rel[i], order[i]);
    assert_string_equal(ev->cid[i], order_cid[i]);
  }
  assert_string_equal(fmt(&root, buf), order_cid[11]);
  assert_int_equal(ev->progress, 2 + 2 + 1 + 1 + 262145);

  memset(ev, 0, sizeof(*ev));
  o.hidden = true;
  assert_int_equal(importer_add_path(&o, &p, path, &cbs, &root), 0);
  assert_int_equal(ev->n, 15);
  assert_string_equal(fmt(&root, buf),
                      "QmZoxeepzcZ1i59ptp9HvZ4mSvFJBr7JiUaKMWq8W62r3V");

  memset(ev, 0, sizeof(*ev));
  o.hidden = false;
  o.wrap = true;
  snprintf(path, sizeof(path), "%s/tree/", tmpl); /* trailing slash */
  assert_int_equal(importer_add_path(&o, &p, path, &cbs, &root), 0);
  assert_int_equal(ev->n, 13);
  assert_string_equal(ev->rel[11], "tree");
  assert_string_equal(ev->rel[12], "");
  assert_string_equal(fmt(&root, buf),
                      "QmV7ekfQddrJwYzpjF2h98LeM4vmHCGzaP9RmTMqP2BUt6");

  memset(ev, 0, sizeof(*ev));
  importer_opts_init(&o);
  importer_opts_cid_version(&o, 1, false);
  assert_int_equal(importer_add_path(&o, &p, path, &cbs, &root), 0);
  assert_string_equal(
      fmt(&root, buf),
      "bafybeibfgnn2m2lpgge7q32ymdt3aapfgh2okbmsa3y2lbsbxwrrwnxeja");

  /* a single file, and a symlink argument stored as a symlink */
  memset(ev, 0, sizeof(*ev));
  importer_opts_init(&o);
  snprintf(path, sizeof(path), "%s/tree/sub/deeper/big", tmpl);
  assert_int_equal(importer_add_path(&o, &p, path, &cbs, &root), 0);
  assert_int_equal(ev->n, 1);
  assert_string_equal(ev->rel[0], "big");
  assert_string_equal(ev->cid[0], order_cid[5]);
  snprintf(path, sizeof(path), "%s/tree/link", tmpl);
  assert_int_equal(importer_add_path(&o, &p, path, NULL, &root), 0);
  assert_string_equal(fmt(&root, buf), order_cid[2]);

  /* a fifo inside a directory is refused, a missing path too */
  snprintf(path, sizeof(path), "%s/tree/sub/fifo", tmpl);
  assert_int_equal(mkfifo(path, 0644), 0);
  snprintf(path, sizeof(path), "%s/tree", tmpl);
  assert_int_equal(importer_add_path(&o, &p, path, NULL, &root),
                   CIPFS_ENOTFILE);
  snprintf(path, sizeof(path), "%s/nope", tmpl);
  assert_int_equal(importer_add_path(&o, &p, path, NULL, &root), -ENOENT);

  rm_rf(tmpl);
  free(ev);
}

/* stdin: "echo hello world | ipfs add [-w]" */
static void test_add_fd(void **state)
{
  block_putter_t p = {NULL, NULL};
  char buf[CID_MAX_STR];
  importer_cbs_t cbs;
  importer_opts_t o;
  events_t *ev = calloc(1, sizeof(*ev));
  int fds[2];
  cid_t root;

  assert_non_null(ev);
  cbs.entry = on_entry;
  cbs.progress = NULL;
  cbs.arg = ev;
  importer_opts_init(&o);
  for (int wrap = 0; wrap < 2; wrap++) {
    o.wrap = wrap;
    memset(ev, 0, sizeof(*ev));
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], "hello world\n", 12), 12);
    close(fds[1]);
    assert_int_equal(importer_add_fd(&o, &p, fds[0], "stdin", &cbs, &root), 0);
    close(fds[0]);
    assert_string_equal(ev->rel[0], "stdin");
    assert_string_equal(ev->cid[0],
                        "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o");
    assert_int_equal(ev->n, 1 + (size_t)wrap);
  }
  assert_string_equal(fmt(&root, buf),
                      "QmYhqo2HLPjAUDYmBtX63kNhVUy5SD8yaDKwTLXK4kBTWQ");
  assert_int_equal(importer_add_fd(&o, &p, -1, "x", NULL, &root), -EBADF);
  free(ev);
}

static int failing_put(void *arg, const cid_t *cid, const uint8_t *data,
                       size_t len)
{
  int *left = arg;

  return (*left)-- > 0 ? 0 : -EIO;
}

/* Errors from the putter reach the caller and stick. */
static void test_put_errors(void **state)
{
  int left = 3;
  block_putter_t p = {failing_put, &left};
  uint8_t *buf = calloc(1, 1 << 20);
  importer_opts_t o;
  importer_file_t *f;
  cid_t cid;
  int rc;

  assert_non_null(buf);
  importer_opts_init(&o);
  assert_int_equal(importer_file_new(&f, &o, &p), 0);
  rc = importer_file_write(f, buf, 1 << 20);
  assert_int_equal(rc, -EIO);
  assert_int_equal(importer_file_write(f, buf, 1), -EIO);
  assert_int_equal(importer_file_finish(f, &cid, NULL, NULL), -EIO);
  importer_file_free(f);
  o.max_links = 1;
  assert_int_equal(importer_file_new(&f, &o, &p), CIPFS_EUSAGE);
  free(buf);
}

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif

/* 256 MiB through the importer: memory stays flat (the tree keeps only its
 * open path), and the importer writes every byte to a block exactly once. */
static void test_memory_bounded(void **state)
{
  struct rusage before, after;
  importer_opts_t o;
  sink_t sink = {0};
  cid_t cid;

  importer_opts_init(&o);
  o.chunk_size = 65536; /* more leaves, more tree */
  getrusage(RUSAGE_SELF, &before);
  import_stream(&o, 256ull << 20, &cid, &sink);
  getrusage(RUSAGE_SELF, &after);
  assert_int_equal(sink.nblocks, 4096 + 24 + 1);
#ifndef UNDER_ASAN
  /* 1 MiB write buffer + one chunk + a few nodes of links */
  assert_true(after.ru_maxrss - before.ru_maxrss < 16 * 1024);
#endif
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_known_kubo_cids),
      cmocka_unit_test(test_opts),
      cmocka_unit_test(test_vectors_kubo_defaults),
      cmocka_unit_test(test_vectors_deep_and_profile),
      cmocka_unit_test(test_hash_sha512),
      cmocka_unit_test(test_buzhash_cuts),
      cmocka_unit_test(test_buzhash_import),
      cmocka_unit_test(test_hamt_dir),
      cmocka_unit_test(test_hamt_threshold),
      cmocka_unit_test(test_hamt_threshold_block_bytes),
      cmocka_unit_test(test_dir_add_rules),
      cmocka_unit_test(test_add_path_tree),
      cmocka_unit_test(test_add_fd),
      cmocka_unit_test(test_put_errors),
      cmocka_unit_test(test_memory_bounded),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
