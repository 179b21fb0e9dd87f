#!/bin/sh
# One misbehaving client cannot exhaust the daemon (the hardening issue,
# items 1, 2, 5 and 6), with tests/abuse.py:
#  1. 60,000 pipelined GET /metrics on one connection that never reads:
#     the daemon stops reading it, its RSS grows less than 64 MiB, and
#     pipelining still answers every request in order;
#  2. POST /audit of 22,800 lines (half of them real records, half the
#     short "a v h1:" lines that made the sibling search quadratic)
#     completes with the right summary, and /healthz on the same (only)
#     worker is answered while it runs; audit_max_lines is a 413;
#  5. max_connections_per_client: one connection too many from an
#     address is a 503 with Retry-After, other addresses are served;
#  6. SIGHUP changing [log] private while audits run (under SAN=1, ASan
#     watches the worker reading its own copy).
. "$(dirname "$0")/lib.sh"

PY="python3 $(dirname "$0")/../abuse.py"
mods=
i=0
while [ $i -lt 40 ]; do
	mods="$mods example.com/abuse/m$((i % 7))@v1.0.$i"
	i=$((i + 1))
done
"$B/xmodref" modtree "$T/proxy" $mods >"$T/hashes" || fail "module tree"
# And a real-size module (x/mod's tree), with the go command's hashes.
realmod_add "$T/proxy" xmod
realmod_hashes xmod >>"$T/hashes"
"$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example >/dev/null 2>&1 || fail "keygen"
write_config "$T/sumdbd.conf" 1
"$B/sumdbd" add -c "$T/sumdbd.conf" $mods $(realmod_mv xmod) >"$T/out" 2>&1 ||
    fail "add: $(cat "$T/out")"
start_daemon "[server]" "workers = 1" "audit_max_body = 1M" "audit_rate = 1000"

# 1. The pipelining flood.
$PY pipeline 127.0.0.1 "$PORT" "$DPID" 60000 8 >"$T/pipe" 2>&1 ||
    fail "pipelining: $(cat "$T/pipe")"
grow=$(sed -n 's/.*rss +\([0-9]*\) KiB/\1/p' "$T/pipe")
[ -n "$grow" ] && [ "$grow" -lt 65536 ] || fail "pipelining: $(cat "$T/pipe")"
kill -0 "$DPID" || fail "the daemon died"
sed "s/^/$NAME: /" "$T/pipe"
echo "$NAME: 60,000 pipelined requests never read: RSS +$grow KiB (< 64 MiB): ok"

# 2. A 22,800-line audit, /healthz answered meanwhile.
awk '{ printf "%s %s %s\n%s %s/go.mod %s\n", $1, $2, $3, $1, $2, $4 }' \
    "$T/hashes" >"$T/real.sum"
python3 - "$T/real.sum" "$T/big.sum" <<'EOP'
import sys
real = open(sys.argv[1]).read().splitlines()
out = []
for i in range(11400):
    out.append(real[i % len(real)])
    out.append("a v h1:" if i % 2 else "a v/go.mod h1:")
open(sys.argv[2], "w").write("\n".join(out) + "\n")
EOP
[ "$(wc -l <"$T/big.sum")" = 22800 ] || fail "the go.sum is not 22,800 lines"
$PY audit 127.0.0.1 "$PORT" "$T/big.sum" >"$T/audit" 2>&1 ||
    fail "audit: $(cat "$T/audit")"
grep -qxF '{"mismatch": 0, "skipped": 11400, "unknown": 0, "verified": 11400}' "$T/audit" ||
    fail "audit summary: $(cat "$T/audit")"
sed -n "1s/^/$NAME: /p" "$T/audit"
echo "$NAME: a 22,800-line audit completes, /healthz answered while it runs: ok"

# The line cap: 413, one line.
stop_daemon
restart_daemon_with "[server]" "workers = 1" "audit_max_body = 1M" \
    "audit_rate = 1000" "audit_max_lines = 1000"
