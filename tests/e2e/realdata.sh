#!/bin/sh
# The mirror of real sum.golang.org data (tests/testdata/real, served by
# a static file server) under the real key: every lookup there verifies
# with x/mod's sumdb client through the mirror; every corrupted variant
# is refused with evidence and nothing stored; offline, the stored
# lookups still verify and misses say so; private paths are never
# forwarded, and counted.  Acceptance 2 (and the offline and private
# parts) of the mirror issue.
. "$(dirname "$0")/lib.sh"

KEY=sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8
REAL=tests/testdata/real
[ -x "$B/xmodref19" ] || fail "no $B/xmodref19 (make $B/xmodref19)"
"$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example >/dev/null 2>&1
mkdir -p "$T/www"
cp -r "$REAL/cache-2022-tree9039468" "$T/www/good"
cp -r "$REAL/cache-2025-tree42965376" "$T/www/good2025"
serve_http "$T/www" good/latest
SPORT=$HPORT
SPID=$HPID

# The module versions of a cache, unescaped.
mods() {
	(cd "$T/www/$1/lookup" && find . -type f | sed 's|^\./||') |
	while read -r f; do
		printf '%s@%s\n' "$(echo "${f%@*}" | sed 's/!\(.\)/\U\1/g')" \
		    "$(echo "${f##*@}" | sed 's/!\(.\)/\U\1/g')"
	done
}
mirror() {
	dir=$1
	shift
	stop_daemon
	rm -f "$T/sumdbd.db" "$T/sumdbd.db-wal" "$T/sumdbd.db-shm"
	start_daemon "[mirror sum.golang.org]" "key = $KEY" \
	    "url = http://127.0.0.1:$SPORT/$dir" "$@"
}
M() { echo "$URL/sumdb/sum.golang.org"; }
evidence() { sqlite3 "$T/sumdbd.db" "SELECT count(*) FROM evidence WHERE kind = '$1'"; }

for c in good good2025; do
	mirror "$c"
	n=$(mods "$c" | wc -l)
	"$B/xmodref" client "$KEY" "$(M)" $(mods "$c") >"$T/out" 2>&1 ||
	    fail "$c: x/mod's client through the mirror: $(cat "$T/out")"
	[ "$(wc -l <"$T/out")" = $((2 * n)) ] || fail "$c: $(wc -l <"$T/out") lines"
	# And the newer x/mod (0.19, built with go 1.24) agrees.
	"$B/xmodref19" client "$KEY" "$(M)" $(mods "$c") >"$T/out19" 2>&1 ||
	    fail "$c: x/mod 0.19's client through the mirror: $(cat "$T/out19")"
	cmp -s "$T/out" "$T/out19" || fail "$c: x/mod 0.7 and 0.19 disagree"
	cmp -s "$T/www/$c/latest" - <<EOC || fail "$c: the mirror's checkpoint is not the real one"
$(curl -s "$(M)/latest")
EOC
	echo "$NAME: $c: all $n real lookups verified by x/mod 0.7 and 0.19 through the mirror: ok"
done

# Corrupted variants: each refused, evidence kept, nothing stored.
variant() {
	rm -rf "$T/www/$1"
	cp -r "$T/www/good" "$T/www/$1"
}
variant badlatest
sed -i 's/Az3grlLC9/Az3grlLC8/' "$T/www/badlatest/latest"
variant badrecord
sed -i '2s/h1:./h1:A/; 2s/h1:AA/h1:BA/' "$T/www/badrecord/lookup/github.com/!burnt!sushi/toml@v0.3.1"
variant badnote
sed -i 's/^\(— sum.golang.org Az3gr\)./\1A/' "$T/www/badnote/lookup/github.com/!burnt!sushi/toml@v0.3.1"
variant badtiles
for f in $(find "$T/www/badtiles/tile/8/0" -type f); do
	python3 -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[len(b)//2]^=1; open(p,'wb').write(b)" "$f"
done
for v in badlatest:signature badrecord:not_in_tree badnote:signature badtiles:tile; do
	mirror "${v%%:*}"
	s=$(status "$(M)/lookup/github.com/!burnt!sushi/toml@v0.3.1")
	[ "$s" = 502 ] || fail "${v%%:*}: lookup got $s, want 502"
	[ "$(evidence "${v##*:}")" -ge 1 ] || fail "${v%%:*}: no '${v##*:}' evidence"
	[ "$(sqlite3 "$T/sumdbd.db" "SELECT count(*) FROM record")" = 0 ] ||
	    fail "${v%%:*}: a record was stored"
	"$B/xmodref" client "$KEY" "$(M)" github.com/BurntSushi/toml@v0.3.1 >/dev/null 2>&1 &&
	    fail "${v%%:*}: x/mod's client verified a lookup"
done
echo "$NAME: corrupted checkpoint, record, note and tiles refused with evidence, nothing stored: ok"

# Offline, and the static server gone: what is stored still verifies.
mirror good
"$B/xmodref" client "$KEY" "$(M)" $(mods good) >/dev/null || fail "refill"
kill "$SPID"
stop_daemon
PRIVATE='github.com/kr/*,example.com/private' restart_daemon_with "[mirror sum.golang.org]" \
    "key = $KEY" "offline = yes"
"$B/xmodref" client "$KEY" "$(M)" $(mods good | grep -v '^github.com/kr/') \
    >/dev/null || fail "offline: x/mod's client through the mirror"
curl -s "$(M)/lookup/golang.org/x/mod@v0.7.0" >"$T/out"
[ "$(status "$(M)/lookup/golang.org/x/mod@v0.7.0")" = 404 ] || fail "offline miss"
grep -q 'not in mirrored log at tree 9039468' "$T/out" || fail "offline miss: $(cat "$T/out")"
echo "$NAME: offline: stored lookups verify, misses get 404 'not in mirrored log': ok"

# Private paths: never forwarded, 404 with a reason, counted per client.
curl -s "$(M)/lookup/github.com/kr/text@v0.2.0" >"$T/out"
[ "$(status "$(M)/lookup/github.com/kr/text@v0.2.0")" = 404 ] || fail "private path served"
grep -q 'private module path' "$T/out" || fail "private: $(cat "$T/out")"
[ "$(status "$(M)/lookup/example.com/private@v1.0.0")" = 404 ] || fail "private path 2"
curl -s "$URL/metrics" | grep -q 'sumdbd_private_lookups_total{db="sum.golang.org",client="127.0.0.1"} [3-9]' ||
    fail "private lookups not counted: $(curl -s "$URL/metrics" | grep private)"
# Stored within a second, listed by sumdbd evidence privacy, and kept
# across restarts (the count goes on from the stored one).
privacy() { "$B/sumdbd" evidence -c "$T/sumdbd.conf" privacy; }
wait_for sh -c "\"$B/sumdbd\" evidence -c $T/sumdbd.conf privacy |
    grep -q '^sum.golang.org	127.0.0.1	[3-9]	'" ||
    fail "private lookups not stored: $(privacy)"
privacy | grep -q '	example.com/private$' || fail "the last private path: $(privacy)"
n=$(privacy | cut -f3)
stop_daemon
restart_daemon
[ "$(status "$(M)/lookup/github.com/kr/pretty@v0.3.0")" = 404 ] || fail "private path 3"
stop_daemon		# flushes what the timer has not
[ "$(privacy | cut -f3)" = $((n + 1)) ] || fail "privacy count after a restart: $(privacy)"
privacy | grep -q '	github.com/kr/pretty$' || fail "the newest private path: $(privacy)"
echo "$NAME: private module paths: 404 with the reason, counted per client: ok"
