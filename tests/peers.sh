# peers.sh: the test CA and Debian's nginx, started on its own prefix
# and config (never the system's service), for the end-to-end tests
# (sourced by tests/e2e/lib.sh) and tests/bench-sync.sh, which does not
# source lib.sh.  The sourcing script sets T (its temp dir) and PIDS
# (what its end kills) and defines fail MESSAGE (print it, exit 1).

# randport: a port for a test server, below the kernel's ephemeral range
# (32768 on), where the clients of a busy test would take ports from; one
# can be taken, so the callers try another when it is.
randport() {
	echo $(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000 ))
}

# server_up NAME PID LOG CMD...: 0 once CMD succeeds while PID runs (for
# up to 30 s); else PID is killed, and 1 if LOG says that its port was
# taken (the caller tries another), or the test fails.
server_up() {
	sn=$1 sp=$2 sl=$3
	shift 3
	i=0
	while kill -0 "$sp" 2>/dev/null && [ $i -lt 300 ] &&
	    ! grep -q 'Address already in use' "$sl" 2>/dev/null; do
		"$@" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	kill -9 "$sp" 2>/dev/null
	wait "$sp" 2>/dev/null || :
	grep -q 'Address already in use' "$sl" 2>/dev/null ||
	    fail "$sn did not start: $(tail -3 "$sl")"
	return 1
}

# test_ca [P]: a test CA, P.pem and P.key (default $T/ca).
test_ca() {
	command -v openssl >/dev/null || fail "openssl is not installed"
	cacn=${1:-ca}
	openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "${1:-$T/ca}.key" \
	    -subj "/CN=sumdbd test CA ${cacn##*/}" -days 2 -out "${1:-$T/ca}.pem" \
	    2>/dev/null || fail "making the test CA ${1:-}"
}

