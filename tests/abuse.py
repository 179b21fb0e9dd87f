#!/usr/bin/env python3
"""abuse.py: one misbehaving client against sumdbd, for tests/e2e/abuse.sh.

  abuse.py pipeline HOST PORT PID N SECONDS
      One connection sends N pipelined "GET /metrics" and never reads,
      for at most SECONDS.  Prints "sent S bytes, rss +R KiB" where R is
      the daemon's (PID) largest VmRSS growth seen meanwhile.  Then a
      second connection pipelines 200 requests and reads every answer:
      exit 1 unless all 200 come back 200, in order.

  abuse.py audit HOST PORT BODYFILE
      For a daemon with workers = 1: POST /audit with BODYFILE on one
      connection; meanwhile a second connection asks GET /healthz again
      and again.  Prints "healthz H while the audit ran, audit T s",
      and the audit's JSON to stdout's last line.  Exit 1 when the audit
      is not 200 or no /healthz was answered while it ran.

  abuse.py peercap HOST PORT LIMIT
      For max_connections_per_client = LIMIT: LIMIT connections from
      127.0.0.1 are held open (each served once); one more is answered
      503 with Retry-After and a one-line body and closed; a connection
      from 127.0.0.2 is served; once one holder closes, a new one from
      127.0.0.1 is served.  Exit 1 with the reason on a failure.
"""
import json
import os
import re
import select
import socket
import sys
import time


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def read_response(f):
    """One response from file object f: (status, headers, body)."""
    line = f.readline()
    if not line:
        raise EOFError("closed before a response")
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", line)
    if not m:
        raise ValueError("bad status line %r" % line)
    headers = {}
    while True:
        h = f.readline()
        if h in (b"\r\n", b"\n"):
            break
        if not h:
            raise EOFError("closed in the head")
        k, _, v = h.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    body = f.read(int(headers.get("content-length", "0")))
    return int(m.group(1)), headers, body


def pipeline(host, port, pid, n, secs):
    req = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"
    data = req * n
    s = socket.create_connection((host, port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.setblocking(False)
    base = rss_kib(pid)
    peak = base
    sent = 0
    t0 = time.monotonic()
    while sent < len(data) and time.monotonic() - t0 < secs:
        _, w, _ = select.select([], [s], [], 0.1)
        if w:
            try:
                sent += s.send(data[sent:sent + 65536])
            except BlockingIOError:
                pass
        peak = max(peak, rss_kib(pid))
    # The daemon keeps going on what it already read: watch a while more.
    t1 = time.monotonic()
    while time.monotonic() - t1 < 1.0:
        peak = max(peak, rss_kib(pid))
        time.sleep(0.05)
    print("sent %d of %d requests' bytes in %.1f s, rss +%d KiB"
          % (sent, len(data), time.monotonic() - t0, peak - base))
    s.close()

    # Pipelining still answers every request, in order.
    c = socket.create_connection((host, port))
    paths = [b"/healthz" if i % 2 else b"/metrics" for i in range(200)]
    c.sendall(b"".join(b"GET " + p + b" HTTP/1.1\r\nHost: x\r\n\r\n"
                       for p in paths))
    f = c.makefile("rb")
    for i, p in enumerate(paths):
        st, h, body = read_response(f)
        if st != 200:
            print("pipelined request %d (%s): %d" % (i, p.decode(), st))
            sys.exit(1)
        if (p == b"/metrics") != (b"sumdbd_http_requests_total" in body):
            print("pipelined answer %d is not %s's" % (i, p.decode()))
            sys.exit(1)
    c.close()
    print("200 pipelined requests answered in order")


def audit(host, port, bodyfile):
    with open(bodyfile, "rb") as f:
        body = f.read()
    a = socket.create_connection((host, port))
    b = socket.create_connection((host, port))
    bf = b.makefile("rb")
    t0 = time.monotonic()
    a.sendall(b"POST /audit HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n"
              b"Connection: close\r\n\r\n" % len(body) + body)
    a.setblocking(False)
    answer = b""
    healthz = 0
    done = False
    while not done:
        if time.monotonic() - t0 > 300:
            print("the audit did not finish in 300 s")
            sys.exit(1)
        b.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        st, h, _ = read_response(bf)
        if st != 200:
            print("/healthz: %d" % st)
            sys.exit(1)
        # The audit's answer may have come meanwhile: then this /healthz
        # was not answered while it ran.
        while True:
            try:
                chunk = a.recv(1 << 20)
            except BlockingIOError:
                break
            if not chunk:
                done = True
                break
            answer += chunk
        if answer:
            done = True
        if not done:
            healthz += 1
    a.setblocking(True)
    while True:
        chunk = a.recv(1 << 20)
        if not chunk:
            break
        answer += chunk
    t = time.monotonic() - t0
    head, _, rest = answer.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200 "):
        print("POST /audit: %r" % answer[:300])
        sys.exit(1)
    print("healthz %d while the audit ran, audit %.2f s" % (healthz, t))
    print(json.dumps(json.loads(rest)["summary"], sort_keys=True))
    if healthz == 0:
        print("no /healthz was answered while the audit ran")
        sys.exit(1)


def peercap(host, port, limit):
    def get(src="127.0.0.1"):
        c = socket.create_connection((host, port), source_address=(src, 0))
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        f = c.makefile("rb")
        return c, f, read_response(f)

    holders = []
    for i in range(limit):
        c, f, (st, h, body) = get()
        if st != 200:
            print("holder %d: %d %r" % (i, st, body))
            sys.exit(1)
        holders.append((c, f))
    c, f, (st, h, body) = get()
    if st != 503 or "retry-after" not in h or body.count(b"\n") != 1:
        print("connection %d: %d %r %r" % (limit + 1, st, h, body))
        sys.exit(1)
    if f.read(1) != b"":
        print("connection %d: not closed after the 503" % (limit + 1))
        sys.exit(1)
    print("connection %d from 127.0.0.1: 503 %s" % (limit + 1,
                                                    body.decode().strip()))
    c.close()
    c, f, (st, h, body) = get("127.0.0.2")
    if st != 200:
        print("127.0.0.2: %d %r" % (st, body))
        sys.exit(1)
    c.close()
    # The holders are still served.
    for c, f in holders:
        c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        st, h, body = read_response(f)
        if st != 200:
            print("a holder, again: %d" % st)
            sys.exit(1)
    c, f = holders.pop()
    f.close()
    c.close()
    time.sleep(0.2)
    c, f, (st, h, body) = get()
    if st != 200:
        print("after a holder closed: %d %r" % (st, body))
        sys.exit(1)
    print("127.0.0.2 served; a holder closed, then 127.0.0.1 served again")


def main():
    cmd = sys.argv[1]
    host, port = sys.argv[2], int(sys.argv[3])
    if cmd == "pipeline":
        pipeline(host, port, int(sys.argv[4]), int(sys.argv[5]),
                 float(sys.argv[6]))
    elif cmd == "audit":
        audit(host, port, sys.argv[4])
    elif cmd == "peercap":
        peercap(host, port, int(sys.argv[4]))
    else:
        sys.exit("usage: abuse.py pipeline|audit|peercap ...")


if __name__ == "__main__":
    main()
