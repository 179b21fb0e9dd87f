#!/bin/sh
# A store made by the last sumdbd with schema 5 (built here from git at
# commit V5), with a private log (a real-size module among its records),
# a full mirror with a record its upstream logged twice, evidence and
# TUF files, opened by this sumdbd: migrated to schema 7, every row of
# every table that was there byte for byte the same, lookups answered
# as before, fsck clean; then the mirror goes on with data tiles and a
# bulk-built index that keeps the first of a module version logged
# twice, as before.  Acceptance 1 and 2 of the store-size issue.
. "$(dirname "$0")/lib.sh"

V5=b3d28e8eeb5618b13af5fbe745df0b8ae166f315
OLD=$B/v5
if [ ! -x "$OLD/build/sumdbd" ]; then
	rm -rf "$OLD"
	mkdir -p "$OLD"
	git archive "$V5" | tar -x -C "$OLD" || fail "git archive $V5"
	# A plain build, whatever this make check was given (SAN=1).
	env MAKEFLAGS= MAKELEVEL= make -C "$OLD" -j2 SAN= TSAN= O=build \
	    build/sumdbd >"$T/v5build.log" 2>&1 ||
	    fail "building sumdbd $V5: $(tail -5 "$T/v5build.log")"
fi
NEWB=$B

UP=sumdb.upstream.example
N=3000
upkey=$("$B/sumdbd" keygen -o "$T/up.key" $UP 2>/dev/null) || fail "keygen"
"$B/sumdbd" keygen -o "$T/other.key" $UP >/dev/null 2>&1
start_upstream -gen $N -other "$T/other.key"
U=http://127.0.0.1:$UPORT
"$B/xmodref" modtree "$T/proxy" example.com/hello@v1.0.0 >/dev/null || fail "modtree"
realmod_add "$T/proxy" xtools
xt=$(realmod_mv xtools)
attack() { curl -sf -o /dev/null "$U/admin/attack?kind=$1" || fail "attack $1"; }
sq() { sqlite3 "$T/sumdbd.db" "$1" 2>&1; }
mirror_lines="[mirror $UP]
key = $upkey
url = $U
mode = full
poll = 1s"

# The old sumdbd makes the store.
V5B=$OLD/build
"$V5B/sumdbd" keygen -o "$T/log.key" sumdb.test.example >/dev/null 2>&1
write_config "$T/sumdbd.conf" 1 "[tuf]" "keys = $T/tuf.keys"
"$V5B/sumdbd" tuf init -c "$T/sumdbd.conf" -n 1 -t 1 "$T/root1" >/dev/null ||
    fail "tuf init (v5)"
"$V5B/sumdbd" add -c "$T/sumdbd.conf" example.com/hello@v1.0.0 "$xt" \
    >/dev/null || fail "add (v5)"
B=$V5B
start_daemon "[tuf]" "keys = $T/tuf.keys" "$mirror_lines"
B=$NEWB
[ "$(sq "PRAGMA user_version")" = 5 ] || fail "the old store is not schema 5"
full() { [ "$(sq "SELECT full_next FROM log WHERE name = '$UP'")" = "$1" ]; }
wait_for full $N || fail "v5: full sync: $(sq "SELECT full_next FROM log WHERE name = '$UP'")"
# A record logged twice, and a refusal kept as evidence.
first=$(curl -s "$U/tile/8/data/000" | head -1 | cut -d' ' -f1,2 | tr ' ' @)
attack duplicate
wait_for full $((N + 1)) || fail "v5: the duplicate not synced"
attack badsig
curl -s -o /dev/null "$U/admin/grow?n=1"
ev() { [ "$(sq "SELECT count(*) FROM evidence")" -gt 0 ]; }
wait_for ev || fail "v5: no evidence"
attack none
wait_for full $((N + 2)) || fail "v5: no sync after the refusal"
sleep 1.5
M=$URL/sumdb/$UP
# What the old sumdbd answers, and what its store holds.
answers() {
	for p in "$M/lookup/$first" "$M/lookup/example.com/gen/m7@v1.0.7" \
	    "$M/lookup/example.com/gen/m$(( (N - 10) % 1000 ))@v1.0.$((N - 10))" \
	    "$URL/lookup/example.com/hello@v1.0.0" "$URL/lookup/$xt" \
	    "$M/tile/8/data/000" "$M/tile/8/data/011.p/$(( (N + 2) % 256 ))" \
	    "$M/tile/8/0/005" "$URL/tile/8/data/000.p/2" "$URL/tuf/1.root.json"; do
		printf '%s %s\n' "${p#"$URL"}" "$(curl -s "$p" | sha256sum)"
	done
}
answers >"$T/answers.v5"
stop_daemon
dump() {
	for q in "SELECT id, name, kind, frozen, full_next FROM log" \
	    "SELECT log, id, path, version, hex(text) FROM record" \
	    "SELECT log, idx, hex(hash) FROM hash" \
	    "SELECT log, level, n, hex(data) FROM tile" \
	    "SELECT log, size, hex(root), hex(note), created, prev, hex(proof), source FROM checkpoint" \
	    "SELECT id, log, kind, source, created, detail, hex(old), hex(new), hex(material) FROM evidence" \
	    "SELECT role, version, hex(bytes), created FROM tuf" \
	    "SELECT path, sha256, hex(bytes), created FROM tuf_target" \
	    "SELECT * FROM privacy" "SELECT * FROM provenance"; do
		echo "== $q"
		sq "$q ORDER BY 1, 2, 3"
	done
}
dump >"$T/dump.v5"
[ "$(grep -c . "$T/dump.v5")" -gt $((N / 256 + 3000)) ] || fail "the dump is too short"
grep -q "|#|#$N|" "$T/dump.v5" || fail "v5 did not keep the duplicate unnamed"

