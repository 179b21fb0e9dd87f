#!/bin/sh
# One GOSUMDB over real sum.golang.org data (issue 14, acceptance 8):
# the real caches of tests/testdata/real served statically as the
# upstream of a mirror under the real key, and a private log whose
# [log] public is that mirror.  Every real lookup through the log
# admits the real record byte for byte, with its provenance (the real
# record id, the real tree it was verified in); x/mod's sumdb client
# (0.7 and 0.19) verifies each through the log under the log's own key
# and gets the lines it gets through the mirror under the real key.  A
# public version the upstream lacks is 404 with the reason, and a
# private path never reaches the upstream.
. "$(dirname "$0")/lib.sh"

KEY=sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8
REAL=tests/testdata/real
[ -x "$B/xmodref19" ] || fail "no $B/xmodref19 (make $B/xmodref19)"
vkey=$("$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example 2>/dev/null) ||
    fail "keygen"
mkdir -p "$T/www" "$T/proxy"
cp -r "$REAL/cache-2022-tree9039468" "$T/www/good"
cp -r "$REAL/cache-2025-tree42965376" "$T/www/good2025"
serve_http "$T/www" good/latest
SPORT=$HPORT

# mods CACHE: its module versions, unescaped, each with the file that
# holds the real lookup answer and its escaped path in a lookup URL:
# "MODULE@VERSION FILE ESCAPED".
mods() {
	(cd "$T/www/$1/lookup" && find . -type f | sed 's|^\./||' | sort) |
	while read -r f; do
		printf '%s@%s %s\n' "$(echo "${f%@*}" | sed 's/!\(.\)/\U\1/g')" \
		    "$(echo "${f##*@}" | sed 's/!\(.\)/\U\1/g')" \
		    "$T/www/$1/lookup/$f $f"
	done
}
# realrec FILE: the record text of a real lookup answer (its lines
# between the id and the blank line before the note).
realrec() { sed -n '2,/^$/p' "$1" | sed '$d'; }
sql() { sqlite3 "$T/sumdbd.db" "$@"; }
logid() { sql "SELECT id FROM log WHERE name = '$1'"; }

for c in good good2025; do
	stop_daemon
	rm -f "$T/sumdbd.db" "$T/sumdbd.db-wal" "$T/sumdbd.db-shm"
	PRIVATE='corp.example/*' start_daemon "public = sum.golang.org" \
	    "[mirror sum.golang.org]" "key = $KEY" \
	    "url = http://127.0.0.1:$SPORT/$c"
	tree=$(sed -n 2p "$T/www/$c/latest")
	mods "$c" >"$T/mods"
	n=$(wc -l <"$T/mods")
	[ "$n" -ge 8 ] || fail "$c: only $n real lookups"
	# Each lookup through the log: the real record, byte for byte.
	while read -r mv f esc; do
		s=$(curl -s -o "$T/ans" -w '%{http_code}' "$URL/lookup/$esc")
		[ "$s" = 200 ] || fail "$c: $mv through the log: $s, $(head -c 300 "$T/ans")"
		realrec "$f" >"$T/want"
		sed -n '2,/^$/p' "$T/ans" | sed '$d' | cmp -s - "$T/want" ||
		    fail "$c: $mv: the log's record is not the real one: $(head -3 "$T/ans")"
		grep -q '^— sumdb.test.example ' "$T/ans" ||
		    fail "$c: $mv: no checkpoint of the log in the answer"
	done <"$T/mods"
	log=$(logid sumdb.test.example)
	up=$(logid sum.golang.org)
	[ "$(sql "SELECT count(*) FROM record WHERE log = $log")" = "$n" ] ||
	    fail "$c: the log holds $(sql "SELECT count(*) FROM record WHERE log = $log") records, want $n"
	# In the store: the same bytes, and a provenance row naming the
	# real record id and the real tree it was verified in.
	while read -r mv f esc; do
		p=${mv%@*} v=${mv##*@}
		id=$(sql "SELECT id FROM record WHERE log = $log AND path = '$p' AND version = '$v'")
		[ -n "$id" ] || fail "$c: $mv is not in the log's store"
		sql "SELECT writefile('$T/stored', text) FROM record WHERE log = $log AND id = $id" >/dev/null
		realrec "$f" | cmp -s - "$T/stored" ||
		    fail "$c: $mv: the stored record is not the real one"
		prov=$(sql "SELECT upstream || ' ' || upstream_id || ' ' || upstream_tree FROM provenance WHERE log = $log AND id = $id")
		[ "$prov" = "$up $(head -1 "$f") $tree" ] ||
		    fail "$c: $mv: provenance '$prov', want '$up $(head -1 "$f") $tree' (mirror log, real id, real tree)"
	done <"$T/mods"
	# x/mod's client through the log, under the log's key, and through
	# the mirror, under the real key: the same lines, the real records.
	list=$(cut -d' ' -f1 "$T/mods")
	"$B/xmodref" client "$vkey" "$URL" $list >"$T/out" 2>&1 ||
	    fail "$c: x/mod's client through the log: $(tail -3 "$T/out")"
	"$B/xmodref19" client "$vkey" "$URL/sumdb/sumdb.test.example" $list \
	    >"$T/out19" 2>&1 ||
	    fail "$c: x/mod 0.19's client through the log: $(tail -3 "$T/out19")"
	"$B/xmodref" client "$KEY" "$URL/sumdb/sum.golang.org" $list \
	    >"$T/outm" 2>&1 || fail "$c: x/mod's client through the mirror: $(tail -3 "$T/outm")"
	while read -r mv f esc; do realrec "$f"; done <"$T/mods" >"$T/want"
	for o in out out19 outm; do
		cmp -s "$T/$o" "$T/want" ||
		    fail "$c: x/mod's lines ($o) are not the real records: $(diff "$T/want" "$T/$o" | head -5)"
	done
	m=$(curl -s "$URL/metrics" | awk '$1 == "sumdbd_log_public_admitted_total" { print $2 }')
	[ "$m" = "$n" ] || fail "$c: sumdbd_log_public_admitted_total $m, want $n"
	echo "$NAME: $c: all $n real records admitted byte for byte with provenance (tree $tree), verified by x/mod 0.7 and 0.19 through the log: ok"
done

# A public version that sum.golang.org's data does not hold: 404 with
# the reason, nothing appended.
before=$(sql "SELECT count(*) FROM record WHERE log = $log")
curl -s -o "$T/ans" "$URL/lookup/golang.org/x/mod@v0.0.99"
[ "$(status "$URL/lookup/golang.org/x/mod@v0.0.99")" = 404 ] || fail "missing public version: not 404"
grep -qx 'not found: golang.org/x/mod@v0.0.99 is not in sum.golang.org: if this module is yours, add its path to \[log\] private' "$T/ans" ||
    fail "missing public version: $(cat "$T/ans")"
[ "$(sql "SELECT count(*) FROM record WHERE log = $log")" = "$before" ] ||
    fail "missing public version: a record was appended"
# A private path: hashed from the GOPROXY (here: it has none of it),
# never asked of the upstream.
[ "$(status "$URL/lookup/corp.example/secret@v1.0.0")" = 404 ] || fail "private path: not 404"
grep -q 'corp.example' "$T/http.log" && fail "the upstream was asked for a private path: $(grep corp.example "$T/http.log")"
grep -q 'golang.org/x/mod@v0.0.99' "$T/http.log" || fail "the upstream was not asked for the missing public version"
echo "$NAME: a public version sum.golang.org lacks: 404 with the reason; a private path never reaches it: ok"
