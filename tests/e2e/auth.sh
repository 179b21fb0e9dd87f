#!/bin/sh
# Inbound authentication (issue 15, acceptance 5): with auth = private
# the go commands (1.19 with ~/.netrc, 1.24 with GOAUTH=netrc) verify
# private modules, real-size ones too, over HTTPS; without credentials
# or with a wrong password they fail and the daemon answered 401; a
# mirror's data answers without credentials, POST /audit does not;
# Bearer tokens and TLS client certificates authenticate; SIGHUP
# reloads the users file written by sumdbd passwd; auth = all protects
# the mirror too, and /healthz and /metrics follow their switches; the
# password check limits (per address and at once) are pushed past.
. "$(dirname "$0")/lib.sh"

command -v openssl >/dev/null || fail "openssl is not installed"
UP=sumdb.upstream.example
LOGN=sumdb.test.example
mkdir -p "$T/home" "$T/nohome"

test_ca
mkcert sumdbd-server
# A client certificate of the trusted CA, and one of another CA.
mkcert build-host "$T/client"
test_ca "$T/ca2"
mkcert intruder "$T/other" "$T/ca2"

"$B/xmodref" modtree "$T/proxy" example.com/hello@v1.0.0 \
    example.com/Upper/Mixed@v1.0.0 \
    example.com/legacy@v2.0.0+incompatible >"$T/hashes" ||
    fail "building the module tree"
realmod_add "$T/proxy" xmod
vkey=$("$B/sumdbd" keygen -o "$T/log.key" $LOGN 2>/dev/null) || fail "keygen"
upkey=$("$B/sumdbd" keygen -o "$T/up.key" $UP 2>/dev/null) || fail "keygen"
start_upstream -gen 20

# 1. sumdbd passwd: the users file, mode 0600, one line per user.
PW='c0rrect-h0rse:battery'
printf '%s\n' "$PW" | "$B/sumdbd" passwd -f "$T/users" alice 2>"$T/out" ||
    fail "sumdbd passwd: $(cat "$T/out")"
printf 'other\n' | "$B/sumdbd" passwd -f "$T/users" bob 2>"$T/out" ||
    fail "sumdbd passwd bob: $(cat "$T/out")"
[ "$(stat -c %a "$T/users")" = 600 ] ||
    fail "users file mode $(stat -c %a "$T/users"), want 600"
[ "$(grep -c '^alice:\$argon2id\$' "$T/users")" = 1 ] &&
    [ "$(grep -c '^bob:' "$T/users")" = 1 ] ||
    fail "users file: $(cat "$T/users")"
printf '\n' | "$B/sumdbd" passwd -f "$T/users" carol 2>"$T/out" &&
    fail "sumdbd passwd took an empty password"
printf 'x\n' | "$B/sumdbd" passwd -f "$T/users" 'no:colon' 2>"$T/out" &&
    fail "sumdbd passwd took the name 'no:colon'"
# A malformed line is a file:line: error, for -n as at start.
cp "$T/users" "$T/users.bad"
printf '# comment\nmallory\n' >>"$T/users.bad"
printf '[server]\nauth = private\nusers = %s\n' "$T/users.bad" >"$T/bad.conf"
"$B/sumdbd" -n -c "$T/bad.conf" 2>"$T/out" &&
    fail "sumdbd -n took a malformed users file"
grep -q "users.bad:4: want NAME:HASH" "$T/out" ||
    fail "malformed users file: $(cat "$T/out")"
echo "$NAME: sumdbd passwd writes the users file (mode 600); a bad line is a file:line: error: ok"

LOG_GOPROXY=file://$T/proxy PRIVATE='example.com/*'
MIRROR="[mirror $UP]
key = $upkey
url = http://127.0.0.1:$UPORT"
start_tls_daemon "auth = private" "users = $T/users" \
    "tls_client_ca = $T/ca.pem" "auth_rate = 20" "workers = 2" \
    "auth_concurrency = 1" "$MIRROR"