# This sumdbd opens it: schema 7 (6 and then 7), the same rows, the same answers.
restart_daemon
[ "$(sq "PRAGMA user_version")" = 7 ] || fail "not migrated to schema 7"
dump >"$T/dump.v6"
# Rows may be added (the TUF timestamp is signed again at start), none
# changed or lost.
sort "$T/dump.v5" >"$T/s5"
sort "$T/dump.v6" >"$T/s6"
[ -z "$(comm -23 "$T/s5" "$T/s6" | head -3)" ] ||
    fail "rows changed by the migration: $(comm -23 "$T/s5" "$T/s6" | head -3 | cut -c1-200)"
answers >"$T/answers.v6"
cmp -s "$T/answers.v5" "$T/answers.v6" ||
    fail "answers changed by the migration: $(diff "$T/answers.v5" "$T/answers.v6")"
[ "$(curl -s "$M/lookup/$first" | head -1)" = 0 ] || fail "the first record lost"
echo "$NAME: schema 5 store of $((N + 2)) mirrored records, a private log, evidence and TUF files: every row and answer the same after the migration: ok"

# The mirror goes on: data tiles, indexed in bulk, the duplicate's first
# kept, and fsck clean over rows and tiles.
stop_daemon
"$B/sumdbd" fsck -c "$T/sumdbd.conf" >"$T/fsck" 2>&1 || fail "fsck after the migration: $(cat "$T/fsck")"
grep -q "$UP: $((N + 2)) records, 0 problems" "$T/fsck" || fail "fsck: $(cat "$T/fsck")"
curl -s -o /dev/null "$U/admin/grow?n=600"
restart_daemon
wait_for full $((N + 602)) || fail "no sync after the migration"
idx() { [ "$(sq "SELECT indexed FROM log WHERE name = '$UP'")" = "$1" ]; }
wait_for idx $((N + 602)) || fail "not indexed"
[ "$(sq "SELECT count(*) FROM rtext WHERE k >> 40 = (SELECT id FROM log WHERE name = '$UP')")" -ge 600 ] ||
    fail "no record texts stored"
# More than 65,536 records at once: a bulk build, into blocks.
c0=$(curl -s "$URL/metrics" | sed -n "s/^sumdbd_refusals_total{db=\"$UP\",kind=\"conflict\"} //p")
attack duplicate
curl -s -o /dev/null "$U/admin/grow?n=70000"
T2=$((N + 70603))
i=0
until idx $T2; do
	i=$((i + 1)); [ $i -lt 1200 ] || fail "70,001 records not synced and indexed: $(sq "SELECT full_next, indexed FROM log WHERE name = '$UP'")"
	sleep 0.1
done
attack none
[ "$(sq "SELECT count(*) FROM lookup_block b JOIN log l ON b.log = l.id WHERE l.name = '$UP' AND b.gen = l.blocks")" -gt 200 ] ||
    fail "no blocks built"
[ "$(curl -s "$M/lookup/$first" | head -1)" = 0 ] || fail "the bulk index replaced the first record"
c1=$(curl -s "$URL/metrics" | sed -n "s/^sumdbd_refusals_total{db=\"$UP\",kind=\"conflict\"} //p")
[ "${c1:-0}" -gt "${c0:-0}" ] || fail "the duplicate was not counted ($c0 -> $c1)"
last=$((N + 70600))
[ "$(curl -s "$M/lookup/example.com/gen/m$((last % 1000))@v1.0.$last" | head -1)" = $((last + 2)) ] ||
    fail "a record from a data tile not found: $(curl -s "$M/lookup/example.com/gen/m$((last % 1000))@v1.0.$last")"
for t in 014 200; do
	curl -s "$U/tile/8/data/$t" >"$T/u"
	curl -s "$M/tile/8/data/$t" | cmp -s - "$T/u" || fail "data tile $t differs"
done
stop_daemon
"$B/sumdbd" fsck -c "$T/sumdbd.conf" >"$T/fsck" 2>&1 || fail "fsck: $(cat "$T/fsck")"
grep -q "$UP: $T2 records, 0 problems" "$T/fsck" || fail "fsck: $(cat "$T/fsck")"
echo "$NAME: then 600 records indexed as rows, 70,001 in bulk as blocks, a module version logged twice keeps its first record, fsck clean: ok"

