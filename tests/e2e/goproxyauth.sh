#!/bin/sh
# A GOPROXY that wants credentials (issue 15, acceptance 2): the private
# log's GOPROXY is nginx, started here on loopback, serving a module
# tree with real-size zips (x/mod's, x/tools') behind auth_basic (an
# htpasswd file) and, in a variant, behind a bearer token.  Lookups
# succeed, with the go command's records byte for byte, given `netrc =
# FILE` or `auth_header = FILE` (files readable by others refused at
# their line); a wrong password or token gives a clear error naming 401
# in the lookup's answer and in the log, and stores no record; a 403 is
# reported as 403, not "not found"; no secret is logged.  After a
# redirect (302, redirect_other_hosts = yes) to another host, B, the
# credential is not sent again: B's log shows no Authorization header,
# for netrc and for auth_header, and for auth_header also when B is the
# same address on another port; a redirect on the same host keeps it.
. "$(dirname "$0")/lib.sh"

command -v nginx >/dev/null || fail "nginx is not installed"
command -v htpasswd >/dev/null || fail "htpasswd (apache2-utils) is not installed"
realmod_add "$T/proxy" xmod xtools
"$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example >/dev/null 2>&1 ||
    fail "keygen"
rnd() { od -An -N12 -tx1 /dev/urandom | tr -d ' \n'; }
GUSER=builder PW=pw-$(rnd) TOKEN=tok-$(rnd)
htpasswd -bc -m "$T/gp.htpasswd" "$GUSER" "$PW" 2>"$T/err" ||
    fail "htpasswd: $(cat "$T/err")"
BASIC=$(printf '%s:%s' "$GUSER" "$PW" | base64 -w0)

# B, the other host: the module tree under /plain/, on 127.0.0.2 and on
# 127.0.0.1 at the same port; its log shows each request's
# Authorization header.
cat >"$T/b.conf" <<EOC
server {
	listen 127.0.0.2:@PORT@;
	listen 127.0.0.1:@PORT@;
	location /plain/ { alias $T/proxy/; }
}
EOC
start_nginx b "$T/b.conf" "http://127.0.0.2:@PORT@/plain/"
BPORT=$NGPORT BLOG=$NGLOG

# A, the GOPROXY: /basic/ behind auth_basic, /bearer/ behind the token,
# /rbasic/ and /rbearer/ redirect to B once the credential is right
# (checked before the redirect: nginx redirects before auth_basic
# runs), /rport/ to B's 127.0.0.1, /samebasic/ and /samebearer/ to
# /basic/ and /bearer/, and /forbidden/ answers 403.
# redirect_to NAME CRED HOST: the location /NAME/.
redirect_to() {
	cat <<EOC
	location /$1/ {
		if (\$http_authorization != "$2") {
			add_header WWW-Authenticate 'Basic realm="goproxy"' always;
			return 401;
		}
		rewrite ^/$1/(.*)\$ http://$3:$BPORT/plain/\$1 redirect;
	}
EOC
}
cat >"$T/a.conf" <<EOC
server {
	listen 127.0.0.1:@PORT@;
	location /basic/ {
		auth_basic "goproxy";
		auth_basic_user_file $T/gp.htpasswd;
		alias $T/proxy/;
	}
	location /bearer/ {
		if (\$http_authorization != "Bearer $TOKEN") {
			return 401;
		}
		alias $T/proxy/;
	}
$(redirect_to rbasic "Basic $BASIC" 127.0.0.2)
$(redirect_to rbearer "Bearer $TOKEN" 127.0.0.2)
$(redirect_to rport "Bearer $TOKEN" 127.0.0.1)
	location /samebasic/ {
		rewrite ^/samebasic/(.*)\$ /basic/\$1 redirect;
	}
	location /samebearer/ {
		rewrite ^/samebearer/(.*)\$ /bearer/\$1 redirect;
	}
	location /forbidden/ { return 403; }
}
EOC
start_nginx a "$T/a.conf" "http://127.0.0.1:@PORT@/"
A=http://127.0.0.1:$NGPORT ALOG=$NGLOG

# The secret files.
printf 'machine 127.0.0.1 login %s password %s\n' "$GUSER" "$PW" \
    >"$T/netrc"
printf 'machine 127.0.0.1\nlogin %s\npassword wrong%s\n' "$GUSER" "$PW" \
    >"$T/netrc.bad"
echo "Authorization: Bearer $TOKEN" >"$T/auth"
echo "Authorization: Bearer wrong$TOKEN" >"$T/auth.bad"
chmod 0600 "$T/netrc" "$T/netrc.bad" "$T/auth" "$T/auth.bad"

q() { sqlite3 "$T/sumdbd.db" "$1"; }
# nrecords NAME: how many records of the real-size module NAME are stored.
nrecords() {
	q "SELECT count(*) FROM record WHERE path = '$(realmod_field "$1" 2)'"
}
# proxylog GOPROXY LINES...: (re)start the daemon on a new store with
# the private log's GOPROXY and LINES in [log]; marks the logs.
URL=
proxylog() {
	stop_daemon
	rm -f "$T/sumdbd.db"*
	LOG_GOPROXY=$1
	shift
	touch "$T/daemon.log"
	DLMARK=$(wc -l <"$T/daemon.log")
	AMARK=$(wc -l <"$ALOG")
	BMARK=$(wc -l <"$BLOG")
	if [ -z "$URL" ]; then
		start_daemon "$@"
	else
		restart_daemon_with "$@"
	fi
}
newlog() { sed -n "$((DLMARK + 1)),\$p" "$T/daemon.log"; }
# since LOG MARK: its lines after MARK.
since() { sed -n "$(($2 + 1)),\$p" "$1"; }
nosecret() {
	! grep -qF -e "$PW" -e "$TOKEN" -e "$BASIC" "$T/daemon.log" ||
	    fail "$1: a secret in the daemon's log"
}