C="curl -s --cacert $T/ca.pem"
# code ARGS...: the status of a GET with curl ARGS.
code() { $C -o "$T/body" -w '%{http_code}' "$@"; }
# want CODE ARGS...: the GET answers CODE.
want() {
	w=$1
	shift
	s=$(code "$@")
	[ "$s" = "$w" ] || fail "$*: $s '$(head -c 200 "$T/body")', want $w"
}
# unauthorized ARGS...: 401, WWW-Authenticate: Basic, a one-line body.
unauthorized() {
	s=$($C -D "$T/head" -o "$T/body" -w '%{http_code}' "$@")
	[ "$s" = 401 ] || fail "$*: $s, want 401"
	grep -qi '^WWW-Authenticate: Basic realm="sumdbd"' "$T/head" ||
	    fail "$*: no WWW-Authenticate: $(cat "$T/head")"
	[ "$(wc -l <"$T/body")" = 1 ] && grep -q '^unauthorized: ' "$T/body" ||
	    fail "$*: body '$(cat "$T/body")', want one line"
}
metric() {
	$C -u "alice:$PW" "$URL/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}

# 2. The go commands, over HTTPS: 401 without credentials, wrong ones
# 401, ~/.netrc works.  go 1.24 looks the host up with its port.
consumer "$T/c"
realmod_require "$T/c" xmod
netrc() {
	printf 'machine 127.0.0.1:%s login alice password %s\n' "$PORT" "$1" >"$T/home/.netrc"
	printf 'machine 127.0.0.1 login alice password %s\n' "$1" >>"$T/home/.netrc"
	chmod 600 "$T/home/.netrc"
}
# gocmd GOPATH: go mod download all through the log, GOAUTH=netrc.
gocmd() {
	rm -rf "$1" "$T/c/go.sum"
	(cd "$T/c" && goenv "$1" GOPROXY="file://$T/proxy" \
	    SSL_CERT_FILE="$T/ca.pem" GOAUTH=netrc GOSUMDB="$vkey $URL" \
	    go mod download all) >"$T/out" 2>&1
}
go_auth() {
	rm -f "$T/home/.netrc"
	m0=$(metric 'sumdbd_auth_total{result="missing"}')
	gocmd "$T/gp0" && fail "the go command verified without credentials"
	grep -q '401 Unauthorized' "$T/out" ||
	    fail "no 401 without credentials: $(tail -3 "$T/out")"
	[ "$(metric 'sumdbd_auth_total{result="missing"}')" -gt "$m0" ] ||
	    fail "the daemon counted no request without credentials"
	netrc 'wrong-password'
	gocmd "$T/gp1" && fail "the go command verified with a wrong password"
	grep -q '401 Unauthorized' "$T/out" ||
	    fail "no 401 with a wrong password: $(tail -3 "$T/out")"
	netrc "$PW"
	gocmd "$T/gp2" || fail "go mod download with ~/.netrc: $(tail -5 "$T/out")"
	while read -r p v zh mh; do
		grep -qxF "$p $v $zh" "$T/c/go.sum" &&
		    grep -qxF "$p $v/go.mod $mh" "$T/c/go.sum" ||
		    fail "go.sum: no '$p $v $zh'"
	done <"$T/hashes"
	realmod_gosum xmod "$T/c/go.sum"
	(cd "$T/c" && goenv "$T/gp2" GOPROXY="file://$T/proxy" \
	    SSL_CERT_FILE="$T/ca.pem" GOAUTH=netrc GOSUMDB="$vkey $URL" \
	    go mod verify) >"$T/out" 2>&1 || fail "go mod verify: $(cat "$T/out")"
}
for_each_go go_auth
echo "$NAME: go $GOVS: private modules (x/mod's real tree too) verify with ~/.netrc; without credentials or with a wrong password 401: ok"

# 3. What auth = private protects, and what it leaves open.
for p in /latest /lookup/example.com/hello@v1.0.0 /tile/8/0/000.p/1 \
    /sumdb/$LOGN/latest /sumdb/$LOGN/supported /tuf/timestamp.json; do
	unauthorized "$URL$p"
done
unauthorized -X POST --data-binary @"$T/c/go.sum" "$URL/audit"
want 200 -u "alice:$PW" "$URL/latest"
want 200 -u "alice:$PW" -X POST --data-binary @"$T/c/go.sum" "$URL/audit"
grep -q '"verified"' "$T/body" || fail "POST /audit: $(head -c 300 "$T/body")"
want 200 "$URL/sumdb/$UP/latest"
want 200 "$URL/sumdb/$UP/supported"
want 200 "$URL/healthz"
want 200 "$URL/metrics"
want 404 "$URL/nothing"
echo "$NAME: auth = private: the private log, /tuf/ and POST /audit want credentials; the mirror, /healthz and /metrics do not: ok"

# 4. Bearer NAME.PASSWORD, and client certificates.
want 200 -H "Authorization: Bearer alice.$PW" "$URL/latest"
unauthorized -H "Authorization: Bearer alice.nope" "$URL/latest"
unauthorized -H "Authorization: Bearer alice" "$URL/latest"
unauthorized -H "Authorization: Digest x" "$URL/latest"
want 200 --cert "$T/client.pem" --key "$T/client.key" "$URL/latest"
unauthorized --cert "$T/other.pem" --key "$T/other.key" "$URL/latest"
echo "$NAME: Bearer tokens and client certificates of tls_client_ca authenticate; another CA's do not: ok"

# 5. SIGHUP reloads the users file: a new password, the old one refused.
printf 'new-secret\n' | "$B/sumdbd" passwd -c "$T/sumdbd.conf" alice \
    2>"$T/out" || fail "sumdbd passwd -c: $(cat "$T/out")"
[ "$(grep -c '^alice:' "$T/users")" = 1 ] || fail "alice is not once in the users file"
kill -HUP "$DPID"
wait_for grep -q "users file '$T/users' loaded: 2 users" "$T/daemon.log" ||
    fail "SIGHUP did not load the users file"
unauthorized -u "alice:$PW" "$URL/latest"
want 200 -u "alice:new-secret" "$URL/latest"
PW='new-secret'
# A broken users file keeps the running one.
echo garbage >>"$T/users"
kill -HUP "$DPID"
wait_for grep -q "keeping the running users file" "$T/daemon.log" ||
    fail "a broken users file on SIGHUP was not reported"
want 200 -u "bob:other" "$URL/latest"
sed -i '$d' "$T/users"
echo "$NAME: SIGHUP loads a changed users file and keeps the running one when it is broken: ok"

# 6. The password check limits.  Per address: auth_rate checks a
# minute, then 429 with Retry-After (cached right credentials still
# pass).  Each wrong password is a new check.
n=0
while :; do
	n=$((n + 1))
	[ $n -le 50 ] || fail "no 429 after 50 wrong passwords from one address"
	s=$($C --interface 127.0.0.9 -D "$T/head" -o "$T/body" -w '%{http_code}' \
	    -u "bob:wrong$n" "$URL/latest")
	[ "$s" = 429 ] && break
	[ "$s" = 401 ] || fail "wrong password $n: $s, want 401 or 429"
done
grep -qi '^Retry-After: [0-9]' "$T/head" || fail "429 without Retry-After"
[ "$(wc -l <"$T/body")" = 1 ] && grep -q 'too many password checks' "$T/body" ||
    fail "429 body '$(cat "$T/body")'"
want 200 --interface 127.0.0.9 -u "alice:$PW" "$URL/latest"
# At once: auth_concurrency (1) over all workers, then 503.  Rounds of
# 12 clients, each from its own address, until one is refused.
round=0
while :; do
	round=$((round + 1))
	[ $round -le 30 ] || fail "no 503 in 30 rounds of 12 concurrent checks"
	cpids=
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
		$C --interface "127.0.$round.$((i + 10))" -D "$T/h$i" -o "$T/b$i" \
		    -w '%{http_code}' -u "bob:x$round.$i" "$URL/latest" >"$T/s$i" &
		cpids="$cpids $!"
	done
	for p in $cpids; do wait "$p"; done
	hit=
	for i in 1 2 3 4 5 6 7 8 9 10 11 12; do
		case $(cat "$T/s$i") in
		401) ;;
		503) hit=$i ;;
		*) fail "concurrent check $i: $(cat "$T/s$i"), want 401 or 503" ;;
		esac
	done
	[ -n "$hit" ] && break
