#!/bin/sh
# Air gap, end to end: instance A fully mirrors an upstream (on x/mod's
# tlog and note) and exports bundles; instance B, offline and never
# connecting anywhere, imports them, after which the real go command
# verifies modules through B; a second, later bundle advances B
# incrementally.  Acceptance 4 of the TUF issue.
. "$(dirname "$0")/lib.sh"
each_go

UP=sumdb.upstream.example
mkdir -p "$T/home"
"$B/xmodref" modtree "$T/proxy" example.com/hello@v1.0.0 \
    example.com/Upper/Mixed@v1.0.0 example.com/legacy@v2.0.0+incompatible \
    >"$T/hashes" || fail "modtree"
realmod_add "$T/proxy" xtools
realmod_hashes xtools >>"$T/hashes"
upkey=$("$B/sumdbd" keygen -o "$T/up.key" $UP 2>/dev/null) || fail "keygen"
"$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example >/dev/null 2>&1
start_upstream -gen 3000 -mods "$T/hashes"
# A: a full mirror.
start_daemon "[mirror $UP]" "key = $upkey" "url = http://127.0.0.1:$UPORT" \
    "mode = full" "poll = 1s"
full() { sqlite3 "$T/sumdbd.db" "SELECT full_next FROM log WHERE name = '$UP'" 2>/dev/null || echo 0; }
i=0
until [ "$(full)" = 3004 ]; do
	i=$((i + 1)); [ $i -lt 200 ] || fail "A did not finish its full mirror"
	sleep 0.1
done
"$B/sumdbd" export -c "$T/sumdbd.conf" --db $UP "$T/b1" >/dev/null || fail "export"

# B: offline, its own store; it only ever reads the bundle files.
cat >"$T/b.conf" <<EOC
[server]
listen = 127.0.0.1:1
database = $T/b.db
[mirror $UP]
key = $upkey
offline = yes
EOC
"$B/sumdbd" import -c "$T/b.conf" "$T/b1" >"$T/out" 2>&1 || fail "import: $(cat "$T/out")"
start_conf "$T/b.conf" "$T/b.log" "sumdb/$UP/latest"
BM=http://127.0.0.1:$OPORT/sumdb/$UP
consumer "$T/c"
realmod_require "$T/c" xtools
(cd "$T/c" && goenv "$T/gp" GOPROXY="file://$T/proxy" \
    GOSUMDB="$upkey $BM" go mod download all) >"$T/out" 2>&1 ||
    fail "go mod download through B: $(cat "$T/out")"
grep -q 'http://\|connect' "$T/b.log" && fail "B tried to connect somewhere"
realmod_gosum xtools "$T/c/go.sum"
realmod_lookup "$BM" xtools
echo "$NAME: A's bundle carried to offline B; the go command verifies through B, real-size x/tools included: ok"

# The upstream grows; A follows; the second bundle advances B while it
# serves.
curl -sf -o /dev/null "http://127.0.0.1:$UPORT/admin/grow?n=40" || fail "grow"
i=0
until [ "$(full)" = 3044 ]; do
	i=$((i + 1)); [ $i -lt 200 ] || fail "A did not follow"
	sleep 0.1
done
"$B/sumdbd" export -c "$T/sumdbd.conf" --db $UP --from 3004 "$T/b2" >/dev/null || fail "export 2"
"$B/sumdbd" import -c "$T/b.conf" "$T/b2" >"$T/out" 2>&1 || fail "import 2: $(cat "$T/out")"
grep -q 'trust base 3004 -> 3044, 40 records' "$T/out" || fail "import 2: $(cat "$T/out")"
i=0
until [ "$(curl -s "$BM/latest" | sed -n 2p)" = 3044 ]; do
	i=$((i + 1)); [ $i -lt 50 ] || fail "B does not serve the second bundle's tree"
	sleep 0.1
done
"$B/xmodref" client "$upkey" "$BM" example.com/gen/m10@v1.0.3010 >/dev/null ||
    fail "x/mod's client on a record of the second bundle"
(cd "$T/c" && goenv "$T/gp" GOPROXY="file://$T/proxy" \
    GOSUMDB="$upkey $BM" go mod download all) >"$T/out" 2>&1 ||
    fail "go again through B: $(cat "$T/out")"
echo "$NAME: a second bundle advances B incrementally; clients follow: ok"
