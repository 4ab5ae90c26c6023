#!/usr/bin/env bash
# Two `cipfs daemon` processes on 127.0.0.1 with their own repos: id,
# swarm connect/peers, ping both ways, refusals of bad input, clean exit.
. "$(dirname "$0")/lib/cli_common.bash"

A=$T/a
B=$T/b

mkrepo() { # path
  CIPFS_PATH=$1 "$BIN" init >/dev/null
  CIPFS_PATH=$1 "$BIN" config --json Addresses.Swarm '["/ip4/127.0.0.1/tcp/0"]'
}

no_sanitizer() { # log
  if grep -q 'AddressSanitizer\|runtime error\|LeakSanitizer' "$1"; then
    fail "sanitizer report in $1: $(cat "$1")"
  fi
}

mkrepo "$A"
mkrepo "$B"
idA=$(CIPFS_PATH=$A "$BIN" config Identity.PeerID)
idB=$(CIPFS_PATH=$B "$BIN" config Identity.PeerID)

# Without a node: id works from the repo key; network commands refuse.
CIPFS_PATH=$A "$BIN" id >"$T/id_off.json"
grep -q "\"ID\": *\"$idA\"" "$T/id_off.json" || fail "offline id: $(cat "$T/id_off.json")"
grep -q '"PublicKey": *"CAESI' "$T/id_off.json" || fail "offline public key"
export CIPFS_PATH=$A
expect_fail 1 "no running node" "$BIN" swarm peers
expect_fail 1 "no running node" "$BIN" ping -n 1 "$idB"

