#!/bin/sh
# sumdbd fsck: a clean store passes; each corruption made directly in
# SQLite is found: a changed record, a changed stored hash, a removed
# row, a changed checkpoint, a broken proof link; also in a mirror's
# store.  Acceptance 3 of the audit issue.  Then the private log's
# public records: one admitted on first use that the mirror's verified
# record contradicts is reported by fsck and audit, and each tampered
# provenance row by fsck (acceptance 10 of the one-GOSUMDB issue); add
# refuses public paths.
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
db_copy "$T/sumdbd.db" "$T/clean.db"
F() { "$B/sumdbd" fsck -c "$T/sumdbd.conf" >"$T/out" 2>&1; echo $?; }
[ "$(F)" = 0 ] || fail "a clean store: $(cat "$T/out")"
grep -q 'sumdb.test.example: 300 records, 0 problems' "$T/out" || fail "clean: $(cat "$T/out")"
echo "$NAME: a clean store passes: ok"

# corrupt NAME SQL PATTERN: on a fresh copy of $CLEAN, fsck exits 1
# naming it.
CLEAN=$T/clean.db
corrupt() {
	db_copy "$CLEAN" "$T/sumdbd.db"
	db_sql "$T/sumdbd.db" "$2" >/dev/null || fail "$1: sql"
	[ "$(F)" = 1 ] || fail "$1: fsck did not find it: $(cat "$T/out")"
	grep -q "$3" "$T/out" || fail "$1: $(cat "$T/out")"
	echo "$NAME: $1: found: ok"
}
corrupt "a changed record" \
    "UPDATE record SET text = $(sql_blob "replace($(sql_text text), 'h1:', 'h1:A')") WHERE id = 17" \
    "stored hash .* differs\|record 17"
corrupt "a changed stored hash" \
    "UPDATE hash SET hash = $(sql_zero 32) WHERE idx = 40" \
    "stored hash 40 differs"
corrupt "a removed record" "DELETE FROM record WHERE id = 150" \
    "records 150 to 150 are missing"
corrupt "a removed stored hash" "DELETE FROM hash WHERE idx = 7" \
    "stored hash 7 is missing"
corrupt "a changed checkpoint" \
    "UPDATE checkpoint SET root = $(sql_zero 32) WHERE size = 260" \
    "checkpoint 260: its columns are not its note's"
corrupt "a changed checkpoint note" \
    "UPDATE checkpoint SET note = $(sql_blob "replace($(sql_text note), '260', '261')") WHERE size = 260" \
    "checkpoint 260: its note does not verify"
corrupt "a broken proof link" \
    "UPDATE checkpoint SET proof = $(sql_zero "length(proof)") WHERE size = 300" \
    "checkpoint 300: the consistency proof from 260 does not verify"
corrupt "a removed checkpoint" "DELETE FROM checkpoint WHERE size = 260" \
    "checkpoint 300: its proof starts at 260"

# Real-size modules (x/mod, x/tools) as a fourth batch: fsck passes,
# the records are the go command's, and an altered one is found.
realmod_add "$T/proxy" xmod xtools
db_copy "$T/clean.db" "$T/sumdbd.db"
"$B/sumdbd" add -c "$T/sumdbd.conf" $(realmod_mv xmod) $(realmod_mv xtools) \
    >"$T/out" 2>&1 || fail "add 4: $(cat "$T/out")"
[ "$(F)" = 0 ] || fail "real-size modules added: $(cat "$T/out")"
grep -q 'sumdb.test.example: 302 records, 0 problems' "$T/out" ||
    fail "real-size modules added: $(cat "$T/out")"
db_sql "$T/sumdbd.db" "SELECT $(sql_text text) FROM record WHERE id >= 300 ORDER BY id" \
    >"$T/real.sum" || fail "reading the records"
realmod_gosum xmod "$T/real.sum"
realmod_gosum xtools "$T/real.sum"
db_sql "$T/sumdbd.db" "UPDATE record SET text = $(sql_blob "replace($(sql_text text), 'h1:', 'h1:A')") WHERE id = 301" >/dev/null ||
    fail "sql"
[ "$(F)" = 1 ] || fail "an altered real-size record: fsck did not find it: $(cat "$T/out")"
grep -q "stored hash .* differs\|record 301" "$T/out" ||
    fail "an altered real-size record: $(cat "$T/out")"
echo "$NAME: real-size modules added: clean, the go command's records, an altered one found: ok"

