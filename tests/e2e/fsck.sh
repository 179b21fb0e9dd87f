#!/bin/sh
# sumdbd fsck: a clean store passes; each corruption made directly in
# SQLite is found: a changed record, a changed stored hash, a removed
# row, a changed checkpoint, a broken proof link; also in a mirror's
# store.  Acceptance 3 of the audit issue.
. "$(dirname "$0")/lib.sh"

mods=
i=0
while [ $i -lt 300 ]; do
	mods="$mods example.com/m@v1.0.$i"
	i=$((i + 1))
done
"$B/xmodref" modtree "$T/proxy" $mods >/dev/null || fail "modtree"
"$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example >/dev/null 2>&1 || fail "keygen"
write_config "$T/sumdbd.conf" 1
# Three batches: three checkpoints linked by two proofs.
set -- $mods
"$B/sumdbd" add -c "$T/sumdbd.conf" $(echo $mods | cut -d' ' -f1-100) >/dev/null 2>&1 || fail "add 1"
"$B/sumdbd" add -c "$T/sumdbd.conf" $(echo $mods | cut -d' ' -f101-260) >/dev/null 2>&1 || fail "add 2"
"$B/sumdbd" add -c "$T/sumdbd.conf" $(echo $mods | cut -d' ' -f261-300) >/dev/null 2>&1 || fail "add 3"
cp "$T/sumdbd.db" "$T/clean.db"
F() { "$B/sumdbd" fsck -c "$T/sumdbd.conf" >"$T/out" 2>&1; echo $?; }
[ "$(F)" = 0 ] || fail "a clean store: $(cat "$T/out")"
grep -q 'sumdb.test.example: 300 records, 0 problems' "$T/out" || fail "clean: $(cat "$T/out")"
echo "$NAME: a clean store passes: ok"

# corrupt NAME SQL PATTERN: on a fresh copy, fsck exits 1 naming it.
corrupt() {
	cp "$T/clean.db" "$T/sumdbd.db"
	rm -f "$T/sumdbd.db-wal" "$T/sumdbd.db-shm"
	sqlite3 "$T/sumdbd.db" "$2" || fail "$1: sql"
	[ "$(F)" = 1 ] || fail "$1: fsck did not find it: $(cat "$T/out")"
	grep -q "$3" "$T/out" || fail "$1: $(cat "$T/out")"
	echo "$NAME: $1: found: ok"
}
corrupt "a changed record" \
    "UPDATE record SET text = CAST(replace(CAST(text AS TEXT), 'h1:', 'h1:A') AS BLOB) WHERE id = 17" \
    "stored hash .* differs\|record 17"
corrupt "a changed stored hash" \
    "UPDATE hash SET hash = zeroblob(32) WHERE idx = 40" \
    "stored hash 40 differs"
corrupt "a removed record" "DELETE FROM record WHERE id = 150" \
    "records 150 to 150 are missing"
corrupt "a removed stored hash" "DELETE FROM hash WHERE idx = 7" \
    "stored hash 7 is missing"
corrupt "a changed checkpoint" \
    "UPDATE checkpoint SET root = zeroblob(32) WHERE size = 260" \
    "checkpoint 260: its columns are not its note's"
corrupt "a changed checkpoint note" \
    "UPDATE checkpoint SET note = CAST(replace(CAST(note AS TEXT), '260', '261') AS BLOB) WHERE size = 260" \
    "checkpoint 260: its note does not verify"
corrupt "a broken proof link" \
    "UPDATE checkpoint SET proof = zeroblob(length(proof)) WHERE size = 300" \
    "checkpoint 300: the consistency proof from 260 does not verify"
corrupt "a removed checkpoint" "DELETE FROM checkpoint WHERE size = 260" \
    "checkpoint 300: its proof starts at 260"

# Real-size modules (x/mod, x/tools) as a fourth batch: fsck passes,
# the records are the go command's, and an altered one is found.
realmod_add "$T/proxy" xmod xtools
cp "$T/clean.db" "$T/sumdbd.db"
rm -f "$T/sumdbd.db-wal" "$T/sumdbd.db-shm"
"$B/sumdbd" add -c "$T/sumdbd.conf" $(realmod_mv xmod) $(realmod_mv xtools) \
    >"$T/out" 2>&1 || fail "add 4: $(cat "$T/out")"
[ "$(F)" = 0 ] || fail "real-size modules added: $(cat "$T/out")"
grep -q 'sumdb.test.example: 302 records, 0 problems' "$T/out" ||
    fail "real-size modules added: $(cat "$T/out")"
sqlite3 "$T/sumdbd.db" "SELECT CAST(text AS TEXT) FROM record WHERE id >= 300" \
    >"$T/real.sum" || fail "reading the records"
realmod_gosum xmod "$T/real.sum"
realmod_gosum xtools "$T/real.sum"
sqlite3 "$T/sumdbd.db" "UPDATE record SET text = CAST(replace(CAST(text AS TEXT), 'h1:', 'h1:A') AS BLOB) WHERE id = 301" ||
    fail "sql"
[ "$(F)" = 1 ] || fail "an altered real-size record: fsck did not find it: $(cat "$T/out")"
grep -q "stored hash .* differs\|record 301" "$T/out" ||
    fail "an altered real-size record: $(cat "$T/out")"
echo "$NAME: real-size modules added: clean, the go command's records, an altered one found: ok"
