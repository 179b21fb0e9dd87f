#!/bin/sh
# Egress through a proxy (issue 15, acceptance 1): a full [mirror] whose
# upstream (tests/upstream on 127.0.0.2) it reaches through squid,
# started here on loopback with an ACL that lets through only GET and
# CONNECT to the upstream and caches nothing.  It syncs and serves
# (x/mod's client verifies lookups through sumdbd), and squid's access
# log holds every request the upstream saw (its -reqlog), request for
# request: with `proxy = URL`, with HTTP_PROXY (upper case, as the go
# command reads it) and, in a second case, with basic auth on squid and
# `proxy_auth = FILE` (a 0644 file refused at its line; the password
# never logged; a wrong one is squid's 407, reported as a proxy error;
# the same with the credentials in HTTP_PROXY's URL).
# NO_PROXY naming the upstream and `proxy = none` (over HTTP_PROXY and
# HTTPS_PROXY) bypass squid: its log stays empty, and a dead URL of that
# host is no proxy error.  With squid stopped, the mirror reports the
# proxy error: a log line and sumdbd_fetch_proxy_errors_total.  Last,
# an https upstream (nginx, TLS and HTTP/2, a test CA) through
# HTTPS_PROXY: CONNECT tunnels only, HTTP/2 inside them.
. "$(dirname "$0")/lib.sh"

command -v squid >/dev/null || fail "squid is not installed"
command -v htpasswd >/dev/null || fail "htpasswd (apache2-utils) is not installed"
UP=sumdb.upstream.example
TARGET="mirror $UP"
mkdir -p "$T/home"
"$B/xmodref" modtree "$T/proxy" example.com/hello@v1.0.0 \
    example.com/Upper/Mixed@v1.0.0 >"$T/hashes" || fail "module tree"
upkey=$("$B/sumdbd" keygen -o "$T/up.key" $UP 2>/dev/null) || fail "keygen"
"$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example >/dev/null 2>&1
GEN=300
start_upstream -gen "$GEN" -mods "$T/hashes" -reqlog "$T/upreq.log"
# The upstream answers on 127.0.0.2 too: the mirror's URL names that
# address, which is the only one squid lets through.
UPURL=http://127.0.0.2:$UPORT
SIZE=$((GEN + 2))
start_squid "127.0.0.2:$UPORT"
M=
grow() {
	curl -sf -o /dev/null "http://127.0.0.1:$UPORT/admin/grow?n=$1" ||
	    fail "grow"
	SIZE=$((SIZE + $1))
}

# mirror LINES...: (re)start the daemon on a new store with a mirror of
# the upstream (mode MODE, default full; first the URL DEAD, if set)
# and LINES in its section; marks the logs.
mirror() {
	stop_daemon
	rm -f "$T/sumdbd.db"*
	UPMARK=$(wc -l <"$T/upreq.log")
	SQMARK=$(wc -l <"$SQLOG")
	touch "$T/daemon.log"
	DLMARK=$(wc -l <"$T/daemon.log")
	set -- "[mirror $UP]" "key = $upkey" ${DEAD:+"url = $DEAD"} "url = $UPURL" \
	    "mode = ${MODE:-full}" "poll = 1s" "fetch_timeout = 5s" "$@"
	if [ -z "$M" ]; then
		start_daemon "$@"
		M=$URL/sumdb/$UP
	else
		restart_daemon_with "$@"
	fi
}

# synced CASE: the upstream grows; the mirror reaches its tree, and
# x/mod's client verifies through it a record of the first tree and a
# new one (a full mirror holds both; a lazy one asks the upstream).
synced() {
	grow 7
	wait_for sh -c "[ \"\$(curl -s $M/latest | sed -n 2p)\" = $SIZE ]" ||
	    fail "$1: the mirror did not sync to $SIZE: $(curl -s "$M/latest")"
	n=$((SIZE - 3))
	"$B/xmodref" client "$upkey" "$M" example.com/hello@v1.0.0 \
	    "example.com/gen/m$((n % 1000))@v1.0.$n" >"$T/client.out" 2>&1 ||
	    fail "$1: x/mod's client through the mirror: $(cat "$T/client.out")"
}