# Public records (acceptance 10 of the one-GOSUMDB issue).  The test
# upstream vouches for other content of example.com/hello than the
# GOPROXY serves (its zip hash is Upper/Mixed's).  The log, with
# public = goproxy, admits the GOPROXY's content on first use; then the
# mirror learns the upstream's verified record: fsck and audit say so.
UP=sumdb.upstream.example
db_rm "$T/sumdbd.db"
"$B/xmodref" modtree "$T/proxy" example.com/hello@v1.0.0 \
    example.com/Upper/Mixed@v1.0.0 example.com/legacy@v2.0.0+incompatible \
    corp.example/secret@v1.0.0 >"$T/pub.hashes" || fail "modtree"
realmod_hashes xtools >>"$T/pub.hashes"
set -- $(grep '^example.com/hello ' "$T/pub.hashes")
good=$3 mod=$4
set -- $(grep '^example.com/Upper/Mixed ' "$T/pub.hashes")
bad=$3
grep -v '^corp.example/' "$T/pub.hashes" |
    sed "s|^example.com/hello v1.0.0 $good |example.com/hello v1.0.0 $bad |" >"$T/up.hashes"
upkey=$("$B/sumdbd" keygen -o "$T/up.key" $UP 2>/dev/null) || fail "keygen"
start_upstream -gen 300 -mods "$T/up.hashes"
MIRROR="[mirror $UP]
key = $upkey
url = http://127.0.0.1:$UPORT"
PRIVATE='corp.example/*' start_daemon "public = goproxy" "$MIRROR"
for m in example.com/hello@v1.0.0 example.com/!upper/!mixed@v1.0.0 \
    $(realmod_mv xtools) corp.example/secret@v1.0.0; do
	[ "$(status "$URL/lookup/$m")" = 200 ] || fail "lookup of $m through the log: $(curl -s "$URL/lookup/$m")"
done
for m in example.com/hello@v1.0.0 example.com/!upper/!mixed@v1.0.0 \
    $(realmod_mv xtools); do
	[ "$(status "$URL/sumdb/$UP/lookup/$m")" = 200 ] || fail "lookup of $m through the mirror"
done
[ "$(curl -s "$URL/lookup/example.com/hello@v1.0.0" | sed -n 2p)" = "example.com/hello v1.0.0 $good" ] ||
    fail "the log does not hold the GOPROXY's record of example.com/hello"
[ "$(F)" = 1 ] || fail "a TOFU record differing from the mirror's: fsck did not find it: $(cat "$T/out")"
grep -q "^fsck: sumdb.test.example: MISMATCH example.com/hello@v1.0.0: record 0, admitted on first use without provenance, has $good go.mod $mod; mirror $UP's verified record 0 has $bad go.mod $mod$" "$T/out" ||
    fail "the TOFU mismatch line: $(cat "$T/out")"
grep -q "^fsck: sumdb.test.example: public records without provenance: 3 (trust on first use), 3 checked against mirror $UP, 1 mismatch$" "$T/out" ||
    fail "the TOFU count: $(cat "$T/out")"
[ "$(grep -c MISMATCH "$T/out")" = 1 ] || fail "more than one mismatch: $(cat "$T/out")"
echo "$NAME: a public record admitted on first use that the mirror contradicts: fsck reports it, both hashes: ok"

# audit: a go.sum of the GOPROXY's hashes (as a build wrote it) and one
# line with the upstream's.
{ grep -v '^corp.example/\|^example.com/legacy ' "$T/pub.hashes" |
    awk '{ print $1 " " $2 " " $3; print $1 " " $2 "/go.mod " $4 }'
  echo "example.com/hello v1.0.0 $bad"; } >"$T/pub.sum"
"$B/sumdbd" audit -c "$T/sumdbd.conf" "$T/pub.sum" >"$T/out" 2>&1
[ $? = 1 ] || fail "audit of a TOFU record the mirror contradicts: exit code: $(cat "$T/out")"
grep -q "pub.sum:1: mismatch example.com/hello v1.0.0 (record 0, tree [0-9]*): go.sum has $good, the log $good (first use), mirror $UP $bad: the log admitted this version on first use from a GOPROXY" "$T/out" ||
    fail "audit: the go.sum line of the TOFU record: $(cat "$T/out")"
grep -q "pub.sum:7: mismatch example.com/hello v1.0.0 (record 0, tree [0-9]*): go.sum has $bad, the log $good (first use), mirror $UP $bad: .*this line is right" "$T/out" ||
    fail "audit: the mirror's line: $(cat "$T/out")"
