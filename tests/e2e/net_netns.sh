#!/usr/bin/env bash
# Two daemons in two network namespaces joined by a veth pair: swarm
# connect and ping across them, over addresses that exist only there.
# Needs root (ip netns); skips otherwise.
. "$(dirname "$0")/lib/cli_common.bash"

[ "$(id -u)" = 0 ] || { echo "skip: needs root for ip netns"; exit 77; }
command -v ip >/dev/null || { echo "skip: no ip(8)"; exit 77; }

tag=$$
nsA=cipfs_a_$tag
nsB=cipfs_b_$tag
# 10.x addresses live only inside our namespaces; the third byte varies
# with the PID so two runs at once do not even look alike.
net=10.77.$((tag % 250))
ipA=$net.1
ipB=$net.2
cleanup_hooks+=('ip netns del "$nsA" 2>/dev/null')
cleanup_hooks+=('ip netns del "$nsB" 2>/dev/null')

if ! ip netns add "$nsA" 2>"$T/ns.err"; then
  echo "skip: cannot create a network namespace: $(cat "$T/ns.err")"
  exit 77
fi
ip netns add "$nsB"
ip link add "cva$tag" netns "$nsA" type veth peer name "cvb$tag" netns "$nsB"
ip -n "$nsA" addr add "$ipA/24" dev "cva$tag"
ip -n "$nsB" addr add "$ipB/24" dev "cvb$tag"
for ns in "$nsA" "$nsB"; do
  ip -n "$ns" link set lo up
done
ip -n "$nsA" link set "cva$tag" up
ip -n "$nsB" link set "cvb$tag" up

in_ns() { # ns repo cmd...
  local ns=$1 repo=$2
  shift 2
  ip netns exec "$ns" env CIPFS_PATH="$repo" "$BIN" "$@"
}

mkrepo() { # repo listen
  CIPFS_PATH=$1 "$BIN" init >/dev/null
  CIPFS_PATH=$1 "$BIN" config --json Addresses.Swarm "[\"$2\"]"
}

A=$T/a
B=$T/b
mkrepo "$A" "/ip4/$ipA/tcp/4001"
mkrepo "$B" "/ip4/$ipB/tcp/4001"
idA=$(CIPFS_PATH=$A "$BIN" config Identity.PeerID)
idB=$(CIPFS_PATH=$B "$BIN" config Identity.PeerID)
start_daemon "$A" "$T/a.log" "$nsA"
start_daemon "$B" "$T/b.log" "$nsB"
grep -qx "Swarm listening on /ip4/$ipB/tcp/4001/p2p/$idB" "$T/b.log" ||
  fail "B's listen line: $(cat "$T/b.log")"

# The namespaces are their own world: the host has no address in $net and
# A has no route but the veth, so what follows can only cross the veth.
if ip -4 -o addr show | grep -q " $net\."; then
  fail "the host has an address in $net"
fi
if ip -n "$nsA" route | grep -q '^default'; then
  fail "namespace A has a default route"
fi

out=$(in_ns "$nsA" "$A" swarm connect "/ip4/$ipB/tcp/4001/p2p/$idB")
expect_eq "connect across namespaces" "$out" "connect $idB success"
in_ns "$nsA" "$A" ping -n 3 "$idB" >"$T/ping"
[ "$(grep -c '^Pong received' "$T/ping")" = 3 ] || fail "ping A->B: $(cat "$T/ping")"
# B sees A at A's namespace address, and pings back.
ok=0
for _ in $(seq 1 50); do
  if in_ns "$nsB" "$B" swarm peers | grep -q "^/ip4/$ipA/tcp/[0-9]*/p2p/$idA$"; then
    ok=1
    break
  fi
  sleep 0.1
done
[ $ok = 1 ] || fail "B's peers: $(in_ns "$nsB" "$B" swarm peers)"
in_ns "$nsB" "$B" ping -n 1 "$idA" | grep -q '^Pong received' || fail "ping B->A"

# Identify across: A learnt B's listen address in B's namespace.
in_ns "$nsA" "$A" id "$idB" | grep -q "\"/ip4/$ipB/tcp/4001/p2p/$idB\"" ||
  fail "identify of B: $(in_ns "$nsA" "$A" id "$idB")"

for p in "${daemon_pids[@]}"; do stop_daemon "$p" TERM; done
daemon_pids=()
if grep -q 'AddressSanitizer\|runtime error' "$T/a.log" "$T/b.log"; then
  fail "sanitizer report: $(cat "$T/a.log" "$T/b.log")"
fi
echo "net_netns: ok"
