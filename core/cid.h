#ifndef CIPFS_CID_H
#define CIPFS_CID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mbase.h"

/* Codecs (multicodec table). */
#define CID_CODEC_RAW 0x55
#define CID_CODEC_DAG_PB 0x70
#define CID_CODEC_DAG_CBOR 0x71
#define CID_CODEC_LIBP2P_KEY 0x72
#define CID_CODEC_DAG_JSON 0x0129

/* version varint + codec varint + multihash */
#define CID_MAX_LEN (2 * 9 + 2 * 9 + 128)
/* Longest text form in any supported base, NUL included: base16 of
 * CID_MAX_LEN bytes plus prefix and NUL (329), rounded up. */
#define CID_MAX_STR 336

/*
 * A CID as a plain value: no heap, copy with '=', compare with cid_equal().
 * bytes[] always holds the binary form (for v0 that is the bare multihash).
 */
typedef struct cid_s {
  uint8_t bytes[CID_MAX_LEN];
  uint16_t len;
  uint8_t version; /* 0 or 1 */
  uint16_t mh_off; /* where the multihash starts in bytes[] */
  uint16_t digest_off;
  uint16_t digest_len;
  uint64_t codec;
  uint64_t mh_code;
} cid_t;

/* Binary CID occupying exactly buf[0..len). CIPFS_ECID when malformed
 * (including digests outside 20..128 bytes, as boxo's verifcid). */
int cid_decode(cid_t *cid, const uint8_t *buf, size_t len);
/* Binary CID at the start of buf (CAR sections); returns bytes consumed. */
ssize_t cid_decode_prefix(cid_t *cid, const uint8_t *buf, size_t len);
/* Text form: "Qm..." (v0) or any supported multibase (v1). */
int cid_parse(cid_t *cid, const char *str);
int cid_parse_n(cid_t *cid, const char *str, size_t len);
/* Text form into out (CID_MAX_STR is always enough). base 0 means the
 * default: base58btc bare for v0, base32 for v1. v0 can only be written in
 * base58btc (else CIPFS_EMBASE). Returns strlen or negative. */
ssize_t cid_format(const cid_t *cid, mbase_t base, char *out, size_t outcap);
/* Convenience for logs and messages: formats into a caller buffer of
 * CID_MAX_STR bytes and returns it ("<invalid>" on failure). */
const char *cid_str(const cid_t *cid, char *out);
/* Build a CID from its parts. v0 requires dag-pb + sha2-256. */
int cid_make(cid_t *cid, int version, uint64_t codec, const uint8_t *mh,
             size_t mh_len);
/* Hash data and build the CID. */
int cid_sum(cid_t *cid, int version, uint64_t codec, uint64_t mh_code,
            const uint8_t *data, size_t len);
/* Re-hash data with the CID's own hash function: 0 or CIPFS_ECORRUPT. */
int cid_verify(const cid_t *cid, const uint8_t *data, size_t len);
int cid_to_v1(cid_t *dst, const cid_t *src);
/* CIPFS_ECID unless dag-pb + sha2-256 with a 32-byte digest. */
int cid_to_v0(cid_t *dst, const cid_t *src);
bool cid_equal(const cid_t *a, const cid_t *b);
/* The multihash inside the CID. */
const uint8_t *cid_mh(const cid_t *cid, size_t *len);
const char *cid_codec_name(uint64_t codec);
int cid_codec_from_name(const char *name, uint64_t *codec);

/* A growable array of CIDs; the owner frees v. */
typedef struct cid_list_s {
  cid_t *v;
  size_t n, cap;
} cid_list_t;
/* Append to the cid_list_t arg: shaped for walk and listing callbacks. */
int cid_list_push(void *arg, const cid_t *cid);

#endif