# upreqs: the paths the upstream was asked for since the mark, sorted,
# without the test's own /admin/ requests.
upreqs() {
	sed -n "$((UPMARK + 1)),\$p" "$T/upreq.log" | grep -v '^/admin/' | sort
}

# sqreqs [USER]: the paths squid passed on to the upstream since the
# mark (not those it refused itself), sorted; with USER, only lines
# with that proxy user.
sqreqs() {
	sed -n "$((SQMARK + 1)),\$p" "$SQLOG" |
	    awk -v u="http://127.0.0.2:$UPORT/" -v user="${1:-}" \
	    '$1 == "GET" && index($2, u) == 1 && $3 != 403 && $3 != 407 &&
	    (user == "" || $4 == user) { print substr($2, length(u)) }' | sort
}

# all_through_squid CASE [USER]: every request the upstream saw since
# the mark went through squid (as USER), and there were some.  The
# daemon is stopped first: squid logs a request once it is over.
all_through_squid() {
	stop_daemon
	upreqs >"$T/up.out"
	[ -s "$T/up.out" ] || fail "$1: the upstream saw no request"
	i=0
	until sqreqs "${2:-}" >"$T/sq.out"; cmp -s "$T/up.out" "$T/sq.out"; do
		i=$((i + 1))
		[ $i -lt 50 ] || fail "$1: the upstream saw" \
		    "$(wc -l <"$T/up.out") requests, squid passed on" \
		    "$(wc -l <"$T/sq.out")${2:+ as $2}:" \
		    "$(diff "$T/up.out" "$T/sq.out" | grep '^[<>]' | head -5)"
		sleep 0.1
	done
	echo "$NAME: $1: synced, verified, $(wc -l <"$T/up.out") upstream requests, all through squid: ok"
}

# bypassed CASE: the upstream saw requests since the mark, squid none.
bypassed() {
	stop_daemon
	[ -n "$(upreqs)" ] || fail "$1: the upstream saw no request"
	[ "$(sed -n "$((SQMARK + 1)),\$p" "$SQLOG" | wc -l)" = 0 ] ||
	    fail "$1: squid saw $(sed -n "$((SQMARK + 1)),\$p" "$SQLOG" | head -3)"
	echo "$NAME: $1: synced, verified, $(upreqs | wc -l) upstream requests, none through squid: ok"
}

# perr: sumdbd_fetch_proxy_errors_total of the mirror.
perr() {
	curl -s "$URL/metrics" | awk -v t="target=\"$TARGET\"" \
	    '/^sumdbd_fetch_proxy_errors_total\{/ && index($0, t) { print $NF }'
}
perr_counted() { [ "$(perr)" -gt 0 ] 2>/dev/null; }
newlog() { sed -n "$((DLMARK + 1)),\$p" "$T/daemon.log"; }
proxy_logged() { newlog | grep -qi proxy; }

# 1. proxy = URL.
mirror "proxy = $SQURL"
synced "proxy = URL"
all_through_squid "proxy = URL"

# 2. The environment, as the go command reads it: HTTP_PROXY in upper
# case (libcurl alone would read only http_proxy for an http:// URL).
export HTTP_PROXY="$SQURL"
mirror
unset HTTP_PROXY
synced "HTTP_PROXY"
all_through_squid "HTTP_PROXY"

# 3. NO_PROXY naming the upstream's host bypasses it.  Each request
# first fails on a dead URL of that host, which is not a proxy error.
export HTTP_PROXY="$SQURL" HTTPS_PROXY="$SQURL" NO_PROXY=127.0.0.2
DEAD=http://127.0.0.2:1
mirror "retries = 0"
DEAD=
unset HTTP_PROXY HTTPS_PROXY NO_PROXY
synced "NO_PROXY"
[ "$(perr)" = 0 ] || [ -z "$(perr)" ] ||
    fail "NO_PROXY: the dead URL counted as $(perr) proxy errors"
