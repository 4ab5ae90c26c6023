#!/usr/bin/env bash
# Copy-in imports writes made in order from offset 0 as they come (the
# data is written once, not staged first). Everything else a program may
# do to a file it writes still works: read it back mid-way, fsync and
# carry on, write out of order, truncate, append; GC keeps the blocks of
# a file that is half streamed.
. "$(dirname "$0")/mount_lib.bash"

src=$T/src
mkdir -p "$src"
make_file "$src/a.bin" 3000000
make_file "$src/b.bin" 3000000 # for the GC case: no other file shares its blocks
start_node

same_as_add() { # mount-path source label
  cmp "$2" "$1" || fail "$3: content"
  [ "$(cid_of "$1")" = "$(cipfs add -Q --only-hash "$2")" ] || fail "$3: CID differs from add"
}

# 1. Plain copy: streamed, same CID as add.
cp "$src/a.bin" "$MNT/plain.bin"
same_as_add "$MNT/plain.bin" "$src/a.bin" "plain copy"

# 2. Mid-way: a second reader sees what was written so far, fsync
# publishes so far, writing carries on; out-of-order and truncating writes
# after streaming began; appending to a new file.
python3 - "$src/a.bin" "$MNT" <<'PY' || fail "writes while streaming"
import os, sys
data = open(sys.argv[1], "rb").read()
mnt = sys.argv[2]
chunk = 1 << 20

def write_all(fd, buf, off):
    while buf:
        n = os.pwrite(fd, buf, off)
        buf, off = buf[n:], off + n

# Read back mid-way, then finish.
p = os.path.join(mnt, "readback.bin")
fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
write_all(fd, data[:chunk], 0)
assert os.fstat(fd).st_size == chunk, "size while streaming"
with open(p, "rb") as r:
    assert r.read() == data[:chunk], "second reader mid-way"
write_all(fd, data[chunk:], chunk)
os.close(fd)
assert open(p, "rb").read() == data, "readback final"

# fsync mid-way, then carry on.
p = os.path.join(mnt, "fsync.bin")
fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
write_all(fd, data[:chunk], 0)
os.fsync(fd)
write_all(fd, data[chunk:], chunk)
os.close(fd)
assert open(p, "rb").read() == data, "fsync final"

# Back to the start after streaming began.
p = os.path.join(mnt, "rewrite.bin")
fd = os.open(p, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
write_all(fd, data[:2 * chunk], 0)
write_all(fd, b"XYZ", 10)
write_all(fd, data[2 * chunk:], 2 * chunk)
os.close(fd)
want = data[:10] + b"XYZ" + data[13:]
assert open(p, "rb").read() == want, "rewrite final"
open(os.path.join(os.path.dirname(sys.argv[1]), "rewrite.want"), "wb").write(want)

# Truncate while streaming.
p = os.path.join(mnt, "trunc.bin")
fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
write_all(fd, data[:chunk], 0)
os.ftruncate(fd, 1000)
os.close(fd)
assert open(p, "rb").read() == data[:1000], "truncate final"

# O_APPEND on a new file streams; on a file with content it does not.
p = os.path.join(mnt, "append.bin")
fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
for i in range(0, len(data), 65536):
    os.write(fd, data[i:i + 65536])
os.close(fd)
fd = os.open(p, os.O_WRONLY | os.O_APPEND)
os.write(fd, b"tail")
os.close(fd)
assert open(p, "rb").read() == data + b"tail", "append final"
PY
same_as_add "$MNT/rewrite.bin" "$src/rewrite.want" "rewrite"
cat "$src/a.bin" >"$T/append.want"
printf tail >>"$T/append.want"
same_as_add "$MNT/append.bin" "$T/append.want" "append"
head -c 1000 "$src/a.bin" >"$T/trunc.want"
same_as_add "$MNT/trunc.bin" "$T/trunc.want" "truncate"
same_as_add "$MNT/fsync.bin" "$src/a.bin" "fsync mid-way"

# 3. GC while a file is half streamed runs at once and keeps what the
# file wrote so far (referenced by nothing but the import yet): the file is
# whole once it is closed.
mkfifo "$T/go"
python3 - "$src/b.bin" "$MNT/held.bin" "$T/go" <<'PY' &
import os, sys
data = open(sys.argv[1], "rb").read()
fd = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, data[:1 << 20])
open(sys.argv[3] + ".ready", "w").close()
open(sys.argv[3]).read()  # wait for the test
os.write(fd, data[1 << 20:])
os.close(fd)
PY
writer=$!
# The writer waits on the fifo: should the test fail, stop it too. cleanup
# takes the exit status from $?, so hand it the script's.
trap 'rc=$?; kill "$writer" 2>/dev/null || true; (exit "$rc") || cleanup; cleanup' EXIT
for _ in $(seq 100); do [ -e "$T/go.ready" ] && break; sleep 0.1; done
[ -e "$T/go.ready" ] || fail "writer did not start"
timeout 60 "$CIPFS_BIN" repo gc >"$T/gc.out" 2>"$T/gc.err" ||
  fail "GC while a file streams: $(cat "$T/gc.err")"
echo go >"$T/go"
wait "$writer" || fail "writer failed"
same_as_add "$MNT/held.bin" "$src/b.bin" "held across GC"
cipfs repo verify >/dev/null || fail "repo verify"

stop_node
echo PASS
