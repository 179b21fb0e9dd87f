#!/usr/bin/env python3
"""tilecmp.py URL1 URL2 N: every tile of the tree of size N (hash tiles
of each level and data tiles, full ones and each level's right edge)
is fetched from both sumdb servers over keep-alive connections and
compared byte for byte.  Prints the count; exits 1 at the first
difference, 2 on errors."""
import http.client
import sys
import urllib.parse


def tile_path(level, n, w):
    s = "%03d" % (n % 1000)
    n //= 1000
    while n > 0:
        s = "x%03d/%s" % (n % 1000, s)
        n //= 1000
    lv = "data" if level < 0 else str(level)
    p = "tile/8/%s/%s" % (lv, s)
    if w < 256:
        p += ".p/%d" % w
    return p


def tiles(n):
    level = 0
    while (n >> (8 * level)) > 0:
        width = n >> (8 * level)
        for k in range(width >> 8):
            yield level, k, 256
        if width & 255:
            yield level, width >> 8, width & 255
        level += 1
    for k in range(n >> 8):
        yield -1, k, 256
    if n & 255:
        yield -1, n >> 8, n & 255


class Client:
    """One connection per request: keep-alive is not what is tested here
    (and a server whose second answer on a connection waits for a
    delayed ACK would make thousands of tiles take minutes)."""

    def __init__(self, url):
        u = urllib.parse.urlsplit(url)
        self.host, self.port, self.prefix = u.hostname, u.port, u.path.rstrip("/")

    def get(self, path):
        c = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            c.request("GET", self.prefix + "/" + path)
            r = c.getresponse()
            return r.status, r.read()
        finally:
            c.close()


def main():
    if len(sys.argv) != 4:
        sys.exit("usage: tilecmp.py URL1 URL2 N")
    a, b, n = Client(sys.argv[1]), Client(sys.argv[2]), int(sys.argv[3])
    count = 0
    for level, k, w in tiles(n):
        p = tile_path(level, k, w)
        sa, ba = a.get(p)
        sb, bb = b.get(p)
        if sa != 200 or sb != 200:
            print("%s: status %d and %d" % (p, sa, sb), file=sys.stderr)
            sys.exit(1)
        if ba != bb:
            print("%s: %d and %d bytes, they differ" % (p, len(ba), len(bb)),
                  file=sys.stderr)
            sys.exit(1)
        count += 1
    print(count)


if __name__ == "__main__":
    try:
        main()
    except (OSError, http.client.HTTPException) as e:
        print("tilecmp.py: %s" % e, file=sys.stderr)
        sys.exit(2)