! newlog | grep -i proxy | grep -q '127\.0\.0\.2:1/' ||
    fail "NO_PROXY: the dead URL logged as a proxy error: $(newlog | grep -i proxy | head -1)"
failed='^sumdbd_fetch_requests_total{target="'$TARGET'",code="none",.* [1-9]'
curl -s "$URL/metrics" | grep -q "$failed" ||
    fail "NO_PROXY: no failed request (to the dead URL) counted"
echo "$NAME: NO_PROXY: a dead URL of the upstream's host failed directly, no proxy error: ok"
bypassed "NO_PROXY"

# 4. proxy = none overrides the environment.
export HTTP_PROXY="$SQURL" HTTPS_PROXY="$SQURL"
mirror "proxy = none"
unset HTTP_PROXY HTTPS_PROXY
synced "proxy = none"
bypassed "proxy = none over HTTP_PROXY and HTTPS_PROXY"

# 5. Basic auth on squid, a lazy mirror (lookups and tiles upstream),
# the credentials in a secret file.
stop_squid
PW=sq-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
start_squid "127.0.0.2:$UPORT" "sumdbd:$PW"
echo "sumdbd:$PW" >"$T/proxy.auth"
chmod 0644 "$T/proxy.auth"
secret_refused proxy_auth "$PW" "[mirror $UP]" "key = $upkey" \
    "url = $UPURL" "proxy = $SQURL" "proxy_auth = $T/proxy.auth"
echo "$NAME: a proxy_auth file readable by others refused at its line: ok"
chmod 0600 "$T/proxy.auth"
MODE=lazy
mirror "proxy = $SQURL" "proxy_auth = $T/proxy.auth"
synced "authenticated proxy"
all_through_squid "authenticated proxy" sumdbd
! grep -qF "$PW" "$T/daemon.log" || fail "the proxy's password in the log"
[ -n "$(sqreqs sumdbd)" ] || fail "no request as the proxy user"

# The credentials in HTTP_PROXY's URL, as the go command takes them:
# used, and never logged, also when the proxy refuses them.
export HTTP_PROXY="http://sumdbd:$PW@127.0.0.1:$SQPORT"
mirror
unset HTTP_PROXY
synced "credentials in HTTP_PROXY"
all_through_squid "credentials in HTTP_PROXY" sumdbd
export HTTP_PROXY="http://sumdbd:wrong$PW@127.0.0.1:$SQPORT"
mirror
unset HTTP_PROXY
wait_for perr_counted ||
    fail "wrong password in HTTP_PROXY: sumdbd_fetch_proxy_errors_total is '$(perr)'"
stop_daemon
! grep -qF "$PW" "$T/daemon.log" || fail "HTTP_PROXY's password in the log:" \
    "$(grep -F "$PW" "$T/daemon.log" | head -1)"
echo "$NAME: a wrong password in HTTP_PROXY: a proxy error, never logged: ok"

# 6. A wrong password: squid refuses it (407), nothing reaches the
# upstream, and the daemon reports it as the proxy's refusal.
echo "sumdbd:wrong$PW" >"$T/proxy.auth"
mirror "proxy = $SQURL" "proxy_auth = $T/proxy.auth"
wait_for grep -q ' 407 sumdbd$' "$SQLOG" ||
    fail "wrong proxy password: no 407 in squid's log"
[ "$(status "$M/lookup/example.com/gen/m9@v1.0.9")" = 502 ] ||
    fail "wrong proxy password: a lookup did not fail with 502"
proxy407() { newlog | grep -i proxy | grep -q 407; }
wait_for proxy407 ||
    fail "wrong proxy password: no log line names the proxy and 407"
