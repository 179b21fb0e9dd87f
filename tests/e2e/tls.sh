#!/bin/sh
# TLS: with tls_certificate and tls_key the listener speaks HTTPS only;
# the go command verifies modules through it with a test CA
# (SSL_CERT_FILE); TLS 1.2 and 1.3 are accepted, TLS 1.1 refused (the
# probe is first shown to speak TLS 1.1 to openssl s_server); SIGHUP
# loads a renewed certificate from the same paths and keeps the running
# one when the new files are broken.
. "$(dirname "$0")/lib.sh"
each_go

mkdir -p "$T/home"

test_ca
mkcert sumdbd-first

"$B/xmodref" modtree "$T/proxy" example.com/hello@v1.0.0 \
    example.com/hello@v1.1.0 example.com/Upper/Mixed@v1.0.0 \
    example.com/legacy@v2.0.0+incompatible >"$T/hashes" ||
    fail "building the module tree"
realmod_add "$T/proxy" xmod
vkey=$("$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example 2>/dev/null) ||
    fail "keygen"

start_tls_daemon
grep -q 'TLS on 127.0.0.1' "$T/daemon.log" || fail "no TLS start message"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")" != 200 ] ||
    fail "plain HTTP is served on the TLS listener"

# 1. The go command, over HTTPS with the test CA.
consumer "$T/c"
realmod_require "$T/c" xmod
cat >"$T/c/main.go" <<EOG
package main

import (
	hello "example.com/hello"
	legacy "example.com/legacy"
	mixed "example.com/Upper/Mixed"
)

func main() { println(hello.V(), mixed.V(), legacy.V()) }
EOG
(cd "$T/c" && goenv "$T/gp" GOPROXY="file://$T/proxy" SSL_CERT_FILE="$T/ca.pem" \
    GOSUMDB="$vkey $URL" go mod download all) >"$T/out" 2>&1 ||
    fail "go mod download over HTTPS: $(cat "$T/out")"
(cd "$T/c" && goenv "$T/gp" GOPROXY="file://$T/proxy" SSL_CERT_FILE="$T/ca.pem" \
    GOSUMDB="$vkey $URL" go mod verify) >"$T/out" 2>&1 ||
    fail "go mod verify over HTTPS: $(cat "$T/out")"
while read -r p v zh mh; do
	case "$p $v" in "example.com/hello v1.1.0") continue;; esac
	grep -qxF "$p $v $zh" "$T/c/go.sum" || fail "go.sum: no '$p $v $zh'"
	grep -qxF "$p $v/go.mod $mh" "$T/c/go.sum" ||
	    fail "go.sum: no '$p $v/go.mod $mh'"
done <"$T/hashes"
realmod_gosum xmod "$T/c/go.sum"
(CURL_CA_BUNDLE=$T/ca.pem; export CURL_CA_BUNDLE; realmod_lookup "$URL" xmod) ||
    exit 1
# Without the CA the go command must refuse the server.
rm -rf "$T/gp2"
(cd "$T/c" && rm -f go.sum && goenv "$T/gp2" GOPROXY="file://$T/proxy" \
    GOSUMDB="$vkey $URL" go mod download all) >"$T/out" 2>&1 &&
    fail "the go command trusted the server without the test CA"
grep -q 'certificate' "$T/out" || fail "no certificate error: $(cat "$T/out")"
echo "$NAME: the go command verifies modules (x/mod's real tree too) over HTTPS with the test CA, and refuses without it: ok"

# 2. Protocol versions.  The TLS 1.1 probe must work against a server
# that allows it, or its failure below would prove nothing.
probe() {
	echo | openssl s_client -connect "127.0.0.1:$1" -servername localhost \
	    -CAfile "$T/ca.pem" "$2" -cipher 'DEFAULT:@SECLEVEL=0' 2>&1
}
# spoke V FILE: the s_client output in FILE shows a session in TLS V.
spoke() {
	grep -q "Protocol *: TLSv$1\$\|^New, TLSv$1, " "$2" &&
	    ! grep -q 'Cipher is (NONE)' "$2"
}
SPORT=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000 ))
openssl s_server -accept "127.0.0.1:$SPORT" -cert "$T/srv.pem" \
    -key "$T/srv.key" -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' -quiet \
    >/dev/null 2>&1 &
SPID=$!
PIDS="$PIDS $SPID"
wait_for sh -c "echo | openssl s_client -connect 127.0.0.1:$SPORT -tls1_1 -cipher DEFAULT:@SECLEVEL=0 >/dev/null 2>&1" ||
    fail "openssl s_server did not start"
probe "$SPORT" -tls1_1 >"$T/p11"
spoke 1.1 "$T/p11" ||
    fail "the TLS 1.1 probe does not speak TLS 1.1: $(head -3 "$T/p11")"
kill "$SPID"
probe "$PORT" -tls1_1 >"$T/p11"
spoke 1.1 "$T/p11" && fail "sumdbd accepted TLS 1.1"
grep -q 'alert protocol version' "$T/p11" ||
    fail "TLS 1.1: no protocol version alert: $(head -3 "$T/p11")"
probe "$PORT" -tls1_2 >"$T/p12"
spoke 1.2 "$T/p12" || fail "TLS 1.2 refused: $(head -3 "$T/p12")"
probe "$PORT" -tls1_3 >"$T/p13"
spoke 1.3 "$T/p13" || fail "TLS 1.3 refused: $(head -3 "$T/p13")"
echo "$NAME: TLS 1.2 and 1.3 accepted, TLS 1.1 refused: ok"

# 3. SIGHUP rereads the certificate; broken files keep the running one.
subject() {
	echo | openssl s_client -connect "127.0.0.1:$PORT" -CAfile "$T/ca.pem" \
	    2>/dev/null | openssl x509 -noout -subject 2>/dev/null
}
subject | grep -q 'CN *= *sumdbd-first' || fail "first certificate: $(subject)"
mkcert sumdbd-renewed
kill -HUP "$DPID"
wait_for sh -c "echo | openssl s_client -connect 127.0.0.1:$PORT -CAfile $T/ca.pem 2>/dev/null | openssl x509 -noout -subject 2>/dev/null | grep -q 'CN *= *sumdbd-renewed'" ||
    fail "SIGHUP did not load the renewed certificate: $(subject)"
echo garbage >"$T/srv.pem"
kill -HUP "$DPID"
wait_for grep -q 'keeping the running TLS certificate' "$T/daemon.log" ||
    fail "a broken certificate on SIGHUP was not reported"
subject | grep -q 'CN *= *sumdbd-renewed' ||
    fail "a broken certificate replaced the running one: $(subject)"
curl -sf --cacert "$T/ca.pem" -o /dev/null "$URL/latest" ||
    fail "not serving after a broken certificate"
echo "$NAME: SIGHUP loads a renewed certificate and keeps the running one when the files are broken: ok"
