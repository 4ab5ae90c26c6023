"""A DNS server for the tests: answers TXT questions from a JSON map of
name -> [strings], NXDOMAIN for other names, or (--silent) never answers.
Usage: dns_stub.py ADDR PIDFILE RECORDS.json [--silent]"""
import json
import os
import socket
import struct
import sys

addr, pidfile, recfile = sys.argv[1:4]
silent = "--silent" in sys.argv[4:]
with open(recfile) as f:
    records = {k.lower(): v for k, v in json.load(f).items()}
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((addr, 53))
with open(pidfile, "w") as f:
    f.write(str(os.getpid()))


def answer(q):
    qid, _, qdcount = struct.unpack(">HHH", q[:6])
    if qdcount != 1:
        return None
    i, labels = 12, []
    while q[i]:
        labels.append(q[i + 1 : i + 1 + q[i]].decode("ascii", "replace"))
        i += 1 + q[i]
    qtype = struct.unpack(">H", q[i + 1 : i + 3])[0]
    question = q[12 : i + 5]
    name = ".".join(labels).lower()
    txts = records.get(name, []) if qtype == 16 else []
    body = b""
    for t in txts:
        data = t.encode()
        rdata = bytes([len(data)]) + data
        body += b"\xc0\x0c" + struct.pack(">HHIH", 16, 1, 60, len(rdata)) + rdata
    rcode = 0 if name in records else 3
    head = struct.pack(">HHHHHH", qid, 0x8180 | rcode, 1, len(txts), 0, 0)
    return head + question + body


while True:
    q, peer = s.recvfrom(4096)
    if silent:
        continue
    try:
        r = answer(q)
    except (IndexError, struct.error):
        r = None
    if r is not None:
        s.sendto(r, peer)
