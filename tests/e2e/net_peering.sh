#!/usr/bin/env bash
# Peering.Peers: a daemon keeps dialling its configured peers, so it
# connects to one that starts after it (and again after a restart).
# Addresses.Announce/NoAnnounce: what identify and `id` tell others.
. "$(dirname "$0")/lib/cli_common.bash"

A=$T/a
B=$T/b

# B connected to A, as A sees it, within $1 seconds.
wait_peered() {
  for _ in $(seq 1 $(($1 * 10))); do
    if CIPFS_PATH=$A "$BIN" swarm peers 2>/dev/null | grep -q "/p2p/$idB$"; then
      return 0
    fi
    sleep 0.1
  done
  return 1
}

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
CIPFS_PATH=$A "$BIN" init >/dev/null
CIPFS_PATH=$A "$BIN" config --json Addresses.Swarm "[\"/ip4/127.0.0.1/tcp/$port\"]"
CIPFS_PATH=$B "$BIN" init >/dev/null
CIPFS_PATH=$B "$BIN" config --json Addresses.Swarm '["/ip4/127.0.0.1/tcp/0"]'
idA=$(CIPFS_PATH=$A "$BIN" config Identity.PeerID)
idB=$(CIPFS_PATH=$B "$BIN" config Identity.PeerID)
CIPFS_PATH=$B "$BIN" config --json Peering.Peers \
  "[{\"ID\":\"$idA\",\"Addrs\":[\"/ip4/127.0.0.1/tcp/$port\"]}]"
# A tells peers a name, not its loopback address (Announce/NoAnnounce).
CIPFS_PATH=$A "$BIN" config --json Addresses.Announce \
  "[\"/dns4/a.example.net/tcp/$port\",\"/ip4/127.0.0.1/tcp/$port\"]"
CIPFS_PATH=$A "$BIN" config --json Addresses.NoAnnounce "[\"/ip4/127.0.0.1/tcp/$port\"]"
expect_fail 1 "Peering.Peers" env CIPFS_PATH="$B" "$BIN" config --json Peering.Peers '[{"ID":"nope"}]'

# B first: A is not there yet, so B's first round fails; a later one
# (every 10 s) finds A.
start_daemon "$B" "$T/b.log"
pidB=$daemon_pid
sleep 1
start_daemon "$A" "$T/a.log"
pidA=$daemon_pid
wait_peered 15 || fail "B did not connect to A after A started"

# What A announces, as A and B see it; A still listens on loopback.
CIPFS_PATH=$A "$BIN" id >"$T/idA.json"
grep -q "\"/dns4/a.example.net/tcp/$port/p2p/$idA\"" "$T/idA.json" || fail "A's id: $(cat "$T/idA.json")"
if grep -q '/ip4/127.0.0.1' "$T/idA.json"; then fail "A announces a NoAnnounce address"; fi
expect_eq "A's listen address" "$(CIPFS_PATH=$A "$BIN" swarm addrs listen)" "/ip4/127.0.0.1/tcp/$port"
ok=0
for _ in $(seq 1 50); do
  if CIPFS_PATH=$B "$BIN" id "$idA" 2>/dev/null | grep -q "\"/dns4/a.example.net/tcp/$port/p2p/$idA\""; then
    ok=1
    break
  fi
  sleep 0.1
done
[ $ok = 1 ] || fail "B's view of A: $(CIPFS_PATH=$B "$BIN" id "$idA")"

# A restarts on the same port: B comes back (at its configured address,
# not the announced name, which does not resolve).
stop_daemon "$pidA" TERM
start_daemon "$A" "$T/a2.log"
pidA=$daemon_pid
wait_peered 15 || fail "B did not reconnect to A after A restarted"
CIPFS_PATH=$B "$BIN" ping -n 1 "$idA" | grep -q '^Pong received' || fail "ping B->A"

stop_daemon "$pidA" TERM
stop_daemon "$pidB" TERM
daemon_pids=()
if grep -q 'AddressSanitizer\|runtime error' "$T"/*.log; then
  fail "sanitizer report: $(cat "$T"/*.log)"
fi
echo "net_peering: ok"
