/* libFuzzer target: IPNS records as the DHT receives them. The first byte
 * picks how much of the input is the name; the rest is the record. Nothing
 * random can carry a valid signature, so every input must be refused. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "ipns.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  /* An Ed25519 identity name: its key is inlined, so the record reaches
   * the signature check. */
  static const uint8_t ed_name[38] = {0x00, 0x24, 0x08, 0x01, 0x12, 0x20};
  ipns_record_t r;
  size_t nlen;

  if (size == 0)
    return 0;
  nlen = data[0] % 48;
  if (nlen == 0) {
    if (ipns_record_check(ed_name, sizeof(ed_name), data + 1, size - 1, 0,
                          &r) == 0)
      abort();
    return 0;
  }
  if (nlen > size - 1)
    return 0;
  if (ipns_record_check(data + 1, nlen, data + 1 + nlen, size - 1 - nlen, 0,
                        &r) == 0)
    abort();
  return 0;
}
