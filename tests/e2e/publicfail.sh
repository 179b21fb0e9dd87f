#!/bin/sh
# Public module versions in the private log when the mirror cannot vouch
# for them (issue 14, acceptance 5 and 6).  The upstream forks: the
# mirror freezes, the log refuses new public versions with 503 and its
# reason, serves those admitted before, still admits private paths, and
# appends nothing inconsistent; the upstream unreachable: 503 with
# Retry-After.  Then a second sumdbd, offline, whose full mirror is fed
# only by bundles, admits public (bundled) and private versions with no
# egress, and the go command builds through it; a public version the
# bundles lack gets 404 with the reason.
. "$(dirname "$0")/lib.sh"

UP=sumdb.upstream.example
PRIVATE='corp.example/*,example.com/real/xmod'
mkdir -p "$T/home"
# Public: three test modules and x/tools (2.4 MB), all in the upstream's
# log and in the internal GOPROXY; private: corp.example/lib and the
# real-size x/mod (150 KB), in the GOPROXY only.
"$B/xmodref" modtree "$T/proxy" example.com/hello@v1.0.0 \
    example.com/Upper/Mixed@v1.0.0 example.com/legacy@v2.0.0+incompatible \
    >"$T/hashes" || fail "module tree"
realmod_add "$T/proxy" xtools xmod
realmod_hashes xtools >>"$T/hashes"
"$B/xmodref" modtree "$T/proxy" corp.example/lib@v1.0.0 corp.example/lib@v1.1.0 \
    corp.example/lib@v1.2.0 corp.example/lib@v1.3.0 corp.example/lib@v1.4.0 \
    >"$T/private" || fail "private module tree"
