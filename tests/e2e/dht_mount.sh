#!/usr/bin/env bash
# A file copied into a node's mount is announced on the DHT: a second node
# (a daemon that knows only the mounted node) finds the mounted node as
# provider of the file's CID, by CID alone, and then reads the bytes from
# it over bitswap.
. "$(dirname "$0")/mount_lib.bash"

cipfs config Addresses.Swarm '["/ip4/127.0.0.1/tcp/0"]' --json
cipfs config Bootstrap '[]' --json
cipfs config Routing.Type dhtserver
start_node
id1=$(cipfs id | grep '"ID"' | sed -E 's/.*"ID": *"([^"]+)".*/\1/')
addr1=$(cipfs swarm addrs listen | grep -m1 '^/ip4/127.0.0.1/')
[ -n "$id1" ] && [ -n "$addr1" ] || fail "no ID/address for the mounted node"
case "$addr1" in */p2p/*) ;; *) addr1="$addr1/p2p/$id1" ;; esac

R2=$T/repo2
DPID=
cleanup_daemon() { [ -n "$DPID" ] && kill -TERM "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null || true; }
trap 'st=$?; cleanup_daemon; (exit $st); cleanup' EXIT
CIPFS_PATH=$R2 "$CIPFS_BIN" init >/dev/null 2>&1 || fail "init node 2"
CIPFS_PATH=$R2 "$CIPFS_BIN" config Addresses.Swarm '["/ip4/127.0.0.1/tcp/0"]' --json
CIPFS_PATH=$R2 "$CIPFS_BIN" config Bootstrap "[\"$addr1\"]" --json
CIPFS_PATH=$R2 "$CIPFS_BIN" config Routing.Type dhtserver
CIPFS_PATH=$R2 "$CIPFS_BIN" daemon >"$T/d2.log" 2>&1 &
DPID=$!
for _ in $(seq 100); do grep -qs "Daemon is ready" "$T/d2.log" && break; sleep 0.1; done
grep -qs "Daemon is ready" "$T/d2.log" || fail "node 2 not ready: $(cat "$T/d2.log")"

make_file "$T/f" 100000
cp "$T/f" "$MNT/f"
cid=$(cid_of "$MNT/f")
[ -n "$cid" ] || fail "no CID for the copied file"
found=
for _ in $(seq 40); do
  if CIPFS_PATH=$R2 "$CIPFS_BIN" routing findprovs "$cid" 2>/dev/null | grep -qx "$id1"; then
    found=1
    break
  fi
  sleep 0.5
done
[ -n "$found" ] || fail "node 2 never found the mounted node providing $cid"
echo "ok: $cid copied into the mount is found through the DHT"
CIPFS_PATH=$R2 "$CIPFS_BIN" cat "$cid" | cmp - "$T/f" || fail "node 2 read other bytes"
echo "ok: node 2 read $cid from the mounted node"
stop_node
echo PASS
