#!/bin/sh
# A mirror sends at most [mirror] max_fetches client misses upstream at
# once (the hardening issue: every fetch an outsider can cause is
# bounded).  A counting proxy in front of tests/upstream delays each
# lookup and records how many were in flight at once: with
# max_fetches = 3, 24 concurrent distinct lookups through sumdbd must
# never have more than 3 upstream lookups in flight (and do have 3: they
# run side by side), and every one is still answered 200 with the
# upstream's record; queued misses of the same version join the queued
# job.
. "$(dirname "$0")/lib.sh"

UP=sumdb.upstream.example
upkey=$("$B/sumdbd" keygen -o "$T/up.key" $UP 2>/dev/null) || fail "keygen"
"$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example >/dev/null 2>&1
start_upstream -gen 3000

# The counting proxy: lookups wait 0.3 s; "max N" at /count.
cat >"$T/proxy.py" <<'EOP'
import http.server, socketserver, sys, threading, time, urllib.request
up = sys.argv[2]
lock = threading.Lock()
cur = peak = total = 0
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        pass
    def do_GET(self):
        global cur, peak, total
        if self.path == "/count":
            body = ("max %d total %d\n" % (peak, total)).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        look = self.path.startswith("/lookup/")
        if look:
            with lock:
                cur += 1
                total += 1
                peak = max(peak, cur)
            time.sleep(0.3)
        try:
            with urllib.request.urlopen(up + self.path) as r:
                status, body = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, body = e.code, e.read()
        if look:
            with lock:
                cur -= 1
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
s = S(("127.0.0.1", 0), H)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % s.server_address[1])
import os
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.serve_forever()
EOP
python3 "$T/proxy.py" "$T/pport" "http://127.0.0.1:$UPORT" >"$T/proxy.log" 2>&1 &
PIDS="$PIDS $!"
i=0
until [ -s "$T/pport" ]; do
	i=$((i + 1)); [ $i -lt 600 ] || fail "the proxy did not start: $(cat "$T/proxy.log")"
	sleep 0.1
done
PPORT=$(cat "$T/pport")
wait_url "http://127.0.0.1:$PPORT/latest"
start_daemon "[server]" "workers = 2" "[mirror $UP]" "key = $upkey" \
    "url = http://127.0.0.1:$PPORT" "max_fetches = 3" "fetch_timeout = 60s"
M=$URL/sumdb/$UP
[ "$(status "$M/latest")" = 200 ] || fail "latest"

cpids=
i=0
while [ $i -lt 24 ]; do
	k=$((i * 37 + 5))
	curl -s -o "$T/l.$i" -w '%{http_code}' "$M/lookup/example.com/gen/m$((k % 1000))@v1.0.$k" >"$T/s.$i" &
	cpids="$cpids $!"
	# A second client asks for the same version: it joins that job.
	if [ $((i % 6)) = 0 ]; then
		curl -s -o "$T/d.$i" "$M/lookup/example.com/gen/m$((k % 1000))@v1.0.$k" &
		cpids="$cpids $!"
	fi
	i=$((i + 1))
done
for p in $cpids; do wait "$p"; done
i=0
while [ $i -lt 24 ]; do
	k=$((i * 37 + 5))
	[ "$(cat "$T/s.$i")" = 200 ] || fail "lookup $i: $(cat "$T/s.$i") $(cat "$T/l.$i")"
	sed -n 2p "$T/l.$i" | grep -q "^example.com/gen/m$((k % 1000)) v1.0.$k h1:" ||
	    fail "lookup $i: not its record: $(head -3 "$T/l.$i")"
	[ $((i % 6)) != 0 ] || cmp -s "$T/l.$i" "$T/d.$i" || fail "the joined lookup $i differs"
	i=$((i + 1))
done
count=$(curl -s "http://127.0.0.1:$PPORT/count")
peak=${count#max }
peak=${peak%% *}
total=${count##* }
# 24 lookups held 0.3 s each reach the bound: the misses run side by
# side (a client that waited for each answer before the next would
# stay at 1).
[ "$peak" = 3 ] || fail "upstream lookups in flight at once: $count, want 3"
[ "$total" = 24 ] || fail "upstream lookups: $count, want 24 (duplicates joined)"
echo "$NAME: 28 concurrent lookups (24 distinct), max_fetches = 3: $peak upstream lookups in flight at most, $total in all, every answer the upstream's record: ok"
