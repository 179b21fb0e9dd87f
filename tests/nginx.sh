# nginx.sh: a test CA and Debian's nginx serving a static directory over
# TLS with HTTP/2, started on its own prefix and config (never the
# system's service).  Sourced by tests/e2e/http2.sh and
# tests/bench-sync.sh.

# test_ca DIR IP...: a test CA in DIR/ca.pem and a server certificate
# for the IPs (and localhost) signed by it, DIR/srv.pem and DIR/srv.key.
test_ca() {
	cadir=$1
	shift
	openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$cadir/ca.key" \
	    -subj "/CN=sumdbd test CA" -days 2 -out "$cadir/ca.pem" 2>/dev/null &&
	openssl req -new -newkey rsa:2048 -nodes -keyout "$cadir/srv.key" \
	    -subj "/CN=$1" -out "$cadir/srv.csr" 2>/dev/null &&
	echo "subjectAltName=$(printf 'IP:%s,' "$@")DNS:localhost" \
	    >"$cadir/srv.ext" &&
	openssl x509 -req -in "$cadir/srv.csr" -CA "$cadir/ca.pem" \
	    -CAkey "$cadir/ca.key" -CAcreateserial -days 2 \
	    -extfile "$cadir/srv.ext" -out "$cadir/srv.pem" 2>/dev/null
}

# nginx_start DIR ROOT ADDR PATH [CMD...]: nginx with prefix DIR (which
# holds the test CA's srv.pem and srv.key) serving ROOT on ADDR
# (IP:PORT) over TLS with http2, under CMD if given (e.g. ip netns exec
# NS); every request logged to DIR/access.log as "connection
# connection_requests protocol status msec request_time uri"; NG_HTTP
# and NG_SERVER, if set, are more directives for the http and server
# blocks.  Sets NGPID; returns 0 once ROOT/PATH answers, else 1 (e.g.
# the port is taken: see DIR/error.log).
nginx_start() {
	ngdir=$1 ngroot=$2 ngaddr=$3 ngpath=$4
	shift 4
	mkdir -p "$ngdir/tmp"
	: >"$ngdir/error.log"
	# Root runs the workers as root: they must read the test's own
	# 0700 temp dir.  keepalive_requests: the default (1000) would
	# close a connection every 1000 tiles.
	cat >"$ngdir/nginx.conf" <<EON
$( [ "$(id -u)" = 0 ] && echo "user root;" )
worker_processes 1;
daemon off;
pid $ngdir/nginx.pid;
error_log $ngdir/error.log;
events { worker_connections 1024; }
http {
	log_format h2 '\$connection \$connection_requests \$server_protocol '
	    '\$status \$msec \$request_time \$request_uri';
	access_log $ngdir/access.log h2;
	client_body_temp_path $ngdir/tmp/body;
	proxy_temp_path $ngdir/tmp/proxy;
	fastcgi_temp_path $ngdir/tmp/fastcgi;
	uwsgi_temp_path $ngdir/tmp/uwsgi;
	scgi_temp_path $ngdir/tmp/scgi;
	default_type application/octet-stream;
	keepalive_requests 1000000;
	${NG_HTTP:-}
	server {
		listen $ngaddr ssl http2;
		ssl_certificate $ngdir/srv.pem;
		ssl_certificate_key $ngdir/srv.key;
		root $ngroot;
		${NG_SERVER:-}
	}
}
EON
	"$@" nginx -p "$ngdir" -c "$ngdir/nginx.conf" -e "$ngdir/error.log" \
	    >>"$ngdir/error.log" 2>&1 &
	NGPID=$!
	PIDS="$PIDS $NGPID"
	i=0
	until "$@" curl -sf --cacert "$ngdir/ca.pem" -o /dev/null \
	    "https://$ngaddr/$ngpath"; do
		kill -0 "$NGPID" 2>/dev/null || return 1
		i=$((i + 1))
		[ $i -lt 100 ] || return 1
		sleep 0.1
	done
}
