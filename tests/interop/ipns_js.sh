#!/usr/bin/env bash
# IPNS record checks against records made by independent code
# (tests/interop/ipns_records.mjs: @libp2p/crypto keys and signatures,
# @ipld/dag-cbor data): valid V2, V1+V2, extended and RSA records pass;
# a differing V1 copy, a broken signature, an expired record, a missing or
# foreign key are refused.
set -euo pipefail
tests=${CIPFS_TESTS_DIR:?CIPFS_TESTS_DIR not set}
build=${CIPFS_BUILD_DIR:?CIPFS_BUILD_DIR not set}
check=$build/tools/ipns_check
command -v node >/dev/null || { echo "FAIL: node not found" >&2; exit 1; }
for m in @libp2p/crypto @libp2p/peer-id @ipld/dag-cbor; do
  [ -d "$tests/node_modules/$m" ] || { echo "FAIL: $m not installed" >&2; exit 1; }
done
[ -x "$check" ] || { echo "FAIL: $check not built" >&2; exit 1; }

out=$(cd "$tests" && node interop/ipns_records.mjs)
fails=0
count=0
while read -r want name rec what; do
  count=$((count + 1))
  got=ok
  verdict=$("$check" "$name" "$rec") || got=bad
  if [ "$got" != "$want" ]; then
    echo "FAIL: $what: want $want, got $got ($verdict)" >&2
    fails=$((fails + 1))
  else
    echo "ok: $what: $verdict"
  fi
done <<<"$out"
[ "$count" -eq 11 ] || { echo "FAIL: $count records, want 11" >&2; exit 1; }
[ "$fails" -eq 0 ] || exit 1
echo "ipns_js: ok"
