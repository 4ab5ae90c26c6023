#ifndef CIPFS_HAMT_H
#define CIPFS_HAMT_H

#include <stddef.h>
#include <stdint.h>

/* Shared by the HAMT reader (exporter) and writer (importer). */

#define HAMT_HASH_MURMUR3 0x22
#define HAMT_DEFAULT_FANOUT 256
/* The spec's and kubo's largest fanout (10 hash bits a level). */
#define HAMT_MAX_FANOUT 1024

/* murmur3 x64_128 with seed 0; the first 64-bit half (h1), which boxo
 * writes big-endian and reads bucket bits from MSB first. */
uint64_t hamt_hash(const uint8_t *key, size_t len);
/* Bucket index of a name at depth d for a fanout of 2^bits (bits <= 10,
 * the spec's largest fanout being 1024):
 * bits [d*bits, (d+1)*bits) of the big-endian h1, MSB first. Returns -1
 * once the 64 hash bits are used up. */
int hamt_index(uint64_t h1, unsigned depth, unsigned bits);

#endif
