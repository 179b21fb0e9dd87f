#!/bin/sh
# sumdbd as a c2sp.org/tlog-witness (cosignature/v1): keygen --witness;
# every add-checkpoint answer, checked by a client built from Go's
# standard library and x/mod alone (xmodref witness, with x/mod 0.7.0
# and 0.19.0); concurrent submissions that never move the state back;
# the real sum.golang.org trees of both go command caches in
# tests/testdata/real, in order and out of order; the monitoring
# GET; the queue bound; config errors with file:line.  Acceptance 1 and
# 2 of the witness issue.
. "$(dirname "$0")/lib.sh"

REAL=tests/testdata/real
SUMKEY=sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8
"$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example >/dev/null 2>&1
wkey=$("$B/sumdbd" keygen --witness -o "$T/w.key" witness.test.example/w1 \
    2>/dev/null) || fail "keygen --witness"
# The vkey holds type 0x04 and the key ID of SHA-256(name \n 0x04 pub).
case $wkey in
witness.test.example/w1+????????+B*) ;;
*) fail "keygen --witness printed '$wkey'" ;;
esac
grep -q '^PRIVATE+KEY+witness.test.example/w1+' "$T/w.key" ||
    fail "no witness signing key written"
[ "$(stat -c %a "$T/w.key")" = 600 ] || fail "the witness key is not 0600"
for l in a b c d; do
	"$B/sumdbd" keygen -o "$T/$l.key" "log-$l.witnessed.example" \
	    >"$T/$l.vkey" 2>/dev/null || fail "keygen $l"
done
wlines() {
	echo "[witness]"
	echo "name = witness.test.example/w1"
	echo "key = $T/w.key"
	echo "max_pending = ${MAXP:-64}"
	for l in a b c d; do
		echo "[witness-log log-$l.witnessed.example]"
		echo "key = $(cat "$T/$l.vkey")"
	done
	# Every go.sum database's origin is the same: the key tells.
	echo "[witness-log corp.example]"
	echo "origin = go.sum database tree"
	echo "key = $(cat "$T/d.vkey")"
	echo "[witness-log sum.golang.org]"
	echo "origin = go.sum database tree"
	echo "key = $SUMKEY"
}
# start_daemon with the lines of wlines, each one argument.
start_witness() {
	nl='
'
	oifs=$IFS
	IFS=$nl
	set -- $(wlines)
	IFS=$oifs
	start_daemon "$@"
	W=$URL/witness
}
start_witness

# Every answer, for three fresh logs: x/mod 0.7.0 and 0.19.0 clients.
"$B/xmodref" witness conform "$W" "$wkey" "$(cat "$T/a.key")" \
    >"$T/conform" 2>&1 || fail "conformance (x/mod 0.7.0): $(tail -3 "$T/conform")"
cat "$T/conform"
"$B/xmodref19" witness conform "$W" "$wkey" "$(cat "$T/b.key")" \
    >"$T/conform19" 2>&1 || fail "conformance (x/mod 0.19.0): $(tail -3 "$T/conform19")"
tail -1 "$T/conform19"
# What the witness serves for monitoring: the checkpoint, cosigned.
[ "$("$B/xmodref" witness check "$W" "$wkey" "$(cat "$T/a.vkey")" \
    log-a.witnessed.example 40)" = 40 ] || fail "monitoring GET"
code=$(curl -s -o "$T/out" -w '%{http_code}' "$W/latest/nobody.example")
[ "$code" = 404 ] || fail "GET of an unknown log: $code"
echo "$NAME: GET $W/latest/NAME: the last cosigned checkpoint: ok"

# Concurrent submissions: one chain, never backwards.
"$B/xmodref" witness race "$W" "$wkey" "$(cat "$T/c.key")" 8 25 \
    >"$T/race" 2>&1 || fail "race: $(tail -3 "$T/race")"
cat "$T/race"

# sum.golang.org (origin "go.sum database tree", key sum.golang.org):
# the 2025 cache's trees, then on a fresh store the 2022 cache's.
"$B/xmodref" witness real "$W" "$wkey" "$SUMKEY" "$REAL/cache-2025-tree42965376" \
    >"$T/real" 2>&1 || fail "real 2025: $(tail -3 "$T/real")"
