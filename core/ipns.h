#ifndef CIPFS_IPNS_H
#define CIPFS_IPNS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "key.h"

/*
 * IPNS records (ipfs/specs, IPNS Record): the IpnsEntry protobuf whose
 * DAG-CBOR `data` is signed with the name's key ("signatureV2"). A name is
 * the multihash of its public key, as a peer ID is; the DHT keeps records
 * under "/ipns/" + those bytes.
 */
#define IPNS_RECORD_MAX (10 * 1024)

typedef struct ipns_record_s {
  const uint8_t *value; /* the signed Value, pointing into the record */
  size_t value_len;
  uint64_t sequence;
  uint64_t ttl_ns;
  int64_t eol_s; /* Validity (EOL), seconds since the epoch, UTC */
  uint32_t eol_ns;
} ipns_record_t;

/* Verify a serialized record for a name as the spec's Record Verification
 * says: size, V2 signature by the name's key (the embedded pubKey must be
 * the name's), legacy V1 fields equal to the signed ones, EOL after now_s.
 * out (may be NULL) then describes it. CIPFS_ETOOBIG, CIPFS_EPB,
 * CIPFS_EIPLD, CIPFS_EIPNS, CIPFS_ESIG, CIPFS_EUNSUPPORTED (key type or
 * validity type) or CIPFS_EEXPIRED. */
int ipns_record_check(const uint8_t *name, size_t name_len, const uint8_t *rec,
                      size_t len, int64_t now_s, ipns_record_t *out);

/* Which of two valid records for one name wins: > 0 a, < 0 b, 0 equal.
 * The higher sequence, then the later EOL. */
int ipns_record_cmp(const ipns_record_t *a, const ipns_record_t *b);

/* A record for k's name (V2 with the V1 copies, no V1 signature), appended
 * to out. value is a path such as "/ipfs/<cid>". */
int ipns_record_make(const key_pair_t *k, const char *value, uint64_t sequence,
                     int64_t eol_s, uint64_t ttl_ns, buf_t *out);

#endif