# The same store into PostgreSQL and back (acceptance 6 of the high
# availability issue): sumdbd migrate copies and verifies it; the copy
# back is byte for byte the SQLite store in every table; a daemon on
# PostgreSQL answers as the one on SQLite did, and fsck is clean on both.
restart_daemon
answers >"$T/answers.sqlite"
stop_daemon
start_pg "$(mktemp -d /tmp/sumdbd-pg.XXXXXX)" || fail "PostgreSQL did not start"
at_exit stop_pg
PG=$PGURL
"$B/sumdbd" migrate "$T/sumdbd.db" "$PG" >"$T/out" 2>&1 ||
    fail "migrate to PostgreSQL: $(cat "$T/out")"
grep -q "^migrate: rtext: [1-9][0-9]* rows$" "$T/out" &&
    grep -q "^migrate: lookup_block: [1-9][0-9]* rows$" "$T/out" &&
    grep -q "^migrate: verified: every row of every table the same in $PG$" "$T/out" ||
    fail "migrate to PostgreSQL: $(cat "$T/out")"
"$B/sumdbd" migrate "$T/sumdbd.db" "$PG" >"$T/out" 2>&1 &&
    fail "migrate into a store that is not empty: $(cat "$T/out")"
grep -q "not empty: table log has rows" "$T/out" || fail "migrate again: $(cat "$T/out")"
"$B/sumdbd" migrate "$PG" "$T/back.db" >"$T/out" 2>&1 ||
    fail "migrate back to SQLite: $(cat "$T/out")"
grep -q "^migrate: verified" "$T/out" || fail "migrate back: $(cat "$T/out")"
# dump2 DB: every table, every column, in key order.
dump2() {
	for q in "SELECT id, name, kind, frozen, full_next, indexed, blocks FROM log ORDER BY 1" \
	    "SELECT log, id, path, version, hex(text) FROM record ORDER BY 1, 2" \
	    "SELECT log, idx, hex(hash) FROM hash ORDER BY 1, 2" \
	    "SELECT log, level, n, hex(data) FROM tile ORDER BY 1, 2, 3" \
	    "SELECT log, size, hex(root), hex(note), created, prev, hex(proof), source, published FROM checkpoint ORDER BY 1, 2" \
	    "SELECT id, log, kind, source, created, detail, hex(old), hex(new), hex(material) FROM evidence ORDER BY 1" \
	    "SELECT role, version, hex(bytes), created FROM tuf ORDER BY 1, 2" \
	    "SELECT path, sha256, hex(bytes), created FROM tuf_target ORDER BY 1, 2" \
	    "SELECT * FROM privacy ORDER BY 1, 2" "SELECT * FROM provenance ORDER BY 1, 2" \
	    "SELECT * FROM lookup ORDER BY 1, 2, 3" "SELECT k, hex(text) FROM rtext ORDER BY 1" \
	    "SELECT log, gen, first, hex(data) FROM lookup_block ORDER BY 1, 2, 3" \
	    "SELECT origin, size, hex(root), hex(note), time FROM witness ORDER BY 1"; do
		echo "== $q"
		sqlite3 "$1" "$q" || echo "FAILED"
	done
}
dump2 "$T/sumdbd.db" >"$T/dump.sqlite"
dump2 "$T/back.db" >"$T/dump.back"
[ "$(wc -l <"$T/dump.sqlite")" -gt 70000 ] || fail "the dump is too short"
! grep -q FAILED "$T/dump.sqlite" || fail "dump: $(grep -B1 FAILED "$T/dump.sqlite")"
cmp -s "$T/dump.sqlite" "$T/dump.back" ||
    fail "SQLite -> PostgreSQL -> SQLite changed rows: $(diff "$T/dump.sqlite" "$T/dump.back" | head -5 | cut -c1-200)"
conf_db "$T/sumdbd.conf" "$T/back.conf" "$T/back.db"
"$B/sumdbd" fsck -c "$T/back.conf" >"$T/fsck" 2>&1 || fail "fsck of the copy back: $(cat "$T/fsck")"
grep -q "$UP: $T2 records, 0 problems" "$T/fsck" || fail "fsck of the copy back: $(cat "$T/fsck")"
awk -v l="database = $PG" '/^database = /{print l; print "state_dir = '"$T"'"; next} {print}' \
    "$T/sumdbd.conf" >"$T/pg.conf"
"$B/sumdbd" fsck -c "$T/pg.conf" >"$T/fsck" 2>&1 || fail "fsck on PostgreSQL: $(cat "$T/fsck")"
grep -q "$UP: $T2 records, 0 problems" "$T/fsck" || fail "fsck on PostgreSQL: $(cat "$T/fsck")"
cp "$T/pg.conf" "$T/sumdbd.conf"
restart_daemon
answers >"$T/answers.pg"
cmp -s "$T/answers.sqlite" "$T/answers.pg" ||
    fail "answers on PostgreSQL differ: $(diff "$T/answers.sqlite" "$T/answers.pg")"
stop_daemon
echo "$NAME: sumdbd migrate: SQLite to PostgreSQL and back, every table byte for byte ($(grep -vc "^==" "$T/dump.back") rows), fsck clean on both, the same answers from PostgreSQL: ok"