start_daemon "$A" "$T/a.log"
pidA=$daemon_pid
start_daemon "$B" "$T/b.log"
pidB=$daemon_pid
addrB=$(sed -n 's/^Swarm listening on //p' "$T/b.log" | head -1)
[[ $addrB == /ip4/127.0.0.1/tcp/*/p2p/$idB ]] || fail "B listens on '$addrB'"

# A second daemon on a repo in use refuses.
expect_fail 1 "in use" "$BIN" daemon

# id through the running node: addresses and protocols.
"$BIN" id >"$T/idA.json"
grep -q "\"/ip4/127.0.0.1/tcp/[0-9]*/p2p/$idA\"" "$T/idA.json" || fail "id addresses: $(cat "$T/idA.json")"
grep -q '"/ipfs/ping/1.0.0"' "$T/idA.json" || fail "id protocols"
grep -q '"/ipfs/id/1.0.0"' "$T/idA.json" || fail "id protocols"
grep -q '"AgentVersion": *"cipfs/' "$T/idA.json" || fail "agent version"
"$BIN" swarm addrs listen | grep -qx '/ip4/127.0.0.1/tcp/[0-9]*' || fail "swarm addrs listen"

# Connect A -> B, first by name; both see each other.
portB=$(echo "$addrB" | cut -d/ -f5)
expect_fail 1 "the name does not resolve" "$BIN" swarm connect "/dns4/no-such-host.invalid/tcp/$portB/p2p/$idB"
expect_fail 1 "only TCP addresses" "$BIN" swarm connect "/ip4/127.0.0.1/udp/$portB/quic-v1/p2p/$idB"
addrA=$(grep -o "/ip4/127.0.0.1/tcp/[0-9]*/p2p/$idA" "$T/idA.json" | head -1)
expect_fail 1 "that is this node" "$BIN" swarm connect "$addrA"
out=$("$BIN" swarm connect "/dns4/localhost/tcp/$portB/p2p/$idB")
expect_eq "connect by name" "$out" "connect $idB success"
out=$("$BIN" swarm connect "$addrB")
expect_eq "connect output" "$out" "connect $idB success"
"$BIN" swarm peers | grep -qx "/ip4/127.0.0.1/tcp/[0-9]*/p2p/$idB" || fail "A's peers: $("$BIN" swarm peers)"
ok=0
for _ in $(seq 1 50); do
  if CIPFS_PATH=$B "$BIN" swarm peers | grep -q "/p2p/$idA$"; then ok=1; break; fi
  sleep 0.1
done
[ $ok = 1 ] || fail "B does not list A"

# Ping both ways: by multiaddr and by peer ID (connected).
"$BIN" ping -n 3 "$addrB" >"$T/ping_ab"
[ "$(grep -c '^Pong received: time=' "$T/ping_ab")" = 3 ] || fail "ping A->B: $(cat "$T/ping_ab")"
grep -q '^Average latency: ' "$T/ping_ab" || fail "ping average"
CIPFS_PATH=$B "$BIN" ping -n 2 "$idA" >"$T/ping_ba"
[ "$(grep -c '^Pong received' "$T/ping_ba")" = 2 ] || fail "ping B->A: $(cat "$T/ping_ba")"

# Identify ran: A knows B's agent and protocols.
ok=0
for _ in $(seq 1 50); do
  if "$BIN" id "$idB" >"$T/idB.json" 2>&1 && grep -q '"/ipfs/ping/1.0.0"' "$T/idB.json"; then ok=1; break; fi
  sleep 0.1
done
[ $ok = 1 ] || fail "id of B from A: $(cat "$T/idB.json")"
grep -q '"AgentVersion": *"cipfs/' "$T/idB.json" || fail "B's agent version"
grep -q "\"$addrB\"" "$T/idB.json" || fail "B's listen address from identify: $(cat "$T/idB.json")"

# Refusals, each one line and exit 1.
hostport=${addrB%/p2p/*}
other=12D3KooWAhRVBVoXaiVwMRtHYbUR1P43zKEH9tTmMmkQdkUHrrS2
expect_fail 1 "not a valid multiaddr" "$BIN" swarm connect /ip4/127.0.0.1/tcp
expect_fail 1 "not a valid multiaddr" "$BIN" swarm connect /ip4/300.1.1.1/tcp/1
expect_fail 1 "not a valid multiaddr" "$BIN" swarm connect "garbage"
expect_fail 1 "another peer ID" "$BIN" swarm connect "$hostport/p2p/$other"
expect_fail 1 "another peer ID" "$BIN" ping -n 1 "$hostport/p2p/$other"
expect_fail 1 "neither a multiaddr nor a peer ID" "$BIN" ping -n 1 nonsense
expect_fail 2 "count" "$BIN" ping -n 0 "$addrB"
# A port nobody listens on: A's own daemon was started on port 0, so take
# a port from a listener we close right away.
free_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
expect_fail 1 "^Error: connect /ip4/127.0.0.1/tcp/$free_port" "$BIN" swarm connect "/ip4/127.0.0.1/tcp/$free_port"
# The wrong-ID dial did not disturb the real connection.
"$BIN" ping -n 1 "$idB" | grep -q '^Pong received' || fail "ping after refusals"

# Disconnect: B no longer listed; a second time it is not connected.
out=$("$BIN" swarm disconnect "$addrB")
expect_eq "disconnect output" "$out" "disconnect $idB success"
"$BIN" swarm peers | grep -q "/p2p/$idB$" && fail "B still listed after disconnect"
expect_fail 1 "not connected" "$BIN" swarm disconnect "$idB"
expect_fail 1 "give a peer ID" "$BIN" swarm disconnect /ip4/127.0.0.1/tcp/1
# A peer ID is enough to come back: the address is remembered.
"$BIN" ping -n 1 "$idB" | grep -q '^Pong received' || fail "ping after disconnect"

# A daemon that cannot listen anywhere refuses to run.
C=$T/c
CIPFS_PATH=$C "$BIN" init >/dev/null
CIPFS_PATH=$C "$BIN" config --json Addresses.Swarm "[\"$hostport\"]"
# Its bootstrap peer answers with garbage: the failed dial the node began
# before giving up must not add a second error line.
garbage_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# (python3 may be a wrapper that forks: the server writes its own pid.)
python3 -c '
import os, socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(8); s.settimeout(10)
open(sys.argv[2], "w").write(str(os.getpid()))
try:
    while True:
        c, _ = s.accept(); c.sendall(b"\x13/not-multistream/1\n" * 4); time.sleep(0.2); c.close()
except OSError:
    pass
' "$garbage_port" "$T/garbage.pid" >/dev/null 2>&1 &
disown
for _ in $(seq 1 100); do
  [ -s "$T/garbage.pid" ] && break
  sleep 0.05
done
[ -s "$T/garbage.pid" ] || fail "garbage server did not start"
garbage_pid=$(cat "$T/garbage.pid")
cleanup_hooks+=('kill -KILL "$garbage_pid" 2>/dev/null')
CIPFS_PATH=$C "$BIN" config --json Bootstrap "[\"/ip4/127.0.0.1/tcp/$garbage_port/p2p/$idB\"]"
expect_fail 1 "no address of Addresses.Swarm works: cannot listen on $hostport: Address already in use" env CIPFS_PATH="$C" "$BIN" daemon
kill -KILL "$garbage_pid"
# A peer ID nobody ever gave an address for (C never ran).
idC=$(CIPFS_PATH=$C "$BIN" config Identity.PeerID)
expect_fail 1 "no address known" "$BIN" ping -n 1 "$idC"

# Clean exit on SIGINT and SIGTERM; the repo is free afterwards. A long
# ping running through the API does not hold the shutdown up.
"$BIN" ping -n 1000 "$idB" >"$T/long_ping" 2>&1 &
ping_pid=$!
for _ in $(seq 1 100); do
  grep -q '^Pong' "$T/long_ping" && break
  sleep 0.05
done
stop_daemon "$pidA" INT
wait "$ping_pid" || true
[ ! -e "$A/api.sock" ] || fail "api.sock left behind"
"$BIN" id >/dev/null || fail "repo A still locked"
ok=0
for _ in $(seq 1 50); do
  if ! CIPFS_PATH=$B "$BIN" swarm peers | grep -q "/p2p/$idA$"; then ok=1; break; fi
  sleep 0.1
done
[ $ok = 1 ] || fail "B still lists A after A stopped"
stop_daemon "$pidB" TERM
daemon_pids=()
no_sanitizer "$T/a.log"
no_sanitizer "$T/b.log"
echo "net_daemon: ok"