# mkcert CN [P [CA [IP...]]]: P.pem and P.key (default $T/srv, mode
# 0600), a certificate for CN, localhost and the IPs (default
# 127.0.0.1) signed by the test CA CA (default $T/ca), both replaced at
# once.
mkcert() {
	mcn=$1 mp=${2:-$T/srv} mca=${3:-$T/ca}
	shift $(($# < 3 ? $# : 3))
	[ $# -gt 0 ] || set -- 127.0.0.1
	openssl req -new -newkey rsa:2048 -nodes -keyout "$mp.key.new" \
	    -subj "/CN=$mcn" -out "$mp.csr" 2>/dev/null &&
	echo "subjectAltName=$(printf 'IP:%s,' "$@")DNS:localhost" \
	    >"$mp.ext" &&
	openssl x509 -req -in "$mp.csr" -CA "$mca.pem" -CAkey "$mca.key" \
	    -CAcreateserial -days 2 -extfile "$mp.ext" \
	    -out "$mp.pem.new" 2>/dev/null &&
	mv "$mp.key.new" "$mp.key" && mv "$mp.pem.new" "$mp.pem" ||
	    fail "making the certificate $mcn"
	chmod 600 "$mp.key"
}

# nginx_tls IP [P]: the lines of a server block listening on IP at
# @PORT@ over TLS with HTTP/2, with the certificate P.pem and P.key
# (default $T/srv, made by mkcert).
nginx_tls() {
	printf '\tlisten %s:@PORT@ ssl http2;\n' "$1"
	printf '\tssl_certificate %s.pem;\n\tssl_certificate_key %s.key;\n' \
	    "${2:-$T/srv}" "${2:-$T/srv}"
}

# start_nginx NAME CONF URL [CMD...]: nginx -p $T/nginx.NAME, in the
# foreground under CMD if given (e.g. ip netns exec NS), with its pid,
# logs and temporary files there, and the contents of the file CONF
# (server blocks, "@PORT@" where the port goes) in its http block, on a
# free port; waits until URL (with "@PORT@", probed under CMD) answers,
# with any status.  The access log, NGLOG, has one line a request:
# "CONNECTION CONNECTION_REQUESTS PROTOCOL MSEC REQUEST_TIME METHOD URI
# STATUS "AUTHORIZATION"" (the Authorization header, or -).  Sets
# NGPORT, NGPID, NGLOG, NGDIR; the end of the test stops it.
start_nginx() {
	ngname=$1 ngconf=$2 ngurl=$3
	shift 3
	NGDIR=$T/nginx.$ngname
	NGLOG=$NGDIR/access.log
	mkdir -p "$NGDIR/tmp"
	# As root, its workers would run as nobody, who cannot read $T.
	nguser=
	[ "$(id -u)" != 0 ] || nguser="user root root;"
	for try in 1 2 3 4 5; do
		NGPORT=$(randport)
		rm -f "$NGDIR/nginx.pid" "$NGDIR/error.log"
		# keepalive_requests: the default (1000) would close a
		# connection every 1000 tiles of a full sync.
		cat >"$NGDIR/nginx.conf" <<EON
$nguser
worker_processes 1;
pid $NGDIR/nginx.pid;
error_log $NGDIR/error.log;
events { worker_connections 1024; }
http {
	default_type application/octet-stream;
	log_format sumdbd '\$connection \$connection_requests \$server_protocol '
	    '\$msec \$request_time \$request_method \$request_uri \$status '
	    '"\$http_authorization"';
	access_log $NGLOG sumdbd;
	keepalive_requests 1000000;
	client_body_temp_path $NGDIR/tmp;
	proxy_temp_path $NGDIR/tmp;
	fastcgi_temp_path $NGDIR/tmp;
	uwsgi_temp_path $NGDIR/tmp;
	scgi_temp_path $NGDIR/tmp;
$(sed "s/@PORT@/$NGPORT/g" "$ngconf")
}
EON
		"$@" nginx -p "$NGDIR/" -e "$NGDIR/error.log" \
		    -c "$NGDIR/nginx.conf" -g 'daemon off;' \
		    >>"$NGDIR/stderr" 2>&1 &
		NGPID=$!
		PIDS="$PIDS $NGPID"
		server_up "nginx $ngname" "$NGPID" "$NGDIR/error.log" \
		    nginx_ours "$ngurl" "$@" && return 0
	done
	fail "nginx $ngname: no free port in 5 tries"
}

# nginx_ours URL [CMD...]: nginx has bound its ports (it writes its pid
# file then) and URL, with "@PORT@", answers under CMD (over https, with
# any certificate).
nginx_ours() {
	ngu=$(echo "$1" | sed "s/@PORT@/$NGPORT/")
	shift
	[ -s "$NGDIR/nginx.pid" ] &&
	    [ "$("$@" curl -sk -o /dev/null -w '%{http_code}' "$ngu")" != 000 ]
}

# start_pg DIR: a PostgreSQL of its own for a test: initdb into DIR/data
# (DIR made here, outside $T: as root the server runs as the postgres
# user, who must reach it), listening only on a Unix socket in DIR.
# Sets PGBIN, PGSOCK and PGURL (its database "sumdbd", user "sumdbd");
# pg_sql SQL runs SQL there; stop_pg stops it.  fsync stays on unless
# PG_FSYNC=off: the tests kill sumdbd, and PostgreSQL only cleanly.
start_pg() {
	PGDIR=$1
	PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
	[ -x "$PGBIN/initdb" ] || { echo "start_pg: no PostgreSQL (make check installs it)" >&2; return 1; }
	mkdir -p "$PGDIR"
	pgrun=
	if [ "$(id -u)" = 0 ]; then
		chown postgres "$PGDIR"
		pgrun="runuser -u postgres --"
	fi
	PGSOCK=$PGDIR
	$pgrun "$PGBIN/initdb" -D "$PGDIR/data" -U sumdbd -A trust -E UTF8 \
	    --no-sync >"$PGDIR/initdb.log" 2>&1 ||
	    { cat "$PGDIR/initdb.log" >&2; return 1; }
	$pgrun "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w \
	    -o "-c listen_addresses= -k $PGDIR -c fsync=${PG_FSYNC:-on} -c max_connections=200" \
	    start >/dev/null || { cat "$PGDIR/server.log" >&2; return 1; }
	"$PGBIN/createdb" -h "$PGSOCK" -U sumdbd sumdbd || return 1
	PGURL="postgresql:///sumdbd?host=$PGSOCK&user=sumdbd"
}

# pg_sql SQL [DATABASE]: run SQL in DATABASE (default sumdbd).
pg_sql() {
	PGOPTIONS='-c client_min_messages=warning' "$PGBIN/psql" -X -q -A -t \
	    -v ON_ERROR_STOP=1 -h "$PGSOCK" -U sumdbd -d "${2:-sumdbd}" -c "$1"
}

# pg_ctl_as ARGS: pg_ctl on the test's cluster (restart, stop...).
pg_ctl_as() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$PGBIN/pg_ctl" -D "$PGDIR/data" "$@"
	else
		"$PGBIN/pg_ctl" -D "$PGDIR/data" "$@"
	fi
}

stop_pg() {
	[ -n "${PGDIR:-}" ] && [ -d "$PGDIR/data" ] || return 0
	pg_ctl_as -m immediate -w stop >/dev/null 2>&1
	rm -rf "$PGDIR"
}