cat "$T/real"
stop_daemon
mv "$T/sumdbd.db" "$T/first.db"
rm -f "$T/sumdbd.db-wal" "$T/sumdbd.db-shm"
restart_daemon
"$B/xmodref19" witness real "$W" "$wkey" "$SUMKEY" "$REAL/cache-2022-tree9039468" \
    >"$T/real" 2>&1 || fail "real 2022: $(tail -3 "$T/real")"
cat "$T/real"

# Bounds: a body over 64 KiB is 413; with the main thread held (the
# store locked by another process), at most max_pending (2) requests
# wait and the next get 503 with Retry-After.
stop_daemon
MAXP=2
start_witness
head -c 70000 /dev/zero | tr '\0' 'a' >"$T/big"
code=$(curl -s -o "$T/out" -w '%{http_code}' --data-binary @"$T/big" "$W/add-checkpoint")
[ "$code" = 413 ] || fail "a 70000-byte body: $code"
[ "$(wc -l <"$T/out")" = 1 ] || fail "413 body: $(cat "$T/out")"
printf 'log-d.witnessed.example\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n' \
    >"$T/empty"
{ printf 'old 0\n\n'; "$B/xmodref" sign "$T/d.key" "$T/empty"; } >"$T/small"
(echo "BEGIN IMMEDIATE;"; sleep 2; echo "COMMIT;") | sqlite3 "$T/sumdbd.db" &
LOCKPID=$!
sleep 0.3
for i in 1 2 3 4 5; do
	curl -s -o /dev/null -w '%{http_code}\n' --data-binary @"$T/small" \
	    "$W/add-checkpoint" >"$T/q.$i" &
	eval "QPID$i=\$!"
	sleep 0.1
done
wait "$LOCKPID"
for i in 1 2 3 4 5; do eval "wait \$QPID$i"; done
n503=$(cat "$T"/q.* | grep -c 503)
n200=$(cat "$T"/q.* | grep -c 200)
[ "$n503" = 3 ] && [ "$n200" = 2 ] ||
    fail "queue bound 2: $(cat "$T"/q.* | tr '\n' ' ')"
echo "$NAME: 413 over 64 KiB; 2 queued, 3 refused with 503 while the store was locked: ok"
curl -s "$URL/metrics" >"$T/metrics"
grep -q '^sumdbd_witness_answers_total{code="200"} [1-9]' "$T/metrics" ||
    fail "no witness metrics"
stop_daemon

# Configuration errors name their line.
bad() {
	write_config "$T/bad.conf" 1 "$@"
	"$B/sumdbd" -n -c "$T/bad.conf" >"$T/bad.out" 2>&1 && fail "config accepted: $*"
	grep -q "$T/bad.conf:[0-9]*: " "$T/bad.out" || fail "no file:line: $(cat "$T/bad.out")"
}
bad "[witness-log x.example]" "key = $(cat "$T/a.vkey")"
bad "[witness]" "name = witness.test.example/w1"
bad "[witness-log x.example]" "url = http://x"
echo "$NAME: config errors with file:line: ok"
# A log's key where the witness key goes, or a witness key for a log.
write_config "$T/bad.conf" 1 "[witness]" "name = log-a.witnessed.example" \
    "key = $T/a.key"
"$B/sumdbd" -d -c "$T/bad.conf" >"$T/bad.out" 2>&1 && fail "a log key accepted as the witness key"
grep -q "not a PRIVATE+KEY+... witness (cosignature/v1) key" "$T/bad.out" ||
    fail "log key as witness key: $(cat "$T/bad.out")"
cp "$T/w.key" "$T/log.key"
write_config "$T/bad.conf" 1
"$B/sumdbd" -d -c "$T/bad.conf" >"$T/bad.out" 2>&1 && fail "a witness key accepted as the log key"
grep -q "not a PRIVATE+KEY+... Ed25519 key" "$T/bad.out" ||
    fail "witness key as log key: $(cat "$T/bad.out")"
echo "$NAME: keys of the wrong kind refused: ok"