done
grep -qi '^Retry-After: 1' "$T/h$hit" || fail "503 without Retry-After"
[ "$(wc -l <"$T/b$hit")" = 1 ] && grep -q 'too many password checks at once' "$T/b$hit" ||
    fail "503 body '$(cat "$T/b$hit")'"
[ "$(metric 'sumdbd_auth_total{result="limited"}')" -ge 2 ] ||
    fail "sumdbd_auth_total{result=\"limited\"}: $(metric 'sumdbd_auth_total{result="limited"}')"
echo "$NAME: password checks past auth_rate are refused 429, past auth_concurrency 503, with Retry-After: ok"

# 7. auth = all, with /healthz and /metrics behind credentials too;
# client-config tells build hosts what to put in ~/.netrc.
stop_daemon
start_tls_daemon "auth = all" "users = $T/users" "auth_healthz = yes" \
    "auth_metrics = yes" "$MIRROR"
unauthorized "$URL/sumdb/$UP/latest"
want 200 -u "alice:$PW" "$URL/sumdb/$UP/latest"
unauthorized "$URL/healthz"
unauthorized "$URL/metrics"
unauthorized "$URL/nothing"
want 200 -u "alice:$PW" "$URL/healthz"
want 200 -u "alice:$PW" "$URL/metrics"
grep -q '^sumdbd_auth_total{result="ok"} [1-9]' "$T/body" ||
    fail "no sumdbd_auth_total: $(grep auth "$T/body")"
"$B/sumdbd" client-config -c "$T/sumdbd.conf" >"$T/cc" 2>&1 ||
    fail "client-config: $(cat "$T/cc")"
grep -qx "#   machine 127.0.0.1:$PORT login NAME password PASSWORD" "$T/cc" &&
    grep -qx "#   machine 127.0.0.1 login NAME password PASSWORD" "$T/cc" &&
    grep -q 'GOAUTH=netrc' "$T/cc" ||
    fail "client-config says nothing of ~/.netrc: $(cat "$T/cc")"
echo "$NAME: auth = all wants credentials for the mirror too, /healthz and /metrics by their switches; client-config prints the ~/.netrc lines: ok"
