#!/usr/bin/env python3
"""loadconn.py: connection-level checks of sumdbd for tests/e2e/load.sh.

  loadconn.py flood HOST PORT N DIR
      Opens N connections and holds them: even ones idle, odd ones
      slowloris (a request head trickled a line a second, never ended).
      Writes DIR/ready once all are connected, trickles until DIR/stop
      exists, then prints what the server did to them: "held H of N,
      closed C, answered A, errors E".  Exit 2 when a connect fails.

  loadconn.py maxconn HOST PORT LIMIT EXTRA
      For a daemon with max_connections = LIMIT and one worker: LIMIT
      keep-alive connections ("holders") are opened and served; then
      EXTRA connections each send a request.  While the holders stay
      open, no extra connection may be answered or broken (they wait),
      and every holder is still served (it reads /metrics, whose
      sumdbd_http_connections must not exceed LIMIT).  Once the holders
      close, every extra connection must be answered 200.  Exit 1 on a
      failure, with the reason.

  loadconn.py limits HOST PORT GOSUMLINE
      For a daemon with workers = 1, request_timeout = 1s,
      max_header_size = 8k, audit_max_body = 1k and audit_rate = 2:
      each protocol limit gets its status, a one-line text body and the
      right connection behaviour.  Prints one line per case, "ok" or
      "FAIL", and exits 1 if any failed.
"""
import asyncio
import os
import re
import socket
import sys
import time


# ---------------------------------------------------------------- flood

