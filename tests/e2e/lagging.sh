#!/bin/sh
# The lagging-mirror problem: a client whose cached checkpoint is newer
# than the mirror's (it also talked to the upstream) asks the mirror for
# the right edge of that newer tree; the mirror, which would otherwise
# only poll in an hour, syncs and serves it, verified.
. "$(dirname "$0")/lib.sh"

UP=sumdb.upstream.example
upkey=$("$B/sumdbd" keygen -o "$T/up.key" $UP 2>/dev/null) || fail "keygen"
"$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example >/dev/null 2>&1
start_upstream -gen 1000
start_daemon "[mirror $UP]" "key = $upkey" "url = http://127.0.0.1:$UPORT" \
    "poll = 1h"
M=$URL/sumdb/$UP
[ "$(status "$M/lookup/example.com/gen/m1@v1.0.1")" = 200 ] || fail "first lookup"
[ "$(curl -s "$M/latest" | sed -n 2p)" = 1000 ] || fail "mirror tree"
curl -sf -o /dev/null "http://127.0.0.1:$UPORT/admin/grow?n=7" || fail "grow"
sleep 1.2	# the mirror asks the upstream at most once a second
# The client learns tree 1007 upstream, then asks the mirror for m1,
# whose answer carries tree 1000: proving 1000 in 1007 needs tiles of
# 1007 that the mirror does not have yet.
"$B/xmodref" lagclient "$upkey" "http://127.0.0.1:$UPORT" \
    example.com/gen/m2@v1.0.2 "$M" example.com/gen/m1@v1.0.1 >"$T/out" 2>&1 ||
    fail "a client ahead of the mirror: $(cat "$T/out")"
[ "$(curl -s "$M/latest" | sed -n 2p)" = 1007 ] || fail "the mirror did not sync"
# Tiles beyond even the upstream's tree are still 404, without a storm
# of polls.
[ "$(status "$M/tile/8/0/009")" = 404 ] || fail "tile beyond every tree"
[ "$(status "$M/tile/8/0/009")" = 404 ] || fail "tile beyond every tree, again"
echo "$NAME: a client ahead of the mirror is served the newer tree, verified: ok"
