#!/usr/bin/env bash
# Bitswap figures:
#   1. a SIZE_MB (256) MiB file on node A read through node B's mount over
#      loopback (cat > /dev/null), MB/s, beside Helia -> Helia for the same
#      file in the same run (ratio);
#   2. time to first byte of a remote TTFB_MB (1024) MiB file through the
#      mount;
#   3. the same MULTI_MB (128) MiB file held by 4 peers vs by 1: on
#      loopback, and with each peer in its own network namespace behind a
#      link of LINK_RATE (800mbit, tc tbf) to the reader.
# The reader's side is cold every time (its mount never read the file and
# its caches are dropped); the senders' blocks are in their page cache, as
# on a peer serving content it holds (dropping those too would make this
# VM's one disk, shared by every sender, the thing measured).
# Usage: scripts/bench-bitswap.sh [build-dir]   (default: build/)   (root)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$here/build}
export CIPFS_BIN=$build/cipfs
CIPFS_TESTS_DIR=$here/tests
SIZE_MB=${SIZE_MB:-256}
TTFB_MB=${TTFB_MB:-1024}
MULTI_MB=${MULTI_MB:-128}
LINK_RATE=${LINK_RATE:-800mbit}
. "$here/tests/e2e/bitswap_lib.bash"

now_ns() { date +%s%N; }
mbps() { python3 -c "print('%.1f' % ($1 / 1048576 / ($2 / 1e9)))"; }