wait_for perr_counted ||
    fail "wrong proxy password: sumdbd_fetch_proxy_errors_total is '$(perr)'"
stop_daemon
[ -z "$(upreqs)" ] || fail "wrong proxy password: the upstream saw $(upreqs | head -3)"
! grep -qF "$PW" "$T/daemon.log" || fail "the proxy's password in the log"
echo "$NAME: a wrong proxy password: 407, the lookup 502, logged and" \
    "counted as a proxy error, nothing upstream: ok"

# 7. squid stopped: each poll and lookup miss fails on the proxy, and
# says so.
echo "sumdbd:$PW" >"$T/proxy.auth"
mirror "proxy = $SQURL" "proxy_auth = $T/proxy.auth"
synced "before squid stops"
stop_squid
grow 3
DLMARK=$(wc -l <"$T/daemon.log")
wait_for proxy_logged || fail "squid stopped: no log line about the proxy"
n=$((SIZE - 1))
s=$(curl -s -o "$T/body" -w '%{http_code}' \
    "$M/lookup/example.com/gen/m$((n % 1000))@v1.0.$n")
[ "$s" = 502 ] || fail "squid stopped: a lookup miss got $s, want 502"
wait_for perr_counted ||
    fail "squid stopped: sumdbd_fetch_proxy_errors_total{target=\"$TARGET\"}" \
    "is '$(perr)': $(curl -s "$URL/metrics" | grep '^sumdbd_fetch_')"
echo "$NAME: squid stopped: '$(newlog | grep -i proxy | head -1 | cut -c1-240)'," \
    "$(perr) proxy errors counted: ok"

# 8. An https upstream (nginx with TLS and HTTP/2 in front of the
# upstream, under a test CA in SSL_CERT_FILE) through HTTPS_PROXY: one
# CONNECT tunnel a connection, each a squid log line, and HTTP/2 inside.
MODE=full
test_ca
mkcert 127.0.0.1
cat >"$T/tls.conf" <<EOC
server {
$(nginx_tls 127.0.0.1)
	location / { proxy_pass http://127.0.0.1:$UPORT; }
}
EOC
start_nginx tls "$T/tls.conf" "https://127.0.0.1:@PORT@/"
UPURL=https://127.0.0.1:$NGPORT
start_squid "127.0.0.1:$NGPORT"
: >"$NGLOG"
export HTTPS_PROXY="$SQURL" SSL_CERT_FILE="$T/ca.pem"
mirror
unset HTTPS_PROXY SSL_CERT_FILE
synced "HTTPS_PROXY"
h2=$(curl -s "$URL/metrics" | awk -v t="target=\"$TARGET\"" \
    '/^sumdbd_fetch_requests_total\{/ && index($0, t) &&
    /code="200",version="2"/ { print $NF }')
stop_daemon
tunnels=$(grep -c "^CONNECT 127.0.0.1:$NGPORT 200 " "$SQLOG")
conns=$(awk '{ print $1 }' "$NGLOG" | sort -u | wc -l)
[ "$(grep -vc '^CONNECT ' "$SQLOG")" = 0 ] ||
    fail "HTTPS_PROXY: not only CONNECTs in squid's log: $(grep -v '^CONNECT ' "$SQLOG" | head -3)"
[ "$(wc -l <"$NGLOG")" -gt 0 ] && [ "$tunnels" -ge "$conns" ] ||
    fail "HTTPS_PROXY: $(wc -l <"$NGLOG") requests on $conns" \
    "connections at the upstream, $tunnels CONNECTs through squid"
[ "${h2:-0}" -gt 0 ] 2>/dev/null ||
    fail "HTTPS_PROXY: no HTTP/2 answer counted"
echo "$NAME: HTTPS_PROXY: an https upstream through $tunnels CONNECT" \
    "tunnels, $(wc -l <"$NGLOG") requests on $conns connections, $h2 over HTTP/2: ok"
