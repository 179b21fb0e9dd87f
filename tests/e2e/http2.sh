#!/bin/sh
# HTTP/2: Debian's nginx, over TLS with http2 and a test CA
# (SSL_CERT_FILE), serves a static tree of a generated 1,000,000-record
# log (tests/upstream -dir) and the real sum.golang.org cache of
# tests/testdata/real.  A full mirror syncs all of the first to the
# exact tree (fsck), a lazy mirror of the second answers x/mod's client
# with real lookups; /metrics counts their upstream requests as HTTP/2
# only (version="2", never "1.1"), and nginx's access log shows every
# tile request over HTTP/2.0, on at most 2 connections, with more than
# one stream of a connection in flight at once (data tiles are paced
# by limit_req, so a request waits while later ones arrive).
# Acceptance 3 of issue 15.
. "$(dirname "$0")/lib.sh"

UP=sumdb.upstream.example
REAL=sum.golang.org
REALKEY=sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8
N=${SUMDB_H2_RECORDS:-1000000}
command -v nginx >/dev/null || fail "nginx is not installed"

upkey=$("$B/sumdbd" keygen -o "$T/up.key" $UP 2>/dev/null) || fail "keygen"
"$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example >/dev/null 2>&1
mkdir -p "$T/www"
"$B/upstream" -gen "$N" -dir "$T/www/gen" "$T/up.key" 2>"$T/upstream.log" ||
    fail "writing the tree: $(cat "$T/upstream.log")"
ntiles=$(find "$T/www/gen/tile" -type f | wc -l)
ndata=$(find "$T/www/gen/tile/8/data" -type f | wc -l)
cp -r tests/testdata/real/cache-2025-tree42965376 "$T/www/real"
test_ca
mkcert 127.0.0.1

# 1000 data tiles a second, the excess queued: a request waits for its
# turn with the next ones in flight beside it.
cat >"$T/ng.conf" <<EOC
limit_req_zone \$server_port zone=tiles:1m rate=1000r/s;
server {
$(nginx_tls 127.0.0.1)
	root $T/www;
	location /gen/tile/8/data/ { limit_req zone=tiles burst=100000; }
}
EOC
start_nginx h2 "$T/ng.conf" "https://127.0.0.1:@PORT@/gen/latest"
: >"$NGLOG"
U=https://127.0.0.1:$NGPORT

export SSL_CERT_FILE="$T/ca.pem"
start_daemon "[mirror $UP]" "key = $upkey" "url = $U/gen" "mode = full" \
    "[mirror $REAL]" "key = $REALKEY" "url = $U/real"
next() { sqlite3 "$T/sumdbd.db" "SELECT full_next FROM log WHERE name = '$UP'" 2>/dev/null || echo 0; }
i=0
until [ "$(next)" = "$N" ]; do
	i=$((i + 1)); [ $i -lt 3000 ] || fail "full sync did not finish: $(next) of $N"
	sleep 0.1
done
M=$URL/sumdb/$UP
[ "$(curl -s "$M/latest")" = "$(cat "$T/www/gen/latest")" ] ||
    fail "not the upstream's checkpoint"
"$B/sumdbd" fsck -c "$T/sumdbd.conf" >"$T/out" 2>&1 || fail "fsck: $(cat "$T/out")"
grep -q "$UP: $N records, 0 problems" "$T/out" || fail "fsck: $(cat "$T/out")"
echo "$NAME: full mirror of $N records ($ntiles tiles) from nginx over TLS: ok"

"$B/xmodref" client "$REALKEY" "$URL/sumdb/$REAL" golang.org/x/mod@v0.27.0 \
    github.com/google/uuid@v1.6.0 github.com/DATA-DOG/go-sqlmock@v1.5.2 \
    >"$T/out" 2>&1 || fail "x/mod's client through the mirror: $(cat "$T/out")"
echo "$NAME: real sum.golang.org lookups through the mirror from nginx: ok"

# The upstream requests of both mirrors counted as HTTP/2, none as 1.x.
curl -s "$URL/metrics" | grep '^sumdbd_fetch_requests_total{' >"$T/metrics"
for db in $UP $REAL; do
	grep -q "^sumdbd_fetch_requests_total{target=\"mirror $db\",code=\"200\",version=\"2\"} [1-9]" \
	    "$T/metrics" || fail "no HTTP/2 requests of mirror $db in: $(cat "$T/metrics")"
done
grep 'version="1' "$T/metrics" >"$T/other" &&
    fail "requests over HTTP/1: $(cat "$T/other")"
echo "$NAME: /metrics: upstream requests over HTTP/2, none over 1.x: ok"

# nginx saw HTTP/2.0 only; the tiles came on at most 2 connections, and
# at some moment more than one of a connection's streams was in flight.
log=$NGLOG
[ -s "$log" ] || fail "nginx logged no request"
awk '$3 != "HTTP/2.0"' "$log" >"$T/other"
[ -s "$T/other" ] && fail "requests not over HTTP/2.0: $(head -3 "$T/other")"
awk '$7 ~ "^/gen/tile/"' "$log" >"$T/tiles"
nreq=$(wc -l <"$T/tiles")
n=$(grep -c ' /gen/tile/8/data/' "$T/tiles")
[ "$n" -ge "$ndata" ] || fail "$n data tile requests, the tree has $ndata data tiles"
nconn=$(cut -d' ' -f1 "$T/tiles" | sort -u | wc -l)
[ "$nconn" -le 2 ] || fail "$nreq tile requests on $nconn connections: $(cut -d' ' -f1 "$T/tiles" | sort | uniq -c | head)"
# Each request from its start (msec - request_time) to its end; at a
# tie an end comes first, so intervals that only touch do not count.
inflight=$(awk '$5 > 0 { printf "%s %.3f 1\n%s %.3f 0\n", $1, $4 - $5, $1, $4 }' \
    "$T/tiles" | sort -k1,1n -k2,2n -k3,3n | awk '
	$1 != c { c = $1; d = 0 }
	$3 == 1 { if (++d > m) m = d }
	$3 == 0 { d-- }
	END { print m + 0 }')
[ "$inflight" -gt 1 ] || fail "never more than $inflight stream in flight on a connection"
echo "$NAME: nginx: $nreq tile requests over HTTP/2.0 on $nconn connection(s), up to $inflight streams in flight at once: ok"
