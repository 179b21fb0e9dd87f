#!/bin/sh
# A full mirror of a 1,000,000-record upstream, killed with SIGKILL
# midway and restarted, finishes with the upstream's exact tree; then,
# offline and with the upstream stopped, the go command still verifies
# modules through it.  Acceptance 4 of the mirror issue.
. "$(dirname "$0")/lib.sh"

UP=sumdb.upstream.example
N=${SUMDB_FULL_RECORDS:-1000000}
mkdir -p "$T/home"
"$B/xmodref" modtree "$T/proxy" example.com/hello@v1.0.0 \
    example.com/Upper/Mixed@v1.0.0 example.com/legacy@v2.0.0+incompatible \
    >"$T/hashes" || fail "module tree"
# A real-size module too (x/tools), with the go command's hashes.
realmod_add "$T/proxy" xtools
realmod_hashes xtools >>"$T/hashes"
upkey=$("$B/sumdbd" keygen -o "$T/up.key" $UP 2>/dev/null) || fail "keygen"
"$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example >/dev/null 2>&1
start_upstream -gen $((N - 4)) -mods "$T/hashes"
U=http://127.0.0.1:$UPORT
start_daemon "[mirror $UP]" "key = $upkey" "url = $U" "mode = full" "poll = 1s" \
    "fetch_timeout = 1s"
M=$URL/sumdb/$UP
next() { sqlite3 "$T/sumdbd.db" "SELECT full_next FROM log WHERE name = '$UP'" 2>/dev/null || echo 0; }

# The upstream goes away mid-sync, and comes back.
i=0
until [ "$(next)" -ge $((N / 8)) ]; do
	i=$((i + 1)); [ $i -lt 1200 ] || fail "full sync made no progress: $(next)"
	sleep 0.1
done
kill -STOP "$UPID"
sleep 2.5
stalled_at=$(next)
kill -CONT "$UPID"
# Kill it midway.
i=0
until [ "$(next)" -ge $((N / 4)) ] && [ "$(next)" -gt "$stalled_at" ]; do
	i=$((i + 1)); [ $i -lt 1200 ] || fail "full sync made no progress: $(next)"
	sleep 0.1
done
kill -9 "$DPID"
wait "$DPID" 2>/dev/null
killed_at=$(next)
grep -q 'full sync stopped at record' "$T/daemon.log" ||
    fail "the absence of the upstream did not stop the sync"
[ "$killed_at" -lt "$N" ] || fail "the kill came too late to test a resume"
restart_daemon
i=0
until [ "$(next)" = "$N" ]; do
	i=$((i + 1)); [ $i -lt 1800 ] || fail "full sync did not finish: $(next) of $N"
	sleep 0.1
done
i=0
until grep -q "full: $N of $N records" "$T/daemon.log"; do
	i=$((i + 1)); [ $i -lt 50 ] || fail "no progress line"
	sleep 0.1
done
[ "$(curl -s "$M/latest")" = "$(curl -s "$U/latest")" ] || fail "not the upstream's checkpoint"
curl -s "$URL/metrics" | grep -q "sumdbd_full_records{db=\"$UP\"} $N" || fail "metrics progress"
curl -s "$URL/metrics" | grep -q "sumdbd_full_eta_seconds{db=\"$UP\"} 0" || fail "metrics ETA"
# Kept as record texts only, all N indexed for lookups in bulk.
sq() { sqlite3 "$T/sumdbd.db" "$1" 2>&1; }
[ "$(sq "SELECT indexed FROM log WHERE name = '$UP'")" = "$N" ] ||
    fail "not $N records indexed: $(sq "SELECT indexed FROM log WHERE name = '$UP'")"
# Keys as rows and as 16-byte entries of the current blocks.
[ "$(sq "SELECT (SELECT count(*) FROM lookup k JOIN log l ON k.log = l.id WHERE l.name = '$UP') + (SELECT coalesce(sum(length(b.data)), 0) / 16 FROM lookup_block b JOIN log l ON b.log = l.id AND b.gen = l.blocks WHERE l.name = '$UP')")" = "$N" ] ||
    fail "not $N lookup keys"
[ "$(sq "SELECT count(*) FROM rtext WHERE k >> 40 = (SELECT id FROM log WHERE name = '$UP')")" = "$N" ] ||
    fail "not $N record texts stored"
[ "$(sq "SELECT count(*) FROM record r JOIN log l ON r.log = l.id WHERE l.name = '$UP'")" = 0 ] ||
    fail "a full sync stored record rows"
# The stored tree is the upstream's, tile for tile.
for k in 000 001 $(printf '%03d' $(( (N / 256 / 2) % 1000 ))) \
    "x$(printf '%03d' $(( N / 256 / 1000 )))/$(printf '%03d' $(( (N / 256 - 1) % 1000 )))"; do
	for p in "tile/8/0/$k" "tile/8/data/$k"; do
		curl -s "$M/$p" | cmp -s - "$T/u" 2>/dev/null
		curl -s "$U/$p" >"$T/u"
		curl -s "$M/$p" | cmp -s - "$T/u" || fail "$p differs from the upstream's"
	done
done
for p in tile/8/1/000 tile/8/1/001 "tile/8/2/000.p/$(( N >> 16 ))"; do
	curl -s "$U/$p" >"$T/u"
	curl -s "$M/$p" | cmp -s - "$T/u" || fail "$p differs from the upstream's"
done
"$B/sumdbd" fsck -c "$T/sumdbd.conf" >"$T/out" 2>&1 || fail "fsck: $(cat "$T/out")"
grep -q "$UP: $N records, 0 problems" "$T/out" || fail "fsck: $(cat "$T/out")"
echo "$NAME: full mirror of $N records, upstream gone at record $stalled_at, SIGKILL at record $killed_at, resumed to the upstream's exact tree: ok"

# Offline, the upstream gone: the go command verifies through it.
kill "$UPID"
stop_daemon
restart_daemon_with "[mirror $UP]" "key = $upkey" "url = $U" "mode = full" \
    "offline = yes"
offline_go() {
	consumer "$T/c.$GOV"
	realmod_require "$T/c.$GOV" xtools
	(cd "$T/c.$GOV" && goenv "$T/gp.$GOV" GOPROXY="file://$T/proxy" \
	    GOSUMDB="$upkey $M" go mod download all) >"$T/out" 2>&1 ||
	    fail "go mod download through the offline mirror: $(cat "$T/out")"
	while read -r p v zh mh; do
		grep -qxF "$p $v $zh" "$T/c.$GOV/go.sum" ||
		    fail "go.sum: no '$p $v $zh'"
	done <"$T/hashes"
	realmod_gosum xtools "$T/c.$GOV/go.sum"
}
for_each_go offline_go
"$B/xmodref" client "$upkey" "$M" example.com/gen/m7@v1.0.7 \
    "example.com/gen/m$(( (N - 5) % 1000 ))@v1.0.$((N - 5))" >/dev/null ||
    fail "x/mod's client through the offline mirror"
curl -s "$M/lookup/example.com/none@v1.0.0" | grep -q "not in mirrored log at tree $N" ||
    fail "offline miss"
realmod_lookup "$M" xtools
echo "$NAME: offline with the upstream stopped, the go command ($GOVS) verifies through the full mirror: ok"
