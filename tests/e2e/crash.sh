#!/bin/sh
# Restarts and SIGKILL in the middle of bursts of appends: afterwards
# the daemon signs again, every checkpoint served before the kill is
# contained in the new tree (checked with x/mod through the tiles), all
# the lookups succeed, and a go client that cached an old checkpoint
# accepts the new records.  Acceptance 4 of the private log issue.
. "$(dirname "$0")/lib.sh"

ROUNDS=${SUMDB_CRASH_ROUNDS:-20}
PER=8
mkdir -p "$T/home" "$T/notes"
mods="example.com/hello@v1.0.0 example.com/later@v1.0.0 example.com/later@v1.0.1"
i=0
while [ $i -lt $((ROUNDS * PER + 1)) ]; do
	mods="$mods example.com/burst@v1.0.$i"
	i=$((i + 1))
done
"$B/xmodref" modtree "$T/proxy" $mods >/dev/null || fail "module tree"
vkey=$("$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example 2>/dev/null) ||
    fail "keygen"
start_daemon

gomod() {
	mkdir -p "$T/c"
	printf 'module example.com/c\n\ngo 1.19\n\nrequire %s %s\n' "$1" "$2" \
	    >"$T/c/go.mod"
	rm -f "$T/c/go.sum"
	(cd "$T/c" && goenv "$T/gp" GOPROXY="file://$T/proxy" \
	    GOSUMDB="$vkey $URL" go mod download all) >"$T/out" 2>&1 ||
	    fail "go mod download $1@$2: $(cat "$T/out")"
}

# A client that caches the log's checkpoint, then a clean restart.
gomod example.com/hello v1.0.0
stop_daemon
restart_daemon
gomod example.com/later v1.0.0
echo "$NAME: restart: the same go client accepts new records: ok"

round=0
kills=0
while [ $round -lt $ROUNDS ]; do
	# A burst of concurrent lookups of new versions, /latest polled.
	k=0
	while [ $k -lt $PER ]; do
		v=$((round * PER + k))
		curl -s -o /dev/null "$URL/lookup/example.com/burst@v1.0.$v" &
		k=$((k + 1))
	done
	(j=0; while [ $j -lt 20 ]; do
		curl -sf -o "$T/notes/$round.$j" "$URL/latest" || rm -f "$T/notes/$round.$j"
		j=$((j + 1))
	done) &
	sleep "0.$(( $(od -An -N1 -tu1 /dev/urandom) % 25 ))"
	kill -9 "$DPID"
	kills=$((kills + 1))
	wait 2>/dev/null
	restart_daemon
	# The store is whole.
	"$B/sumdbd" fsck -c "$T/sumdbd.conf" >"$T/out" 2>&1 ||
	    fail "round $round: fsck: $(cat "$T/out")"
	# Nothing served before the kill is contradicted (an early kill may
	# come before any /latest was answered: nothing to check yet).
	if [ -n "$(ls "$T/notes")" ]; then
		"$B/xmodref" consistent "$vkey" "$URL" "$T"/notes/* >"$T/out" 2>&1 ||
		    fail "round $round: $(cat "$T/out")"
	fi
	# And the work completes.
	k=0
	while [ $k -lt $PER ]; do
		v=$((round * PER + k))
		s=$(status "$URL/lookup/example.com/burst@v1.0.$v")
		[ "$s" = 200 ] || fail "round $round: lookup of burst v1.0.$v: $s"
		k=$((k + 1))
	done
	round=$((round + 1))
done
notes=$(ls "$T/notes" | wc -l)
[ "$notes" -gt 0 ] || fail "no /latest answered before any of the kills"
"$B/xmodref" consistent "$vkey" "$URL" "$T"/notes/* >/dev/null ||
    fail "final consistency"
gomod example.com/burst "v1.0.$((ROUNDS * PER))"
gomod example.com/later v1.0.1
echo "$NAME: $kills kills with SIGKILL during appends, fsck clean after each, $notes checkpoints served before them all consistent, the go client's cached checkpoint still valid: ok"