# Time cat of $1 to /dev/null (ns) with the reader's caches dropped; the
# repos after it are read back into the page cache first (the senders').
time_cat() {
  local f=$1 t0 t1
  shift
  sync
  echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true
  for r in "$@"; do cat "$r"/blocks/* >/dev/null 2>&1 || true; done
  t0=$(now_ns)
  cat "$f" >/dev/null
  t1=$(now_ns)
  echo $((t1 - t0))
}

# --- 1: throughput, cipfs vs Helia ----------------------------------------
make_file "$T/big.bin" $((SIZE_MB * 1048576))
node_init a
node_init b
node_start a
node_peer b a "$(node_addr a)"
node_start b
cid=$(ncipfs a add -Q "$T/big.bin")
ns=$(time_cat "$(node_mnt b)/$cid" "$T/a/repo")
c_mbps=$(mbps $((SIZE_MB * 1048576)) "$ns")
cmp "$T/big.bin" "$(node_mnt b)/$cid" || fail "bytes differ"

mkfifo "$T/h.in"
(cd "$CIPFS_TESTS_DIR" && node interop/bitswap_helia.mjs serve "$T/big.bin") \
  <"$T/h.in" >"$T/h.out" 2>"$T/h.err" &
hpid=$!
exec 3>"$T/h.in"
for _ in $(seq 600); do [ -s "$T/h.out" ] && break; sleep 0.1; done
read -r hcid haddr < <(python3 -c '
import json, sys
d = json.loads(open(sys.argv[1]).readline()); print(d["cid"], d["addr"])' \
  "$T/h.out")
hms=$(cd "$CIPFS_TESTS_DIR" &&
  node interop/bitswap_helia.mjs fetch "$hcid" /dev/null "$haddr" |
  python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["ms"])')
exec 3>&-
wait "$hpid" || true
h_mbps=$(mbps $((SIZE_MB * 1048576)) $((hms * 1000000)))
ratio=$(python3 -c "print('%.1f' % ($c_mbps / $h_mbps))")
echo "throughput ${SIZE_MB} MiB: cipfs->cipfs $c_mbps MB/s, helia->helia $h_mbps MB/s, ratio ${ratio}x"

# --- 2: time to first byte ---------------------------------------------
rm -f "$T/big.bin"
head -c $((TTFB_MB * 1048576)) /dev/urandom | ncipfs a add -Q >"$T/huge.cid"
huge=$(cat "$T/huge.cid")
# First byte at the start, then at another place (a different path down
# the DAG), both never read before.
ttfb=$(python3 -c '
import os, sys, time
size = int(sys.argv[2])
out = []
for off in (0, size // 2 + 12345):
    t0 = time.perf_counter()
    fd = os.open(sys.argv[1], os.O_RDONLY)
    assert len(os.pread(fd, 1, off)) == 1
    out.append("%.1f" % ((time.perf_counter() - t0) * 1000))
    os.close(fd)
print(" / ".join(out))' "$(node_mnt b)/$huge" $((TTFB_MB * 1048576)))
echo "time to first byte of a remote ${TTFB_MB} MiB file (offset 0 / middle): $ttfb ms"
node_stop b
node_stop a

# --- 3: 4 peers vs 1 --------------------------------------------------------
make_file "$T/multi.bin" $((MULTI_MB * 1048576))
multi_run() { # label reader1 reader4 sender-repos...
  local label=$1 r1=$2 r4=$3 n1 n4
  shift 3
  n1=$(time_cat "$(node_mnt "$r1")/$mcid" "$@")
  n4=$(time_cat "$(node_mnt "$r4")/$mcid" "$@")
  cmp -s "$T/multi.bin" "$(node_mnt "$r4")/$mcid" || fail "bytes differ ($label)"
  echo "${MULTI_MB} MiB $label: 1 peer $(mbps $((MULTI_MB * 1048576)) "$n1") MB/s," \
    "4 peers $(mbps $((MULTI_MB * 1048576)) "$n4") MB/s," \
    "ratio $(python3 -c "print('%.2f' % ($n1 / $n4))")x"
  ncipfs "$r4" bitswap stat | grep -E 'blocks received|dup blocks' |
    sed "s/^/  $r4 /"
}

# a) loopback: every node on 127.0.0.1, no link limits.
for n in p1 p2 p3 p4; do
  node_init $n
  node_start $n
  mcid=$(ncipfs $n add -Q "$T/multi.bin")
done
node_init r1
node_init r4
node_peer r1 p1 "$(node_addr p1)"
for n in p1 p2 p3 p4; do node_peer r4 $n "$(node_addr $n)"; done
node_start r1
node_start r4
sleep 2 # let peering connect everyone
multi_run "on loopback" r1 r4 "$T"/p?/repo
for n in r1 r4 p1 p2 p3 p4; do node_stop $n; done

# b) each peer in its own namespace, behind a veth link to the reader whose
# sending side is limited to LINK_RATE: what separate machines would be.
if [ "$(id -u)" != 0 ] || ! command -v tc >/dev/null; then
  echo "${MULTI_MB} MiB over $LINK_RATE links: skipped (needs root and tc)"
  exit 0
fi
tag=$$
net=10.$((100 + tag % 100))
NETNS=()
QPIDS=()
netns_cleanup() {
  for ns in "${NETNS[@]+"${NETNS[@]}"}"; do
    ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
  done
}
trap 'netns_cleanup; cleanup' EXIT
node_init s1
node_init s4
for i in 1 2 3 4; do
  ns=cipfs_bs${i}_$tag dev=cbs$i$tag repo=$T/q$i/repo
  NETNS+=("$ns")
  ip netns add "$ns"
  ip link add "${dev}r" type veth peer name "${dev}p" netns "$ns"
  ip addr add "$net.$i.1/24" dev "${dev}r"
  ip link set "${dev}r" up
  ip -n "$ns" addr add "$net.$i.2/24" dev "${dev}p"
  ip -n "$ns" link set "${dev}p" up
  ip -n "$ns" link set lo up
  ip netns exec "$ns" tc qdisc add dev "${dev}p" root tbf rate "$LINK_RATE" \
    burst 1mb latency 20ms
  mkdir -p "$T/q$i"
  CIPFS_PATH=$repo "$CIPFS_BIN" init >/dev/null
  CIPFS_PATH=$repo "$CIPFS_BIN" config --json Addresses.Swarm \
    "[\"/ip4/$net.$i.2/tcp/4001\"]" || fail "config q$i"
  mcid=$(CIPFS_PATH=$repo "$CIPFS_BIN" add -Q "$T/multi.bin")
  id=$(CIPFS_PATH=$repo "$CIPFS_BIN" config Identity.PeerID)
  ip netns exec "$ns" env CIPFS_PATH="$repo" "$CIPFS_BIN" daemon \
    >"$T/q$i/log" 2>&1 &
  QPIDS+=($!)
  [ "$i" = 1 ] && node_peer s1 q$i "/ip4/$net.$i.2/tcp/4001/p2p/$id"
  node_peer s4 q$i "/ip4/$net.$i.2/tcp/4001/p2p/$id"
done
for i in 1 2 3 4; do
  for _ in $(seq 100); do
    grep -q '^Daemon is ready$' "$T/q$i/log" && break
    sleep 0.1
  done
  grep -q '^Daemon is ready$' "$T/q$i/log" || fail "daemon q$i: $(cat "$T/q$i/log")"
done
node_start s1
node_start s4
sleep 2
multi_run "over $LINK_RATE links" s1 s4 "$T"/q?/repo
for n in s1 s4; do node_stop $n; done
kill -TERM "${QPIDS[@]}"
wait "${QPIDS[@]}" || fail "a sender daemon exited badly"
