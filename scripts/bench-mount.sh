#!/usr/bin/env bash
# Mount benchmarks (not a test). Usage: scripts/bench-mount.sh [builddir]
#  - 1 GiB sequential read through the mount, cold kernel cache, against
#    `cipfs cat` and against reading the original file
#  - `ls -l` of a 10,000-entry sharded directory, cold, against the tree
#    on disk
#  - copy-in of 1 GiB against `cipfs add` of the same file just before
#  - RSS of the idle mounted node
# Needs root (drop_caches). Uses about 4.5 GiB under $TMPDIR (default /var/tmp).
# BENCH_MIB=256 uses smaller files for quick runs (default 1024).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
bin=${CIPFS_BIN:-${1:-$here/build}/cipfs}
[ -x "$bin" ] || { echo "no cipfs binary at $bin (build first)" >&2; exit 1; }
T=$(mktemp -d "${TMPDIR:-/var/tmp}/cipfs-bench.XXXXXX")
export CIPFS_PATH=$T/repo
MNT=$T/mnt
pid=
mkdir -p "$MNT"
cleanup() {
  [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null || true
  grep -qs " $MNT " /proc/mounts && fusermount3 -u -z "$MNT" 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT

drop() { sync; echo 3 >/proc/sys/vm/drop_caches; }
now() { date +%s.%N; }
# label, bytes, seconds
rate() { awk -v l="$1" -v b="$2" -v s="$3" \
  'BEGIN { printf "%-44s %8.2f s  %8.0f MB/s\n", l, s, b / s / 1e6 }'; }
took() { awk -v l="$1" -v s="$2" 'BEGIN { printf "%-44s %8.3f s\n", l, s }'; }
timeit() { local t0; t0=$(now); "$@" >/dev/null; awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }'; }
mount_node() {
  "$bin" mount "$MNT" >>"$T/node.log" 2>&1 &
  pid=$!
  for _ in $(seq 100); do grep -qs " $MNT fuse" /proc/mounts && break; sleep 0.1; done
  stat "$MNT" >/dev/null
}
# Wait (60 s at most) until the node has used no CPU for 4 s in a row:
# after a large import LevelDB compacts in the background for a while.
wait_idle() {
  local last=-1 quiet=0 cpu
  for _ in $(seq 60); do
    cpu=$(awk '{ print $14 + $15 }' "/proc/$pid/stat")
    if [ "$cpu" = "$last" ]; then quiet=$((quiet + 1)); else quiet=0; fi
    [ "$quiet" -ge 4 ] && return 0
    last=$cpu
    sleep 1
  done
}
umount_node() {
  kill -TERM "$pid"
  for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" || true
  pid=
}

mib=${BENCH_MIB:-1024}
size=$((mib * 1024 * 1024))
sz="$mib MiB"
"$bin" init >/dev/null
echo "preparing data..." >&2
head -c $size /dev/urandom >"$T/big.bin"
head -c $size /dev/urandom >"$T/big2.bin"
mkdir "$T/shard"
(cd "$T/shard" && for i in $(seq -w 1 10000); do echo "entry $i" >"file-$i.txt"; done)

echo "== cipfs $(cd "$here" && git rev-parse --short HEAD 2>/dev/null || echo '?'), $(nproc) cores"
drop
s_add=$(timeit "$bin" add -Q "$T/big.bin")
rate "cipfs add $sz" $size "$s_add"
cid=$("$bin" add -Q "$T/big.bin")
shard=$("$bin" add -r -Q "$T/shard")
drop
s_cat=$(timeit "$bin" cat "$cid")
rate "cipfs cat $sz (cold)" $size "$s_cat"
drop
s_orig=$(timeit cat "$T/big.bin")
rate "cat original file $sz (cold)" $size "$s_orig"

mount_node
wait_idle # the node gives memory back after 3 s without work
rss0=$(ps -o rss= -p "$pid")
echo "idle RSS after mount: $rss0 KiB"
drop
s_mnt=$(timeit cat "$MNT/$cid")
rate "cat through the mount $sz (cold)" $size "$s_mnt"
s=$(timeit cat "$MNT/$cid")
rate "cat through the mount $sz (page cache)" $size "$s"
drop
s_lsm=$(timeit ls -l "$MNT/$shard")
took "ls -l 10,000-entry HAMT dir (cold mount)" "$s_lsm"
s=$(timeit ls -l "$MNT/$shard")
took "ls -l 10,000-entry HAMT dir (warm)" "$s"
drop
s_lsd=$(timeit ls -l "$T/shard")
took "ls -l 10,000-entry dir on disk (cold)" "$s_lsd"
# The reference for copy-in is `cipfs add` of the same file just before it
# (into a scratch repo), after the same cache drop: on this VM the cost of
# writing into memory the page cache has not used lately grows as a run
# goes on, so the add at the start would flatter the ratio.
"$bin" --repo "$T/repo2" init >/dev/null
drop
s_add2=$(timeit "$bin" --repo "$T/repo2" add -Q "$T/big2.bin")
rate "cipfs add $sz (reference for copy-in)" $size "$s_add2"
rm -rf "$T/repo2"
drop
s_cp=$(timeit cp "$T/big2.bin" "$MNT/big2.bin")
rate "cp $sz into the mount (publish)" $size "$s_cp"
wait_idle
rss1=$(ps -o rss= -p "$pid")
echo "idle RSS after the workload: $rss1 KiB"
same=no
[ "$(getfattr --only-values -n user.ipfs.cid "$MNT/big2.bin")" = \
  "$("$bin" add -Q --only-hash "$T/big2.bin")" ] && same=yes
umount_node
echo "== summary"
awk -v m="$s_mnt" -v c="$s_cat" -v o="$s_orig" -v size=$size -v lm="$s_lsm" \
  -v ld="$s_lsd" -v cp="$s_cp" -v add="$s_add2" -v r0="$rss0" -v r1="$rss1" \
  -v same="$same" -v sz="$sz" 'BEGIN {
  printf "mount read: %.0f MB/s = %.2fx cipfs cat, %.2fx the original file\n",
    size / m / 1e6, c / m, o / m
  printf "ls -l 10,000-entry HAMT dir: %.3f s (disk %.3f s, %.1fx)\n",
    lm, ld, lm / ld
  printf "copy-in %s: %.2fx cipfs add (limit 2.5x), same CID as add: %s\n",
    sz, cp / add, same
  printf "idle RSS: %.1f MiB after mount, %.1f MiB after the workload\n",
    r0 / 1024, r1 / 1024
}'