async def flood(host, port, n, d):
    conns = []
    errors = 0

    async def one(i):
        nonlocal errors
        try:
            r, w = await asyncio.wait_for(asyncio.open_connection(host, port), 60)
            return (i, r, w)
        except (OSError, asyncio.TimeoutError) as e:
            errors += 1
            print("connect %d: %s" % (i, e), file=sys.stderr)
            return None

    for start in range(0, n, 250):
        got = await asyncio.gather(*[one(i) for i in range(start, min(n, start + 250))])
        conns += [c for c in got if c is not None]
    if errors:
        print("flood: %d connects failed" % errors)
        sys.exit(2)
    for i, r, w in conns:
        if i % 2:
            w.write(b"GET /latest HTTP/1.1\r\nHost: x\r\n")
    closed = 0
    answered = 0
    done = set()

    async def watch(i, r):
        nonlocal closed, answered
        try:
            data = await r.read(65536)
        except OSError:
            data = b""
        if data:
            answered += 1
        closed += 1
        done.add(i)

    watchers = [asyncio.ensure_future(watch(i, r)) for i, r, w in conns]
    with open(os.path.join(d, "ready.tmp"), "w") as f:
        f.write("%d\n" % len(conns))
    os.rename(os.path.join(d, "ready.tmp"), os.path.join(d, "ready"))
    k = 0
    while not os.path.exists(os.path.join(d, "stop")):
        await asyncio.sleep(0.2)
        k += 1
        if k % 5:
            continue
        for i, r, w in conns:
            if i % 2 and i not in done:
                try:
                    w.write(b"X-Slow-%d: y\r\n" % (k // 5))
                except OSError:
                    pass
    await asyncio.sleep(0.1)
    print("held %d of %d, closed %d, answered %d, errors %d"
          % (len(conns) - closed, n, closed, answered, errors))
    for w in watchers:
        w.cancel()
    for i, r, w in conns:
        w.close()


# -------------------------------------------------------------- maxconn

async def read_response(r):
    """One HTTP/1.1 response with a Content-Length: (status, headers, body)."""
    line = await r.readline()
    if not line:
        raise EOFError("closed before a response")
    m = re.match(rb"HTTP/1\.[01] (\d{3}) ", line)
    if not m:
        raise ValueError("bad status line %r" % line)
    headers = {}
    while True:
        h = await r.readline()
        if h in (b"\r\n", b"\n"):
            break
        if not h:
            raise EOFError("closed in the head")
        k, _, v = h.decode("latin-1").partition(":")
        headers[k.strip().lower()] = v.strip()
    body = await r.readexactly(int(headers.get("content-length", "0")))
    return int(m.group(1)), headers, body


async def maxconn(host, port, limit, extra):
    fails = []
    holders = []
    for i in range(limit):
        r, w = await asyncio.open_connection(host, port)
        w.write(b"GET /latest HTTP/1.1\r\nHost: x\r\n\r\n")
        s, h, b = await asyncio.wait_for(read_response(r), 30)
        if s != 200:
            fails.append("holder %d: %d" % (i, s))
        holders.append((r, w))
    results = {}

    async def one(i):
        try:
            r, w = await asyncio.open_connection(host, port)
            w.write(b"GET /latest HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            s, h, b = await read_response(r)
            results[i] = s
            w.close()
        except (OSError, EOFError, ValueError, asyncio.IncompleteReadError) as e:
            results[i] = "broken: %s" % e

    tasks = [asyncio.ensure_future(one(i)) for i in range(extra)]
    await asyncio.sleep(1.5)
    early = dict(results)
    if early:
        fails.append("%d extra connections were answered or broken while %d "
                     "held max_connections = %d: %s"
                     % (len(early), limit, limit, sorted(set(map(str, early.values())))))
    # The held connections are still served, and the daemon counts no
    # more than its limit.
    most = 0
    for i, (r, w) in enumerate(holders):
        w.write(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            s, h, b = await asyncio.wait_for(read_response(r), 30)
        except (OSError, EOFError, ValueError, asyncio.IncompleteReadError,
                asyncio.TimeoutError) as e:
            fails.append("holder %d broken by the extra connections: %r" % (i, e))
            continue
        if s != 200:
            fails.append("holder %d: /metrics %d" % (i, s))
            continue
        m = re.search(rb"^sumdbd_http_connections (\d+)", b, re.M)
        if m:
            most = max(most, int(m.group(1)))
    if most > limit:
        fails.append("sumdbd_http_connections %d over max_connections %d" % (most, limit))
    for r, w in holders:
        w.close()
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), 120)
    except asyncio.TimeoutError:
        pass
    bad = {i: s for i, s in results.items() if s != 200}
    if len(results) != extra or bad:
        fails.append("extra connections once the holders closed: %d of %d answered, "
                     "not 200: %s" % (len(results), extra, sorted(set(map(str, bad.values())))))
    for f in fails:
        print("maxconn: FAIL: " + f)
    print("maxconn: %d holders served while %d extra connections waited (connections "
          "counted at most %d); then all %d extra answered 200"
          % (limit, extra, most, sum(1 for s in results.values() if s == 200)))
    return 1 if fails else 0


# --------------------------------------------------------------- limits

class Result:
    def __init__(self):
        self.status = None
        self.headers = {}
        self.body = b""
        self.closed = False     # EOF after the response
        self.reset = False
        self.raw = b""
        self.raw_after = b""
        self.err = None


def exchange(host, port, data, wait_close=5.0, first_timeout=10.0, source=None):
    """Send data (a list of chunks, and pauses in seconds as floats),
    read one response, then whether the server closes."""
    res = Result()
    s = socket.create_connection((host, port), source_address=(source, 0) if source else None)
    s.settimeout(first_timeout)
    try:
        for chunk in data:
            if isinstance(chunk, float):
                time.sleep(chunk)
            else:
                s.sendall(chunk)
    except OSError as e:
        res.err = "send: %s" % e
    buf = b""
    try:
        while b"\r\n\r\n" not in buf:
            got = s.recv(65536)
            if not got:
                break
            buf += got
    except socket.timeout:
        res.err = "no response in %.0f s" % first_timeout
    except ConnectionResetError:
        res.reset = True
        res.err = "connection reset"
    res.raw = buf
    head, sep, rest = buf.partition(b"\r\n\r\n")
    if not sep:
        s.close()
        if res.err is None:
            res.err = "closed without a response" if not buf else "no end of head: %r" % buf[:200]
        return res
    lines = head.split(b"\r\n")
    m = re.match(rb"HTTP/1\.1 (\d{3}) ", lines[0] + b" ")
    if not m:
        res.err = "bad status line %r" % lines[0]
        s.close()
        return res
    res.status = int(m.group(1))
    for h in lines[1:]:
        k, _, v = h.decode("latin-1").partition(":")
        res.headers[k.strip().lower()] = v.strip()
    n = int(res.headers.get("content-length", "-1"))
    body = rest
    s.settimeout(wait_close)
    try:
        while n < 0 or len(body) < n:
            got = s.recv(65536)
            if not got:
                res.closed = True
                break
            body += got
        if n >= 0:
            res.body, extra = body[:n], body[n:]
            res.raw_after = extra
            if not res.closed:
                got = s.recv(65536)
                if got:
                    res.raw_after += got
                else:
                    res.closed = True
        else:
            res.body = body
    except socket.timeout:
        pass
    except ConnectionResetError:
        res.reset = True
        res.closed = True
    s.close()
    return res


def limits(host, port, gosum):
    failed = []
    H = b"Host: x\r\n"
    audit = gosum.encode() + b"\n"

    def check(name, want, req, close=True, header=None, wait_close=5.0,
              first_timeout=10.0, source=None):
        r = exchange(host, port, req, wait_close=wait_close,
                     first_timeout=first_timeout, source=source)
        why = []
        if r.status != want:
            why.append("got %s%s" % (r.status, " (%s)" % r.err if r.err else ""))
        else:
            b = r.body
            if not (b.endswith(b"\n") and b.count(b"\n") == 1 and len(b) > 1):
                why.append("body is not one line: %r" % b[:120])
            if not r.headers.get("content-type", "").startswith("text/plain"):
                why.append("Content-Type %r" % r.headers.get("content-type"))
            if close is True:
                if r.headers.get("connection", "").lower() != "close":
                    why.append("no Connection: close")
                if not r.closed:
                    why.append("the connection stays open")
            if header:
                k, pat = header
                if not re.search(pat, r.headers.get(k.lower(), "")):
                    why.append("%s: %r" % (k, r.headers.get(k.lower())))
        line = "%-4s %d %s" % ("ok" if not why else "FAIL", want, name)
        if why:
            line += ": " + "; ".join(why)
            failed.append(line)
        print(line)
        return r

    big = b"a" * 9000
    # 400: malformed request lines and headers.
    for name, req in [
        ("request line without spaces", b"GARBAGE\r\n\r\n"),
        ("request line without a version", b"GET /latest\r\n\r\n"),
        ("request line with four parts", b"GET /latest HTTP/1.1 x\r\n" + H + b"\r\n"),
        ("request target not a path", b"GET latest HTTP/1.1\r\n" + H + b"\r\n"),
        ("version not HTTP/x.y", b"GET /latest HTTP/one\r\n" + H + b"\r\n"),
        ("header without a colon", b"GET /latest HTTP/1.1\r\n" + H + b"NoColonHere\r\n\r\n"),
        ("space before a header's colon", b"GET /latest HTTP/1.1\r\nHost : x\r\n\r\n"),
        ("empty header name", b"GET /latest HTTP/1.1\r\n" + H + b": x\r\n\r\n"),
        ("NUL in a header", b"GET /latest HTTP/1.1\r\n" + H + b"X-A: a\0b\r\n\r\n"),
        ("Content-Length not a number",
         b"POST /audit HTTP/1.1\r\n" + H + b"Content-Length: 1x\r\n\r\n"),
        ("two different Content-Lengths",
         b"POST /audit HTTP/1.1\r\n" + H + b"Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"),
    ]:
        check(name, 400, [req])
    # 405 with Allow; a well-framed request: the connection may stay.
    check("PUT /latest", 405, [b"PUT /latest HTTP/1.1\r\n" + H + b"Content-Length: 0\r\n\r\n"],
          close=None, header=("Allow", r"GET.*HEAD|HEAD.*GET"), wait_close=0.5)
    check("DELETE /lookup/...", 405,
          [b"DELETE /lookup/example.com/m@v1.0.0 HTTP/1.1\r\n" + H + b"\r\n"],
          close=None, header=("Allow", r"GET"), wait_close=0.5)
    check("GET /audit", 405, [b"GET /audit HTTP/1.1\r\n" + H + b"\r\n"],
          close=None, header=("Allow", r"POST"), wait_close=0.5)
    # A 405 to a request with a body, with another request after it on
    # the same connection: its body must not be read as the next
    # request (answered 200, or the connection closed after the 405).
    r = exchange(host, port, [b"POST /latest HTTP/1.1\r\n" + H + b"Content-Length: 5\r\n\r\nhello"
                              b"GET /latest HTTP/1.1\r\n" + H + b"\r\n"], wait_close=5.0)
    after = getattr(r, "raw_after", b"")
    ok = r.status == 405 and (after.startswith(b"HTTP/1.1 200 ") or
                              (not after and r.closed and
                               r.headers.get("connection", "").lower() == "close"))
    line = "%-4s 405 POST /latest with a body, then a pipelined GET: %s" % (
        "ok" if ok else "FAIL",
        "next answered %r" % after[:12] if after else ("closed" if r.closed else "left open"))
    print(line)
    if not ok:
        failed.append(line)
    # 408: a head or a body that does not arrive within request_timeout
    # (1 s): answered 408, then closed.
    check("request head never finished", 408,
          [b"GET /latest HTTP/1.1\r\n" + H], first_timeout=15.0)
    check("head trickled a line at a time", 408,
          [b"GET /latest HTTP/1.1\r\n" + H] + [x for i in range(8) for x in (0.3, b"X-S: %d\r\n" % i)],
          first_timeout=15.0)
    check("body shorter than its Content-Length", 408,
          [b"POST /audit HTTP/1.1\r\n" + H + b"Content-Length: 100\r\n\r\n" + audit],
          first_timeout=15.0)
    # 413: a body over audit_max_body (1k).
    check("POST /audit body of 2000 bytes", 413,
          [b"POST /audit HTTP/1.1\r\n" + H + b"Content-Length: 2000\r\n\r\n" + b"\n" * 2000])
    check("POST /audit announcing 10 MB", 413,
          [b"POST /audit HTTP/1.1\r\n" + H + b"Content-Length: 10000000\r\n\r\n"])
    # 414: a request line over max_header_size (8k).
    check("request line of 9000 bytes", 414,
          [b"GET /lookup/example.com/" + big + b"@v1.0.0 HTTP/1.1\r\n" + H + b"\r\n"])
    # 431: a header block over max_header_size: one big header, many small.
    check("one header of 9000 bytes", 431,
          [b"GET /latest HTTP/1.1\r\n" + H + b"X-Big: " + big + b"\r\n\r\n"])
    check("300 headers of 30 bytes", 431,
          [b"GET /latest HTTP/1.1\r\n" + H +
           b"".join(b"X-Header-%04d: %s\r\n" % (i, b"v" * 12) for i in range(300)) + b"\r\n"])
    # 501: any Transfer-Encoding.
    check("GET with Transfer-Encoding: chunked", 501,
          [b"GET /latest HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"])
    check("POST /audit chunked", 501,
          [b"POST /audit HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n\r\n" +
           b"%x\r\n" % len(audit) + audit + b"\r\n0\r\n\r\n"])
    check("Transfer-Encoding: identity", 501,
          [b"GET /latest HTTP/1.1\r\n" + H + b"Transfer-Encoding: identity\r\n\r\n"])
    # Both framings at once is how requests are smuggled: 400 (RFC 9112
    # 6.3: an error), whatever the coding.
    check("Transfer-Encoding and Content-Length", 400,
          [b"POST /audit HTTP/1.1\r\n" + H + b"Transfer-Encoding: chunked\r\n"
           b"Content-Length: 5\r\n\r\n0\r\n\r\n"])
    # 505: well-formed versions other than 1.x; a later 1.x minor is
    # served as 1.1 (RFC 9112 2.3).
    for v in (b"HTTP/2.0", b"HTTP/0.9", b"HTTP/3.0"):
        check("version %s" % v.decode(), 505, [b"GET /latest " + v + b"\r\n" + H + b"\r\n"])
    check("version HTTP/1.2 served as 1.1", 200,
          [b"GET /healthz HTTP/1.2\r\n" + H + b"\r\n"], close=False,
          wait_close=0.3)
    # 429: POST /audit over audit_rate (2 a minute): the third, from an
    # address of its own (127.0.0.2: the cases above counted for
    # 127.0.0.1).
    post = b"POST /audit HTTP/1.1\r\n" + H + b"Content-Length: %d\r\n\r\n" % len(audit) + audit
    codes = []
    for i in range(2):
        r = exchange(host, port, [post], wait_close=0.3, source="127.0.0.2")
        codes.append(r.status)
    line = "%-4s 200 POST /audit twice within audit_rate: %s" % (
        "ok" if codes == [200, 200] else "FAIL", codes)
    print(line)
    if codes != [200, 200]:
        failed.append(line)
    check("POST /audit over audit_rate", 429, [post], close=None,
          header=("Retry-After", r"^\d+$"), wait_close=0.5, source="127.0.0.2")
    # And HTTP/1.0 is served.
    r = exchange(host, port, [b"GET /latest HTTP/1.0\r\n\r\n"])
    line = "%-4s 200 HTTP/1.0 GET /latest, then closed: %s" % (
        "ok" if r.status == 200 and r.closed else "FAIL", r.status)
    print(line)
    if not (r.status == 200 and r.closed):
        failed.append(line)
    return failed


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "flood" and len(args) == 4:
        asyncio.run(flood(args[0], int(args[1]), int(args[2]), args[3]))
    elif cmd == "maxconn" and len(args) == 4:
        sys.exit(asyncio.run(maxconn(args[0], int(args[1]), int(args[2]), int(args[3]))))
    elif cmd == "limits" and len(args) == 3:
        failed = limits(args[0], int(args[1]), args[2])
        print("limits: %d failed" % len(failed))
        sys.exit(1 if failed else 0)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
