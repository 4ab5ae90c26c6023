#!/usr/bin/env bash
# `cipfs add` against an independent importer: ipfs-unixfs-importer set up
# like kubo (tests/interop/importer_ref.mjs) must produce the same CIDs for
# files around every chunk and node boundary, balanced and trickle, CIDv0
# and CIDv1, dag-pb and raw leaves, a nested tree with unicode names and
# symlinks, and a HAMT-sharded directory.
set -euo pipefail

bin=${CIPFS_BIN:?CIPFS_BIN not set}
tests=${CIPFS_TESTS_DIR:?CIPFS_TESTS_DIR not set}
# The peer is required: a missing node or importer is a failure, not a skip.
command -v node >/dev/null || { echo "FAIL: node not found" >&2; exit 1; }
[ -d "$tests/node_modules/ipfs-unixfs-importer" ] ||
  { echo "FAIL: ipfs-unixfs-importer not installed" >&2; exit 1; }
command -v openssl >/dev/null || { echo "FAIL: openssl not found" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export CIPFS_PATH=$tmp/repo
"$bin" init >/dev/null

fails=0
checks=0

# Deterministic bytes: the AES-128-CTR keystream of key 00..0f, zero IV
# (the same stream tests/core/test_importer.c uses).
gen() {
  # openssl dies of SIGPIPE once head has enough: not an error here.
  { openssl enc -aes-128-ctr -K 000102030405060708090a0b0c0d0e0f \
    -iv 00000000000000000000000000000000 -nosalt </dev/zero 2>/dev/null ||
    true; } | head -c "$1"
}

ref() {
  (cd "$tests" && node interop/importer_ref.mjs "$@")
}

# same LABEL OURS THEIRS
same() {
  checks=$((checks + 1))
  if [ "$2" != "$3" ] || [ -z "$2" ]; then
    echo "FAIL $1: cipfs '$2' js '$3'" >&2
    fails=$((fails + 1))
  else
    echo "ok   $1 $2"
  fi
}

# file_case LABEL PATH "cipfs flags" "js flags"
file_case() {
  local ours theirs
  # shellcheck disable=SC2086
  ours=$("$bin" add -Q --only-hash $3 "$2")
  # shellcheck disable=SC2086
  theirs=$(ref $4 "$2" | tail -n 1 | cut -d' ' -f1)
  same "$1" "$ours" "$theirs"
}

modes=(
  "default||"
  "cidv1|--cid-version 1|--cid-version 1"
  "raw-leaves|--raw-leaves|--raw-leaves"
  "trickle|--trickle|--trickle"
  "trickle-v1|--trickle --cid-version 1|--trickle --cid-version 1"
)

f=$tmp/file
chunk=262144
for size in 0 1 $((chunk - 1)) $chunk $((chunk + 1)) \
  $((174 * chunk - 1)) $((174 * chunk)) $((174 * chunk + 1)); do
  gen "$size" >"$f"
  for m in "${modes[@]}"; do
    IFS='|' read -r label ours theirs <<<"$m"
    file_case "file $size $label" "$f" "$ours" "$theirs"
  done
done

# Three levels of balanced tree (40 MiB in 1 KiB chunks) and a deep trickle.
gen $((40 * 1024 * 1024)) >"$f"
file_case "file 40MiB size-1024" "$f" "--chunker=size-1024" "--chunk 1024"
file_case "file 40MiB size-1024 trickle" "$f" \
  "--chunker=size-1024 --trickle" "--chunk 1024 --trickle"
rm -f "$f"

# A nested tree: unicode names, symlinks (one dangling), dot-files, an
# empty directory and a two-chunk file.
t=$tmp/tree
mkdir -p "$t/sub/deeper" "$t/ünïcødé 目录" "$t/.hid" "$t/emptydir"
printf 'a\n' >"$t/a.txt"
printf 'b\n' >"$t/sub/b"
printf 'x' >"$t/ünïcødé 目录/файл"
printf 'h' >"$t/.hid/h"
printf 'dot' >"$t/.dotfile"
printf 'Z' >"$t/Zed"
ln -s a.txt "$t/link"
ln -s /nonexistent/target "$t/sub/dangling"
gen $((chunk + 1)) >"$t/sub/deeper/big"

# tree_case LABEL DIR "cipfs flags" "js flags": every entry the JS importer
# reports must be reported by cipfs with the same CID (kubo also lists
# empty directories, which the JS importer does not).
tree_case() {
  local ours theirs missing
  # shellcheck disable=SC2086
  ours=$("$bin" add -r --only-hash $3 "$2" | sed -n 's/^added //p' | sed 's/ *$//' | sort)
  # shellcheck disable=SC2086
  theirs=$(ref $4 "$2" | sed 's/ *$//' | sort)
  missing=$(comm -13 <(echo "$ours") <(echo "$theirs"))
  checks=$((checks + 1))
  if [ -n "$missing" ] || [ -z "$theirs" ]; then
    echo "FAIL $1: entries differ; js has:" >&2
    echo "$missing" >&2
    fails=$((fails + 1))
  else
    echo "ok   $1 ($(echo "$theirs" | wc -l) entries)"
  fi
  # The root: the last line kubo prints.
  # shellcheck disable=SC2086
  same "$1 root" "$("$bin" add -r -Q --only-hash $3 "$2")" \
    "$(ref $4 "$2" | tail -n 1 | cut -d' ' -f1)"
}

tree_case "tree" "$t" "" ""
tree_case "tree hidden" "$t" "-H" "--hidden"
tree_case "tree wrapped" "$t" "-w" "--wrap"
tree_case "tree cidv1" "$t" "--cid-version 1" "--cid-version 1"
tree_case "tree trickle" "$t" "--trickle" "--trickle"

# Stored for real (not only hashed): the same root.
same "tree stored" "$("$bin" add -r -Q "$t")" \
  "$(ref "$t" | tail -n 1 | cut -d' ' -f1)"

# Past 256 KiB of links (name + CID bytes): a HAMT shard.
h=$tmp/big-dir
mkdir "$h"
for i in $(seq 1 5000); do printf '%d' "$i" >"$h/file-with-a-longish-name-$i"; done
same "hamt dir" "$("$bin" add -r -Q --only-hash "$h")" \
  "$(ref "$h" | tail -n 1 | cut -d' ' -f1)"
same "hamt dir cidv1" "$("$bin" add -r -Q --only-hash --cid-version 1 "$h")" \
  "$(ref --cid-version 1 "$h" | tail -n 1 | cut -d' ' -f1)"
# kubo's largest fanout: 10 bits of hash a level, three-digit prefixes.
"$bin" config --json Import.UnixFSHAMTDirectoryMaxFanout 1024
same "hamt dir fanout 1024" "$("$bin" add -r -Q --only-hash "$h")" \
  "$(ref --fanout-bits 10 "$h" | tail -n 1 | cut -d' ' -f1)"
"$bin" config --json Import.UnixFSHAMTDirectoryMaxFanout 256

# stdin
same "stdin" "$(printf 'hello world\n' | "$bin" add -Q --only-hash)" \
  "QmT78zSuBmuS4z925WZfrqQ1qHaJ56DQaTfyMUF7F8ff5o"

echo "$checks checks, $fails failed"
[ "$fails" -eq 0 ]