# refused CASE NAME CODE: the lookup of NAME fails, its answer and a
# log line naming CODE; nothing stored.
refused() {
	s=$(curl -s -o "$T/body" -w '%{http_code}' \
	    "$URL/lookup/$(realmod_mv "$2")")
	[ "$s" != 200 ] && [ "$s" != 000 ] ||
	    fail "$1: the lookup answered $s: $(head -c 300 "$T/body")"
	[ "$(wc -l <"$T/body")" -le 1 ] ||
	    fail "$1: not a one-line answer: $(head -c 300 "$T/body")"
	grep -q "$3" "$T/body" ||
	    fail "$1: the answer ($s) does not name $3: $(cat "$T/body")"
	! grep -qi 'not found' "$T/body" ||
	    fail "$1: $3 reported as not found: $(cat "$T/body")"
	newlog | grep -q "$3" ||
	    fail "$1: no log line names $3: $(newlog | tail -3)"
	[ "$(nrecords "$2")" = 0 ] || fail "$1: a record was stored"
	nosecret "$1"
	echo "$NAME: $1: $s '$(cat "$T/body")', logged, no record: ok"
}

# 1. Secret files readable by others are refused at their line.
for key in netrc auth_header; do
	cp "$T/netrc" "$T/open"
	chmod 0644 "$T/open"
	secret_refused "$key" "$PW" "$key = $T/open"
done
echo "$NAME: netrc and auth_header files readable by others refused at their line: ok"

# 2. auth_basic with the netrc file: the go command's records.
proxylog "$A/basic" "netrc = $T/netrc"
realmod_lookup "$URL" xmod
realmod_lookup "$URL" xtools
since "$ALOG" "$AMARK" | grep -q "\.zip 200 \"Basic $BASIC\"$" ||
    fail "netrc: nginx did not see the credentials: $(since "$ALOG" "$AMARK" | head -3)"
nosecret netrc
echo "$NAME: auth_basic with netrc: x/mod and x/tools (2.4 MB) hashed, the go command's records: ok"

# 3. A wrong password, no credentials at all, and a 403.
proxylog "$A/basic" "netrc = $T/netrc.bad"
refused "netrc with a wrong password" xmod 401
proxylog "$A/basic"
refused "no credentials" xmod 401
proxylog "$A/forbidden" "netrc = $T/netrc"
refused "a GOPROXY answering 403" xmod 403

# 4. The bearer token in auth_header; a wrong token.
proxylog "$A/bearer" "auth_header = $T/auth"
realmod_lookup "$URL" xmod
realmod_lookup "$URL" xtools
nosecret auth_header
echo "$NAME: a bearer token in auth_header: x/mod and x/tools hashed, the go command's records: ok"
proxylog "$A/bearer" "auth_header = $T/auth.bad"
refused "auth_header with a wrong token" xmod 401

# 5. A redirect on the same host keeps the credential.
for v in "basic netrc = $T/netrc" "bearer auth_header = $T/auth"; do
	proxylog "$A/same${v%% *}" "${v#* }"
	realmod_lookup "$URL" xmod
	since "$ALOG" "$AMARK" | grep -q " GET /${v%% *}/.*\.zip 200 \"[^-]" ||
	    fail "${v#* }: no credential after a redirect on the same host"
done
echo "$NAME: netrc and auth_header after a redirect on the same host: ok"

# 6. Redirects to another host: followed, without the credential.
# redirected CASE: the lookups went to A with the credential, then to B
# (every answer 200) without it.
redirected() {
	realmod_lookup "$URL" xmod
	since "$ALOG" "$AMARK" | grep -q ' 302 "[^-]' ||
	    fail "$1: A redirected no request with the credential:" \
	    "$(since "$ALOG" "$AMARK" | head -3)"
	since "$BLOG" "$BMARK" >"$T/b.new"
	grep -q '\.zip 200 ' "$T/b.new" ||
	    fail "$1: the redirect was not followed to B: $(head -3 "$T/b.new")"
	! grep -v ' "-"$' "$T/b.new" >"$T/b.auth" ||
	    fail "$1: B was sent an Authorization header: $(head -3 "$T/b.auth")"
	nosecret "$1"
	echo "$NAME: $1: the redirect to B followed, $(wc -l <"$T/b.new")" \
	    "requests there, none with an Authorization header: ok"
}
proxylog "$A/rbasic" "netrc = $T/netrc" "redirect_other_hosts = yes"
redirected "netrc, redirect to 127.0.0.2"
proxylog "$A/rbearer" "auth_header = $T/auth" "redirect_other_hosts = yes"
redirected "auth_header, redirect to 127.0.0.2"
proxylog "$A/rport" "auth_header = $T/auth" "redirect_other_hosts = yes"
redirected "auth_header, redirect to 127.0.0.1 on another port"
