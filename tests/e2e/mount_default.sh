#!/usr/bin/env bash
# The default mount point, the one scripts/run.sh (the README's first
# command) uses: `cipfs mount` with no directory mounts at /ipfs, making
# it when absent. When /ipfs cannot be used (read-only, or another node's
# live mount on it) the node falls back to ~/ipfs.
# It runs in a private mount namespace, so nothing outside sees its mounts
# and they go with it; a /ipfs the test made is removed afterwards.
if [ -z "${CIPFS_MOUNT_NS:-}" ]; then
  command -v unshare >/dev/null || { echo "FAIL: unshare is missing" >&2; exit 1; }
  made=0
  [ -e /ipfs ] || made=1
  rc=0
  CIPFS_MOUNT_NS=1 unshare -m --propagation private bash "$0" || rc=$?
  [ "$made" = 1 ] && rmdir /ipfs 2>/dev/null
  exit "$rc"
fi
. "$(dirname "$0")/mount_lib.bash"

export HOME=$T/home
mkdir -p "$HOME"
# Whatever the host has mounted at /ipfs, this namespace's copy goes.
while grep -qs ' /ipfs ' /proc/mounts; do umount -l /ipfs; done
MNT=/ipfs
MNT_DEFAULT=1

# 1. No directory: /ipfs, made if absent. Publish and read back there.
start_node
grep -q ': mounted at /ipfs (repo ' "$T/node.log" || fail "not at /ipfs: $(cat "$T/node.log")"
make_file "$T/f" 300000
cp "$T/f" /ipfs/f
cid=$(cid_of /ipfs/f)
[ -n "$cid" ] || fail "no CID for /ipfs/f"
cmp "$T/f" "/ipfs/$cid" || fail "/ipfs/$cid differs from what was copied in"
cipfs cat "$cid" | cmp - "$T/f" || fail "cipfs cat through the node differs"

# 2. Another node's live mount on /ipfs: a second repo's node goes to
# ~/ipfs and leaves the first alone.
R2=$T/repo2
CIPFS_PATH=$R2 "$CIPFS_BIN" init >/dev/null
CIPFS_PATH=$R2 env --default-signal=INT "$CIPFS_BIN" mount >"$T/node2.log" 2>&1 &
pid2=$!
cleanup_two() { # keeps the exit status for cleanup
  local rc=$?
  kill -KILL "$pid2" 2>/dev/null || true
  umount -l "$HOME/ipfs" 2>/dev/null || true
  return "$rc"
}
trap 'cleanup_two; cleanup' EXIT
for _ in $(seq 100); do
  grep -q 'mounted at' "$T/node2.log" && break
  kill -0 "$pid2" 2>/dev/null || fail "second node exited: $(cat "$T/node2.log")"
  sleep 0.1
done
grep -q ": mounted at $HOME/ipfs (repo " "$T/node2.log" || fail "second node not at ~/ipfs: $(cat "$T/node2.log")"
grep -qs " $HOME/ipfs fuse" /proc/mounts || fail "~/ipfs not mounted"
cmp "$T/f" "/ipfs/$cid" || fail "the first mount was disturbed"
kill -INT "$pid2"
st=0
wait "$pid2" || st=$?
[ "$st" = 0 ] || fail "second node exited $st on SIGINT"
! grep -qs " $HOME/ipfs fuse" /proc/mounts || fail "~/ipfs still mounted"
stop_node INT

# 3. A read-only /ipfs: the fallback again, and what was published is
# still there (the repo is the same).
mkdir -p "$T/ro"
mount --bind "$T/ro" /ipfs
mount -o remount,bind,ro /ipfs
MNT=$HOME/ipfs
start_node
grep -q ": mounted at $HOME/ipfs (repo " "$T/node.log" || fail "read-only /ipfs: $(tail -3 "$T/node.log")"
cmp "$T/f" "$HOME/ipfs/$cid" || fail "$HOME/ipfs/$cid differs"
stop_node INT
umount /ipfs
echo "mount_default: ok"