grep -q "pub.sum:2: verified" "$T/out" && grep -q "pub.sum:5: verified" "$T/out" ||
    fail "audit: go.mod and real-size lines: $(cat "$T/out")"
grep -q "sumdb.test.example at tree [0-9]*: 5 verified, 2 mismatch, 0 unknown, 0 skipped" "$T/out" ||
    fail "audit: summary: $(tail -1 "$T/out")"
"$B/sumdbd" audit -c "$T/sumdbd.conf" --json "$T/pub.sum" >"$T/out.json" 2>&1
python3 - "$T/out.json" "$UP" "$bad" <<'EOP' || fail "audit --json of the TOFU record"
import json, sys
d = json.load(open(sys.argv[1]))
l = [x for x in d['lines'] if x['status'] == 'mismatch']
assert [x['line'] for x in l] == [1, 7], l
assert all(x['mirror'] == sys.argv[2] and x['mirror_hash'] == sys.argv[3] for x in l), l
assert 'first use' in l[0]['explanation'], l
EOP
echo "$NAME: audit calls a go.sum line of that record a mismatch, naming the mirror and its hash: ok"

# add: with public = NAME a public path is refused, with its reason; so
# with public = none and [log] private set; a private path is added.
conf_db "$T/sumdbd.conf" "$T/add.conf" "$T/add.db"
sed -i '/^public = /d' "$T/add.conf"
"$B/sumdbd" add -c "$T/add.conf" example.com/legacy@v2.0.0+incompatible \
    corp.example/secret@v1.0.0 >"$T/out" 2>&1
[ $? = 1 ] || fail "add of a public path with public = $UP: exit code: $(cat "$T/out")"
grep -qx "sumdbd add: example.com/legacy@v2.0.0+incompatible: example.com/legacy is public: admitted only as $UP's verified record; add its path to \[log\] private or set public = goproxy" "$T/out" ||
    fail "add of a public path: $(cat "$T/out")"
grep -q "^corp.example/secret v1.0.0: record 0$" "$T/out" || fail "add of a private path: $(cat "$T/out")"
sed -i "s|^private = .*|private = corp.example/*\npublic = none|" "$T/add.conf"
"$B/sumdbd" add -c "$T/add.conf" example.com/legacy@v2.0.0+incompatible >"$T/out" 2>&1
[ $? = 1 ] || fail "add of a public path with public = none: exit code"
grep -qx "sumdbd add: example.com/legacy@v2.0.0+incompatible: example.com/legacy is not a private path of this log (\[log\] public = none): if this module is yours, add its path to \[log\] private" "$T/out" ||
    fail "add with public = none: $(cat "$T/out")"
[ "$(db_sql "$T/add.db" "SELECT count(*) FROM record")" = 1 ] || fail "add: refused paths were stored"
echo "$NAME: add refuses public paths with public = NAME or none, with the reason: ok"

# With public = NAME the log admits the mirror's records with their
# provenance; fsck checks each provenance row, and finds each tampered
# one.
stop_daemon
PRIVATE='corp.example/*' restart_daemon_with "$MIRROR"
[ "$(status "$URL/lookup/example.com/legacy@v2.0.0+incompatible")" = 200 ] ||
    fail "lookup of a public module with public = $UP"
stop_daemon
[ "$(F)" = 1 ] && grep -q "public records with provenance: 1$" "$T/out" &&
    [ "$(grep -c 'MISMATCH\|provenance names\|puts\|no such record' "$T/out")" = 1 ] ||
    fail "fsck with a provenance row: $(cat "$T/out")"
db_copy "$T/sumdbd.db" "$T/prov.db"
CLEAN=$T/prov.db
tamper() {
	corrupt "a provenance row $1" "$2" "^fsck: sumdb.test.example: $3"
}
tamper "naming another mirror record" \
    "UPDATE provenance SET upstream_id = upstream_id + 1" \
    "record 4: its text is not that of $UP record [0-9]*, which its provenance names"
tamper "naming a record the mirror lacks" \
    "UPDATE provenance SET upstream_id = 200" \
    "record 4: its provenance names $UP record 200, which is not stored"
tamper "naming a tree without the record" \
    "UPDATE provenance SET upstream_tree = upstream_id" \
    "record 4: its provenance puts $UP record [0-9]* in tree [0-9]*, which does not hold it"
tamper "naming a tree never stored" \
    "UPDATE provenance SET upstream_tree = upstream_tree - 1" \
    "record 4: its provenance names $UP's tree [0-9]*, which is not a stored checkpoint"
tamper "of no record" "UPDATE provenance SET id = 99" \
    "provenance of record 99: the log has no such record"
