#!/usr/bin/env python3
"""A link with a fixed one-way delay, for kernels without netem.

    netdelay.py NETNS DEV0 DEV1 DELAY_MS

Makes the TUN device DEV0 in our network namespace and DEV1 in NETNS
(/run/netns/NETNS, made with ip netns add), prints "ready", then passes
every packet from one to the other DELAY_MS later, in order: the round
trip over the pair is twice DELAY_MS, and TCP sees it (its windows and
slow start), as over a real link.  The caller gives the devices their
addresses; they vanish when this program exits (on SIGTERM).  Used by
tests/bench-sync.sh when tc's netem qdisc is missing.
"""
import collections
import ctypes
import fcntl
import os
import select
import signal
import struct
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000
CLONE_NEWNET = 0x40000000


def tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    os.set_blocking(fd, False)
    return fd


def setns(path):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "setns %s: %s" % (path, os.strerror(e)))
    os.close(fd)


def main():
    if len(sys.argv) != 5:
        sys.exit("usage: netdelay.py NETNS DEV0 DEV1 DELAY_MS")
    ns, dev0, dev1, delay = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4]) / 1000
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
    home = "/proc/self/ns/net"
    homefd = os.open(home, os.O_RDONLY)
    a = tun(dev0)
    setns("/run/netns/" + ns)
    b = tun(dev1)
    setns("/proc/self/fd/%d" % homefd)
    print("ready", flush=True)
    peer = {a: b, b: a}
    queue = {a: collections.deque(), b: collections.deque()}  # to send to the key
    while True:
        now = time.monotonic()
        timeout = None
        for fd, q in queue.items():
            while q and q[0][0] <= now:
                try:
                    os.write(fd, q[0][1])
                except BlockingIOError:
                    break
                q.popleft()
            if q:
                wait = max(q[0][0] - now, 0)
                timeout = wait if timeout is None else min(timeout, wait)
        r, _, _ = select.select([a, b], [], [], timeout)
        now = time.monotonic()
        for fd in r:
            for _ in range(64):
                try:
                    p = os.read(fd, 65536)
                except BlockingIOError:
                    break
                queue[peer[fd]].append((now + delay, p))


if __name__ == "__main__":
    main()