head -n 1001 "$T/big.sum" >"$T/1001.sum"
s=$(curl -s -o "$T/body" -w '%{http_code}' --data-binary @"$T/1001.sum" "$URL/audit")
[ "$s" = 413 ] && [ "$(cat "$T/body")" = "go.sum has more than 1000 lines" ] ||
    fail "audit_max_lines: $s $(cat "$T/body")"
head -n 1000 "$T/big.sum" >"$T/1000.sum"
s=$(curl -s -o /dev/null -w '%{http_code}' --data-binary @"$T/1000.sum" "$URL/audit")
[ "$s" = 200 ] || fail "1,000 lines: $s"
echo "$NAME: audit_max_lines = 1000: 1,001 lines are a 413, 1,000 are answered: ok"

# 5. Connections per client address, over two workers.
stop_daemon
restart_daemon_with "[server]" "workers = 2" "max_connections_per_client = 4"
$PY peercap 127.0.0.1 "$PORT" 4 >"$T/cap" 2>&1 || fail "peercap: $(cat "$T/cap")"
sed "s/^/$NAME: /" "$T/cap"
echo "$NAME: max_connections_per_client = 4 over 2 workers: the fifth is a 503, others served: ok"

# 6. Reloads that free the old [log] private while audits read it.
stop_daemon
PRIVATE="corp.example/*" restart_daemon_with "[server]" "workers = 2" \
    "audit_max_body = 1M" "audit_rate = 100000"
reloaded() { [ "$(grep -c "private changed: applied" "$T/daemon.log")" -gt "$n" ]; }
k=0
cpids=
while [ $k -lt 20 ]; do
	curl -s -o /dev/null --data-binary @"$T/big.sum" "$URL/audit" &
	cpids="$cpids $!"
	curl -s -o /dev/null --data-binary @"$T/real.sum" "$URL/audit" &
	cpids="$cpids $!"
	n=$(grep -c "private changed: applied" "$T/daemon.log")
	PRIVATE="corp$k.example/*,example.com/abuse/m$((k % 7))" \
	    write_config "$T/sumdbd.conf" "$PORT" "[server]" "workers = 2" \
	    "audit_max_body = 1M" "audit_rate = 100000"
	kill -HUP "$DPID"
	wait_for reloaded || fail "no reload"
	k=$((k + 1))
done
for p in $cpids; do wait "$p"; done
s=$(curl -s -o "$T/out.json" -w '%{http_code}' --data-binary @"$T/real.sum" "$URL/audit")
[ "$s" = 200 ] || fail "audit after the reloads: $s"
python3 - "$T/out.json" <<'EOP' || fail "audit after the reloads skips the new private path"
import json, sys
d = json.load(open(sys.argv[1]))
skipped = {l["module"] for l in d["lines"] if l["status"] == "skipped"}
assert skipped == {"example.com/abuse/m5"}, skipped
EOP
kill -0 "$DPID" || fail "the daemon died"
echo "$NAME: 20 SIGHUPs changing [log] private during 40 audits; the last pattern applies: ok"

# Logged paths come from outside: control characters are escaped, so a
# request cannot forge a log line or drive a terminal (under -v).
stop_daemon
VERBOSE=1 restart_daemon_with
curl -s -o /dev/null "$URL/lookup/example.com/x%0aFORGED%1b%5b31m@v1.0.0"
wait_for grep -q 'x\\x0aFORGED\\x1b\[31m@v1.0.0' "$T/daemon.log" ||
    fail "the path was not logged escaped: $(grep -a FORGED "$T/daemon.log")"
! grep -q '^FORGED' "$T/daemon.log" && ! grep -q "$(printf '\033')" "$T/daemon.log" ||
    fail "a raw newline or escape reached the log"
echo "$NAME: control characters in a logged path are escaped: ok"
