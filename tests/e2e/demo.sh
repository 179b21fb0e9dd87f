#!/bin/sh
# `make run`'s demo (tests/demo.sh), on ports and in a directory of its
# own: one GOSUMDB, the private log, for a private module (hashed from
# the GOPROXY) and a public one (admitted only as the mirrored test
# upstream's verified record).  With go 1.19, then go 1.24 on the state
# the first run kept: the go command builds with GOSUMDB set to the log
# alone; go.sum, the log's lookups and x/mod's client through the log
# agree; the public record is the upstream's, byte for byte, with its
# provenance; the private one has none and never reached the mirror;
# and the demo stops its daemon and upstream on SIGTERM.
. "$(dirname "$0")/lib.sh"

R=$(cd "$(dirname "$0")/../.." && pwd)
D=$T/demo
PUB=example.com/greet@v1.0.0
PRIV=corp.example/hello@v1.1.0
for GODIR in $GODIRS; do go_version; done

# demo_logs: what the demo printed, and the tails of its daemons' logs.
demo_logs() {
	cat "$T/demo.out"
	for f in sumdbd.log upstream.log go.log; do
		[ ! -f "$D/$f" ] || { echo "--- $f:"; tail -n 15 "$D/$f"; }
	done
}

# demo: run the demo with the go command in GODIR until it is ready;
# sets DEMO (its PID), URL and UURL.  A port taken: other ports.
demo() {
	for try in 1 2 3; do
		PORT=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000 ))
		UPORT=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000 ))
		URL=http://127.0.0.1:$PORT UURL=http://127.0.0.1:$UPORT
		(cd "$R" && DEMO_DIR=$D DEMO_LISTEN=127.0.0.1:$PORT \
		    DEMO_UPSTREAM=127.0.0.1:$UPORT SUMDBD=$B/sumdbd \
		    UPSTREAM=$B/upstream GO=$GODIR/bin/go \
		    exec sh tests/demo.sh) >"$T/demo.out" 2>&1 &
		DEMO=$!
		PIDS="$PIDS $DEMO"
		i=0
		while kill -0 "$DEMO" 2>/dev/null; do
			grep -q '^Ctrl-C stops' "$T/demo.out" && return 0
			i=$((i + 1))
			[ $i -lt 1200 ] || fail "the demo is not ready after 120 s: $(demo_logs)"
			sleep 0.1
		done
		wait "$DEMO"
		grep -qi 'address already in use' "$D/sumdbd.log" "$D/upstream.log" 2>/dev/null ||
		    fail "the demo exited: $(demo_logs)"
	done
	fail "the demo found no free ports"
}
sql() { sqlite3 "$T/demo/sumdbd.db" "$@"; }
# record BASE MODULE@VERSION: the record of a lookup answer.
record() { curl -sf "$1/lookup/$2" | sed -n '2,/^$/p' | sed '$d'; }

first=
for GODIR in $GODIRS; do
	go_version
	demo
	dpid=$(cat "$D/sumdbd.pid") upid=$(cat "$D/upstream.pid")
	grep -q "^The go command ($GOV)" "$T/demo.out" ||
	    fail "$GOV: the demo did not run it: $(head -12 "$T/demo.out")"
	grep -q 'which says "hello v1.1.0, greetings"' "$T/demo.out" ||
	    fail "$GOV: the program built: $(grep says "$T/demo.out")"
	# go.sum: both modules, printed as they are, and each module's
	# lines are the log's record.
	[ "$(wc -l <"$D/app/go.sum")" = 4 ] || fail "$GOV: go.sum: $(cat "$D/app/go.sum")"
	while read -r line; do
		grep -qxF "  $line" "$T/demo.out" || fail "$GOV: the demo does not print go.sum's '$line'"
	done <"$D/app/go.sum"
	for mv in $PRIV $PUB; do
		record "$URL" "$mv" >"$T/rec" || fail "$GOV: no lookup of $mv"
		grep "^${mv%@*} ${mv#*@}[ /]" "$D/app/go.sum" | cmp -s - "$T/rec" ||
		    fail "$GOV: $mv: go.sum is not the log's record: $(cat "$T/rec")"
	done
	# The public record is the upstream's, byte for byte, with its
	# provenance; the private one has none and is not in the mirror.
	record "$UURL" $PUB | cmp -s - "$T/rec" ||
	    fail "$GOV: $PUB: the log's record is not the upstream's"
	upid_rec=$(curl -sf "$UURL/lookup/$PUB" | head -1)
	prov=$(sql "SELECT p.upstream_id FROM provenance p, record r, log l, log m
	    WHERE l.name = 'sumdb.demo.example' AND m.name = 'sumdb.public.example'
	    AND r.log = l.id AND r.path = 'example.com/greet' AND p.log = l.id
	    AND p.id = r.id AND p.upstream = m.id")
	[ -n "$prov" ] && [ "$prov" = "$upid_rec" ] ||
	    fail "$GOV: $PUB: provenance '$prov', want the upstream's record $upid_rec"
	[ "$(sql "SELECT count(*) FROM provenance p, record r WHERE
	    r.path = 'corp.example/hello' AND p.log = r.log AND p.id = r.id")" = 0 ] ||
	    fail "$GOV: a private record has provenance"
	[ "$(sql "SELECT count(*) FROM record WHERE path LIKE 'corp.example/%'
	    AND log = (SELECT id FROM log WHERE name = 'sumdb.public.example')")" = 0 ] ||
	    fail "$GOV: the mirror holds a private record"
	# x/mod's client through the log, under the log's key, agrees.
	"$B/xmodref" client "$(cat "$D/vkey")" "$URL" $PRIV $PUB >"$T/xmod" 2>&1 ||
	    fail "$GOV: x/mod's client through the log: $(cat "$T/xmod")"
	cmp -s "$T/xmod" "$D/app/go.sum" || fail "$GOV: x/mod's lines: $(cat "$T/xmod")"
	# The state is kept: the second run adds nothing.
	n=$(sql "SELECT count(*) FROM record WHERE log = (SELECT id FROM log WHERE name = 'sumdb.demo.example')")
	[ "$n" = 2 ] || fail "$GOV: the log holds $n records, want 2"
	[ -z "$first" ] || cmp -s "$T/gosum.first" "$D/app/go.sum" ||
	    fail "$GOV: go.sum differs from the first run's"
	cp "$D/app/go.sum" "$T/gosum.first"
	# SIGTERM: the daemon and the upstream stop with the demo.
	kill "$DEMO"
	wait "$DEMO" 2>/dev/null
	wait_for sh -c "! kill -0 $dpid 2>/dev/null && ! kill -0 $upid 2>/dev/null" ||
	    fail "$GOV: the demo left its daemon or upstream running"
	# Under SAN=1 the daemon's reports land in the demo's log.
	! grep -q 'Sanitizer\|runtime error:' "$D/sumdbd.log" ||
	    fail "$GOV: sanitizer report from sumdbd: $(grep -A 20 'Sanitizer\|runtime error:' "$D/sumdbd.log" | head -40)"
	echo "$NAME: $GOV: one GOSUMDB: $PRIV hashed from the GOPROXY, $PUB the upstream's record with provenance, go.sum = the log = x/mod${first:+ (state kept)}: ok"
	first=1
done
