#!/bin/sh
# tuf-js (from npm, the independent TUF client) refreshes sumdbd's /tuf/
# from its first root, downloads and verifies each target, then again
# with the same trusted state after a root rotation and after the
# daemon re-signed the timestamp.  Acceptance 1 of the TUF issue.
. "$(dirname "$0")/lib.sh"

tufjs_setup
tufjs1() {
	tufjs "$URL" "$T/1.root.json" sumdb.test.example/key \
	    sumdb.test.example/latest "$@"
}

"$B/xmodref" modtree "$T/proxy" example.com/hello@v1.0.0 >/dev/null || fail "modtree"
# And a real-size module (x/tools, 2.4 MB): the first bundle carries it.
realmod_add "$T/proxy" xtools
vkey=$("$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example 2>/dev/null) || fail "keygen"
write_config "$T/sumdbd.conf" 1 "[tuf]" "keys = $T/tuf.keys"
"$B/sumdbd" tuf init -c "$T/sumdbd.conf" -n 2 -t 2 "$T/root1" >/dev/null ||
    fail "tuf init"
[ "$(stat -c %a "$T/tuf.keys")" = 600 ] || fail "online keys file mode"
[ "$(ls "$T/root1" | wc -l)" = 2 ] || fail "root keys"
"$B/sumdbd" add -c "$T/sumdbd.conf" example.com/hello@v1.0.0 $(realmod_mv xtools) \
    >/dev/null || fail "add"
start_daemon "[tuf]" "keys = $T/tuf.keys" "resign = 2s"
curl -sf "$URL/tuf/1.root.json" >"$T/1.root.json" || fail "1.root.json"
[ "$(status "$URL/tuf/2.root.json")" = 404 ] || fail "2.root.json before rotation"

tufjs1 sumdb.test.example/bundles/0-2 >"$T/out" 2>&1 || fail "tuf-js: $(cat "$T/out")"
grep -q "^sumdb.test.example/key " "$T/out" || fail "tuf-js: $(cat "$T/out")"
[ "$(cat "$T/targets/sumdb.test.example_key")" = "$vkey" ] || fail "key target"
curl -s "$URL/latest" | cmp -s - "$T/targets/sumdb.test.example_latest" ||
    fail "latest target"
echo "$NAME: tuf-js refreshes from root 1 and verifies every target: ok"

# A root rotation, with the daemon running: the client follows it.
"$B/sumdbd" tuf rotate -c "$T/sumdbd.conf" -n 1 "$T/root1" "$T/root2" \
    >/dev/null || fail "tuf rotate"
[ "$(status "$URL/tuf/2.root.json")" = 200 ] || fail "2.root.json"
[ "$(status "$URL/tuf/1.root.json")" = 200 ] || fail "1.root.json is gone"
tufjs1 >"$T/out" 2>&1 || fail "tuf-js after rotation: $(cat "$T/out")"
grep -q '"version":2' "$T/meta/root.json" || fail "tuf-js did not take root 2"
echo "$NAME: tuf-js follows a root rotation signed by old and new keys: ok"

# The timestamp is re-signed on a timer, and the log grows.
ts=$(curl -s "$URL/tuf/timestamp.json" | sed 's/.*"_type":"timestamp".*"version":\([0-9]*\)}.*/\1/')
sleep 2.5
ts2=$(curl -s "$URL/tuf/timestamp.json" | sed 's/.*"_type":"timestamp".*"version":\([0-9]*\)}.*/\1/')
[ "$ts2" -gt "$ts" ] || fail "timestamp not re-signed ($ts, $ts2)"
"$B/xmodref" modtree "$T/proxy" example.com/hello@v1.1.0 >/dev/null
[ "$(status "$URL/lookup/example.com/hello@v1.1.0")" = 200 ] || fail "lookup"
sleep 1.5
tufjs1 sumdb.test.example/bundles/2-3 >"$T/out" 2>&1 ||
    fail "tuf-js after re-signing: $(cat "$T/out")"
curl -s "$URL/latest" | cmp -s - "$T/targets/sumdb.test.example_latest" ||
    fail "latest target after growth"
echo "$NAME: tuf-js after timestamp re-signs and a new trust base: ok"

# The published bundles, downloaded by tuf-js, import into an offline
# mirror that then holds the same tree.
cat >"$T/b.conf" <<EOC
[server]
$(db_conf "$T/b.db")
[mirror sumdb.test.example]
key = $vkey
offline = yes
EOC
for b in 0-2 2-3; do
	"$B/sumdbd" import -c "$T/b.conf" "$T/targets/sumdb.test.example_bundles_$b" \
	    >"$T/out" 2>&1 || fail "import of bundle $b: $(cat "$T/out")"
done
[ "$(db_sql "$T/b.db" "SELECT $(sql_text note) FROM checkpoint ORDER BY size DESC LIMIT 1")" = \
    "$(curl -s "$URL/latest")" ] || fail "the imported tree differs"
db_sql "$T/b.db" "SELECT $(sql_text text) FROM record ORDER BY log, id" >"$T/b.sum" ||
    fail "reading the imported records"
realmod_gosum xtools "$T/b.sum"
realmod_lookup "$URL" xtools
echo "$NAME: the daemon publishes bundles per trust base; imported offline, x/tools's record the go command's: ok"

# sumdbd import from the TUF repository itself, from the pinned root:
# the whole client workflow, then every bundle in order.
conf_db "$T/b.conf" "$T/c.conf" "$T/c.db"
"$B/sumdbd" import -c "$T/c.conf" --root "$T/1.root.json" --state "$T/cstate" \
    "$URL/tuf/" >"$T/out" 2>&1 || fail "import from TUF: $(cat "$T/out")"
grep -q 'root 2, .*2 bundles imported' "$T/out" || fail "import from TUF: $(cat "$T/out")"
[ "$(db_sql "$T/c.db" "SELECT $(sql_text note) FROM checkpoint ORDER BY size DESC LIMIT 1")" = \
    "$(curl -s "$URL/latest")" ] || fail "the TUF-imported tree differs"
# Again: nothing new, and the trusted state carries over.
"$B/sumdbd" import -c "$T/c.conf" --state "$T/cstate" "$URL/tuf/" >"$T/out" 2>&1 ||
    fail "second import from TUF: $(cat "$T/out")"
grep -q '0 bundles imported' "$T/out" || fail "second import: $(cat "$T/out")"
echo "$NAME: sumdbd import runs the TUF workflow from a pinned root and imports the bundles: ok"