upkey=$("$B/sumdbd" keygen -o "$T/up.key" $UP 2>/dev/null) || fail "keygen"
vkey=$("$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example 2>/dev/null) ||
    fail "keygen"
GEN=1000
start_upstream -gen $GEN -mods "$T/hashes"
U=http://127.0.0.1:$UPORT
NREC=$((GEN + 4))
grow() {
	curl -sf -o /dev/null "$U/admin/grow?n=$1" || fail "grow"
	NREC=$((NREC + $1))
}
attack() { curl -sf -o /dev/null "$U/admin/attack?kind=$1" || fail "attack $1"; }

# esc M@V: M@V as a URL names it ("!u" for "U").
esc() { echo "$1" | sed 's/[A-Z]/!&/g' | tr A-Z a-z; }
# rectext FILE: the record text of a /lookup answer (its lines after
# the id, up to the blank line).
rectext() { sed -n '2,/^$/p' "$1" | sed '$d'; }
# uptext M@V: the upstream's own record text of M@V, kept in $T/up.M@V.
uptext() {
	f=$T/up.$(echo "$1" | tr / _)
	curl -sf -o "$f.lk" "$U/lookup/$(esc "$1")" || fail "the upstream's lookup of $1"
	rectext "$f.lk" >"$f"
}
# lookup BASE M@V [CODE]: GET BASE/lookup/M@V into $T/lk (headers in
# $T/lk.h); the status must be CODE (default 200).
lookup() {
	s=$(curl -s -D "$T/lk.h" -o "$T/lk" -w '%{http_code}' "$1/lookup/$(esc "$2")")
	[ "$s" = "${3:-200}" ] || fail "lookup of $2: $s, want ${3:-200}: $(head -c 300 "$T/lk")"
}
# same_as_upstream M@V: $T/lk holds the upstream's record text of M@V,
# byte for byte.
same_as_upstream() {
	rectext "$T/lk" | cmp -s - "$T/up.$(echo "$1" | tr / _)" ||
	    fail "$1: the log's record is not the upstream's: $(rectext "$T/lk")"
}
# refusal WANT: $T/lk is one line that begins with WANT.
refusal() {
	[ "$(wc -l <"$T/lk")" -le 1 ] && head -c ${#1} "$T/lk" | grep -qxF "$1" ||
	    fail "refusal: got '$(head -c 300 "$T/lk")', want '$1...'"
}

# The store's view of a log.  PUB is the SQL test for a public path.
PUB="path NOT LIKE 'corp.example/%' AND path <> 'example.com/real/xmod'"
q() { sqlite3 "$1" "$2" || fail "sqlite3 $1: $2"; }
# pubrecs DB LOG: the public records of LOG, id, path, version and text.
pubrecs() {
	q "$1" "SELECT r.id, r.path, r.version, hex(r.text) FROM record r
	    JOIN log l ON r.log = l.id WHERE l.name = '$2' AND $PUB ORDER BY r.id"
}

# F: a full mirror of the upstream and nothing else, whose store only
# ever feeds bundles to the offline instance below.
cat >"$T/f.conf" <<EOC
[server]
listen = 127.0.0.1:1
database = $T/f.db
[mirror $UP]
key = $upkey
url = $U
mode = full
poll = 1s
EOC
start_conf "$T/f.conf" "$T/f.log" "sumdb/$UP/latest"
FPID=$OPID
fullnext() { sqlite3 "$T/f.db" "SELECT full_next FROM log WHERE name = '$UP'" 2>/dev/null || echo 0; }
fullat() {
	i=0
	until [ "$(fullnext)" = "$1" ]; do
		i=$((i + 1)); [ $i -lt 300 ] || fail "F is at $(fullnext), not $1"
		sleep 0.1
	done
}
fullat $NREC
"$B/sumdbd" export -c "$T/f.conf" --db $UP "$T/b1" >"$T/out" 2>&1 ||
    fail "export: $(cat "$T/out")"
B1=$NREC
grow 10		# in the second bundle
fullat $NREC
"$B/sumdbd" export -c "$T/f.conf" --db $UP --from $B1 "$T/b2" >"$T/out" 2>&1 ||
    fail "export 2: $(cat "$T/out")"
INB2=example.com/gen/m3@v1.0.$((GEN + 3))
grow 5		# in no bundle
NOTB=example.com/gen/m12@v1.0.$((GEN + 12))
kill "$FPID"; wait "$FPID" 2>/dev/null
for mv in example.com/hello@v1.0.0 example.com/Upper/Mixed@v1.0.0 \
    example.com/legacy@v2.0.0+incompatible "$(realmod_mv xtools)" "$INB2" \
    "$NOTB" example.com/gen/m5@v1.0.5 example.com/gen/m7@v1.0.7 \
    example.com/gen/m9@v1.0.9; do
	uptext "$mv"
done

# 5. The private log with a lazy, online mirror of the upstream, the one
# [mirror]: public = the mirror.
start_daemon "[mirror $UP]" "key = $upkey" "url = $U" "poll = 1s" \
    "fetch_timeout = 1s"
M=$URL/sumdb/$UP
for mv in example.com/hello@v1.0.0 example.com/Upper/Mixed@v1.0.0 \
    example.com/legacy@v2.0.0+incompatible example.com/gen/m5@v1.0.5; do
	lookup "$URL" "$mv"
	same_as_upstream "$mv"
	cp "$T/lk" "$T/before.$(echo "$mv" | tr / _)"
done
lookup "$URL" corp.example/lib@v1.0.0
# Held by the mirror (looked up through it), not yet by the log.
lookup "$M" example.com/gen/m9@v1.0.9
provenance_ok "$T/sumdbd.db" sumdb.test.example $UP "$PUB"
pubrecs "$T/sumdbd.db" sumdb.test.example >"$T/pub.before"
[ "$(wc -l <"$T/pub.before")" = 4 ] || fail "want 4 public records: $(cat "$T/pub.before")"
REFUSED="public module versions are not admitted now: mirror '$UP'"
refused() {
	curl -s "$URL/metrics" | sed -n "s/^sumdbd_log_public_refused_total{reason=\"$1\"} //p"
}

# frozen_round KIND PRIVATE: the upstream forks (attack KIND) and the
# mirror freezes; the log refuses every new public version, serves the
# admitted ones, admits the private version PRIVATE, and its public
# records stay as they were.
frozen_round() {
	wait_for sh -c "[ \"\$(curl -s $M/latest | sed -n 2p)\" = $NREC ]" ||
	    fail "$1: the mirror is not at the upstream's tree"
	mbefore=$(curl -s "$M/latest")
	n0=$(refused unavailable)
	attack "$1"
	wait_for sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' $URL/healthz) = 503 ]" ||
	    fail "$1: the mirror did not freeze"
	curl -s "$URL/healthz" | grep -q "$UP frozen" || fail "$1: healthz reason"
	# New versions, the upstream's and the mirror's own alike, asked
	# by several clients at once.
	for mv in example.com/gen/m7@v1.0.7 example.com/gen/m9@v1.0.9; do
		cpids=
		for c in 1 2 3; do
			curl -s -o "$T/par.$c" -w '%{http_code}' \
			    "$URL/lookup/$mv" >"$T/par.$c.code" &
			cpids="$cpids $!"
		done
		wait $cpids
		for c in 1 2 3; do
			[ "$(cat "$T/par.$c.code")" = 503 ] ||
			    fail "$1: $mv: $(cat "$T/par.$c.code"), want 503"
			cp "$T/par.$c" "$T/lk"
			refusal "$REFUSED"
		done
		lookup "$URL" "$mv" 503
		refusal "$REFUSED"
	done
	[ "$(refused unavailable)" -ge $((n0 + 8)) ] ||
	    fail "$1: sumdbd_log_public_refused_total{reason=\"unavailable\"} $(refused unavailable), want >= $((n0 + 8))"
	# Those admitted before: the same id and record.
	for f in "$T"/before.*; do
		mv=$(echo "${f#$T/before.}" | tr _ /)
		lookup "$URL" "$mv"
		[ "$(head -1 "$T/lk")" = "$(head -1 "$f")" ] &&
		    rectext "$T/lk" | cmp -s - "$T/up.${f#$T/before.}" ||
		    fail "$1: $mv served differently while frozen"
	done
	lookup "$URL" "$2"
	"$B/xmodref" client "$vkey" "$URL" "$2" example.com/hello@v1.0.0 \
	    >"$T/out" 2>&1 || fail "$1: x/mod's client: $(cat "$T/out")"
	pubrecs "$T/sumdbd.db" sumdb.test.example | cmp -s - "$T/pub.before" ||
	    fail "$1: public records changed while frozen"
	provenance_ok "$T/sumdbd.db" sumdb.test.example $UP "$PUB"
	[ "$(curl -s "$M/latest")" = "$mbefore" ] || fail "$1: the mirror moved"
	attack none
	"$B/sumdbd" unfreeze -c "$T/sumdbd.conf" $UP >/dev/null || fail "unfreeze"
	wait_for sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' $URL/healthz) = 200 ]" ||
	    fail "$1: not unfrozen"
	echo "$NAME: $1: the mirror frozen, new public versions refused with 503 and the reason, admitted ones served, a private one admitted, nothing else appended: ok"
}
frozen_round forksame corp.example/lib@v1.1.0
frozen_round forklarger corp.example/lib@v1.2.0
# Unfrozen, the same version is admitted: the freeze was the reason.
lookup "$URL" example.com/gen/m7@v1.0.7
same_as_upstream example.com/gen/m7@v1.0.7
provenance_ok "$T/sumdbd.db" sumdb.test.example $UP "$PUB"
echo "$NAME: unfrozen, the refused version is admitted as the upstream's record: ok"

# The upstream unreachable: hanging, then gone.
unreachable() {
	lookup "$URL" "$2" 503
	refusal "$REFUSED: "
	grep -qi '^Retry-After: 5' "$T/lk.h" || fail "$1: no Retry-After: $(cat "$T/lk.h")"
	lookup "$URL" example.com/hello@v1.0.0
	same_as_upstream example.com/hello@v1.0.0
	lookup "$URL" example.com/gen/m7@v1.0.7
	same_as_upstream example.com/gen/m7@v1.0.7
	lookup "$URL" "$3"
}
pubrecs "$T/sumdbd.db" sumdb.test.example >"$T/pub.before"
kill -STOP "$UPID"
unreachable "hanging upstream" example.com/gen/m21@v1.0.21 corp.example/lib@v1.3.0
kill -CONT "$UPID"
kill "$UPID"; wait "$UPID" 2>/dev/null
unreachable "stopped upstream" example.com/gen/m22@v1.0.22 corp.example/lib@v1.4.0
pubrecs "$T/sumdbd.db" sumdb.test.example | cmp -s - "$T/pub.before" ||
    fail "public records changed while the upstream was unreachable"
provenance_ok "$T/sumdbd.db" sumdb.test.example $UP "$PUB"
"$B/sumdbd" fsck -c "$T/sumdbd.conf" >"$T/out" 2>&1 || fail "fsck: $(cat "$T/out")"
echo "$NAME: the upstream hanging, then stopped: new public versions 503 with Retry-After, admitted ones served, private ones admitted: ok"
stop_daemon

# 6. O: its own private log and an offline, full mirror of the upstream
# fed only by F's bundles; its [mirror] url is a listener that only
# counts requests, and the upstream is stopped.
mkdir -p "$T/trap"
serve_http "$T/trap" ""
trap0=$(wc -l <"$T/http.log")
okey=$("$B/sumdbd" keygen -o "$T/o.key" sumdb.offline.example 2>/dev/null) ||
    fail "keygen"
cat >"$T/o.conf" <<EOC
[server]
listen = 127.0.0.1:1
database = $T/o.db
[log]
name = sumdb.offline.example
key = $T/o.key
goproxy = file://$T/proxy
private = $PRIVATE
[mirror $UP]
key = $upkey
url = http://127.0.0.1:$HPORT
offline = yes
mode = full
EOC
"$B/sumdbd" import -c "$T/o.conf" "$T/b1" >"$T/out" 2>&1 || fail "import: $(cat "$T/out")"
start_conf "$T/o.conf" "$T/o.log" "sumdb/$UP/latest"
O=http://127.0.0.1:$OPORT
"$B/sumdbd" import -c "$T/o.conf" "$T/b2" >"$T/out" 2>&1 || fail "import 2: $(cat "$T/out")"
grep -q "trust base $B1 -> $((B1 + 10)), 10 records" "$T/out" || fail "import 2: $(cat "$T/out")"
wait_for sh -c "[ \"\$(curl -s $O/sumdb/$UP/latest | sed -n 2p)\" = $((B1 + 10)) ]" ||
    fail "O's mirror does not serve the second bundle's tree"
for mv in example.com/hello@v1.0.0 example.com/Upper/Mixed@v1.0.0 \
    example.com/legacy@v2.0.0+incompatible "$(realmod_mv xtools)" "$INB2"; do
	lookup "$O" "$mv"
	same_as_upstream "$mv"
done
realmod_lookup "$O" xtools
realmod_lookup "$O" xmod
lookup "$O" corp.example/lib@v1.0.0
lookup "$O" "$NOTB" 404
refusal "not found: $NOTB is not in $UP: if this module is yours, add its path to [log] private"
[ "$(q "$T/o.db" "SELECT count(*) FROM record r JOIN log l ON r.log = l.id
    WHERE l.name = 'sumdb.offline.example' AND r.path || '@' || r.version = '$NOTB'")" = 0 ] ||
    fail "offline: $NOTB was appended"
echo "$NAME: offline, bundled public versions admitted as the upstream's records, private ones from the GOPROXY; $NOTB, in no bundle, 404 with the reason: ok"

# The go command builds a consumer requiring public and private modules,
# with only O's key and URL in GOSUMDB.
mkdir -p "$T/c"
cat >"$T/c/go.mod" <<EOG
module example.com/consumer

go 1.19

require (
	corp.example/lib v1.0.0
	example.com/hello v1.0.0
	example.com/real/xtools v1.0.0
	example.com/real/xmod v1.0.0
)
EOG
cat >"$T/c/main.go" <<EOG
package main

import (
	lib "corp.example/lib"
	hello "example.com/hello"
)

func main() { println(hello.V(), lib.V()) }
EOG
offline_build() {
	c=$T/c.$GOV
	rm -rf "$c"; cp -r "$T/c" "$c"
	(cd "$c" && goenv "$T/gp.$GOV" GOPROXY="file://$T/proxy" \
	    GOSUMDB="$okey $O" go mod download all) >"$T/out" 2>&1 ||
	    fail "go mod download through O: $(cat "$T/out")"
	(cd "$c" && goenv "$T/gp.$GOV" GOPROXY="file://$T/proxy" \
	    GOSUMDB="$okey $O" go build -o "$c/bin" .) >"$T/out" 2>&1 ||
	    fail "go build through O: $(cat "$T/out")"
	"$c/bin" 2>&1 | grep -q 'example.com/hello@v1.0.0 corp.example/lib@v1.0.0' ||
	    fail "the consumer does not run: $("$c/bin" 2>&1)"
	realmod_gosum xtools "$c/go.sum"
	realmod_gosum xmod "$c/go.sum"
	cat "$T/hashes" "$T/private" | while read -r p v zh mh; do
		case "$p $v" in
		"example.com/hello v1.0.0"|"corp.example/lib v1.0.0") ;;
		*) continue;;
		esac
		grep -qxF "$p $v $zh" "$c/go.sum" || fail "go.sum: no '$p $v $zh'"
		grep -qxF "$p $v/go.mod $mh" "$c/go.sum" || fail "go.sum: no '$p $v/go.mod'"
	done || exit 1
}
for_each_go offline_build
provenance_ok "$T/o.db" sumdb.offline.example $UP "$PUB"
[ "$(wc -l <"$T/http.log")" = "$trap0" ] ||
    fail "O reached out to its mirror's url: $(tail -n +$((trap0 + 1)) "$T/http.log" | head -3)"
grep -q 'http://\|connect' "$T/o.log" && fail "O tried to connect somewhere: $(grep 'http://\|connect' "$T/o.log" | head -3)"
"$B/sumdbd" fsck -c "$T/o.conf" >"$T/out" 2>&1 || fail "O's fsck: $(cat "$T/out")"
echo "$NAME: offline, upstream stopped, no request to the mirror's url: the go command ($GOVS) builds public and private modules with one GOSUMDB: ok"
