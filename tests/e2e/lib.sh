# lib.sh: helpers for the end-to-end tests, sourced by tests/e2e/*.sh.
# B is the build directory; every test works in its own temp dir $T.
set -u
: "${B:?B must name the build directory}"
T=$(mktemp -d /tmp/sumdbd-e2e.XXXXXX)
PIDS=
ATEXIT=
cleanup() {
	rc=$?
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	sleep 0.2
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
	eval "$ATEXIT"
	# Under SAN=1 the daemon's reports land in its log: they fail the test.
	if grep -q 'Sanitizer\|runtime error:' "$T/daemon.log" 2>/dev/null; then
		echo "$NAME: FAIL: sanitizer report from sumdbd:" >&2
		grep -A 20 'Sanitizer\|runtime error:' "$T/daemon.log" | head -40 >&2
		rc=1
	fi
	[ -n "${KEEP:-}" ] && echo "kept $T" >&2 || rm -rf "$T"
	exit $rc
}
trap cleanup EXIT
NAME=${0##*/}

# The test CA, randport, server_up, start_nginx and start_pg, shared
# with tests/bench-sync.sh; the tests run from the top of the tree.
. tests/peers.sh

# SUMDBD_STORE=pg: the test's stores are databases of a PostgreSQL the
# test starts, one per store file name the test uses: db_target FILE
# names it for a config, db_sql FILE SQL runs SQL in it (printing rows
# as sqlite3 does), db_copy SRC DST copies it, db_rm FILE empties it;
# sql_text COL and sql_blob EXPR convert between a blob and its text.
# Otherwise these work on the SQLite files.
STORE=${SUMDBD_STORE:-sqlite}
if [ "$STORE" = pg ]; then
	NAME="${0##*/}[pg]"
	start_pg "$(mktemp -d /tmp/sumdbd-pg.XXXXXX)" ||
	    { echo "$NAME: FAIL: PostgreSQL did not start" >&2; exit 1; }
	ATEXIT="stop_pg;"
	mkdir -p "$T/state"
fi
db_name() {
	dbn=${1##*/}
	echo "${dbn%.db}" | tr -c 'a-z0-9_\n' _
}
db_target() {
	if [ "$STORE" != pg ]; then
		echo "$1"
		return
	fi
	pg_sql "CREATE DATABASE \"$(db_name "$1")\"" postgres 2>/dev/null
	echo "postgresql:///$(db_name "$1")?host=$PGSOCK&user=sumdbd"
}
db_sql() {
	if [ "$STORE" != pg ]; then
		sqlite3 "$1" "$2"
		return
	fi
	pg_sql "$2" "$(db_name "$1")"
}
db_copy() {
	if [ "$STORE" != pg ]; then
		cp "$1" "$2" && rm -f "$2-wal" "$2-shm"
		return
	fi
	pg_sql "DROP DATABASE IF EXISTS \"$(db_name "$2")\" WITH (FORCE)" \
	    postgres && pg_sql "CREATE DATABASE \"$(db_name "$2")\" TEMPLATE \
	    \"$(db_name "$1")\"" postgres
}
db_rm() {
	if [ "$STORE" != pg ]; then
		rm -f "$1" "$1-wal" "$1-shm"
		return
	fi
	# Empty, as SQLite makes a new file: the config names it still.
	pg_sql "DROP DATABASE IF EXISTS \"$(db_name "$1")\" WITH (FORCE)" \
	    postgres && pg_sql "CREATE DATABASE \"$(db_name "$1")\"" postgres
}
sql_text() {
	if [ "$STORE" = pg ]; then echo "convert_from($1, 'UTF8')"; else echo "CAST($1 AS TEXT)"; fi
}
sql_blob() {
	if [ "$STORE" = pg ]; then echo "convert_to($1, 'UTF8')"; else echo "CAST($1 AS BLOB)"; fi
}
sql_zero() {
	if [ "$STORE" = pg ]; then echo "decode(repeat('00', $1), 'hex')"; else echo "zeroblob($1)"; fi
}
# conf_db IN OUT FILE: the config IN with the store FILE instead, as OUT.
conf_db() {
	dbl=$(db_conf "$3" | head -n 1)
	awk -v l="$dbl" '/^database = /{print l; next} {print}' "$1" >"$2"
}
# db_conf FILE: a config's [server] lines for the store FILE.
db_conf() {
	echo "database = $(db_target "$1")"
	[ "$STORE" != pg ] || echo "state_dir = $T/state"
}

# at_exit CMD: run the shell command CMD when the test ends, after its
# processes are gone (for what they leave outside $T).
at_exit() {
	ATEXIT="$ATEXIT $1;"
}

fail() {
	echo "$NAME: FAIL: $*" >&2
	[ -f "$T/daemon.log" ] && tail -n 20 "$T/daemon.log" | sed 's/^/  daemon: /' >&2
	exit 1
}

# The go commands the tests run against sumdbd: Debian 12's go 1.19
# (golang-go) and Debian 13's go 1.24, unpacked into $B/go124 by
# tests/go124.sh.  goenv runs the one in GODIR.
GODIRS="/usr/lib/go $(cd "$B" && pwd)/go124/usr/lib/go-1.24"
: "${GODIR:=/usr/lib/go}"

# go_version: GOV, the version of the go command in GODIR; the test
# fails if there is none.
go_version() {
	GOV=
	[ ! -x "$GODIR/bin/go" ] ||
	    GOV=$(goenv "$T/gp" go env GOVERSION 2>/dev/null) || GOV=
	[ -n "$GOV" ] || fail "no go command in $GODIR (go 1.24: make $B/go124/usr/lib/go-1.24/bin/go)"
}

# each_go: run this whole script once with each go command, its
# version in NAME, and exit with the first failure.
each_go() {
	if [ -n "${EACH_GO:-}" ]; then
		go_version
		NAME="$NAME[$GOV]"
		return 0
	fi
	for GODIR in $GODIRS; do go_version; done
	for GODIR in $GODIRS; do
		EACH_GO=1 GODIR=$GODIR sh "$0" || exit 1
	done
	exit 0
}

# for_each_go CMD...: run CMD with each go command in GODIR, its version
# in GOV and in NAME; then GOVS lists the versions.
for_each_go() {
	name0=$NAME
	GOVS=
	for GODIR in $GODIRS; do
		go_version
		NAME="$name0[$GOV]"
		"$@"
		GOVS="${GOVS:+$GOVS, }$GOV"
	done
	NAME=$name0
	GODIR=/usr/lib/go
}

# The go command, isolated: its own GOPATH, caches and settings.
goenv() {
	gp=$1
	shift
	env -i PATH="$GODIR/bin:/usr/bin:/bin" HOME="$T/home" \
	    GOPATH="$gp" GOMODCACHE="$gp/pkg/mod" GOCACHE="$T/gocache" \
	    GOFLAGS=-mod=mod GO111MODULE=on GONOSUMDB= GOPRIVATE= \
	    GONOPROXY= GOINSECURE= GOTOOLCHAIN=local CGO_ENABLED=0 \
	    "$@"
}

# wait_for CMD...: up to 5 s for CMD to succeed
wait_for() {
	i=0
	until "$@"; do
		i=$((i + 1)); [ $i -lt 50 ] || return 1
		sleep 0.1
	done
}

# write_config FILE PORT [extra lines]: a config with the private log,
# its GOPROXY $LOG_GOPROXY (default file://$T/proxy).
write_config() {
	conf=$1 port=$2
	shift 2
	cat >"$conf" <<EOC
[server]
listen = 127.0.0.1:$port
$(db_conf "$T/sumdbd.db")
[log]
name = sumdb.test.example
key = $T/log.key
goproxy = ${LOG_GOPROXY:-file://$T/proxy}
EOC
	[ -z "${PRIVATE:-}" ] || echo "private = $PRIVATE" >>"$conf"
	for line in "$@"; do echo "$line" >>"$conf"; done
}

# start_daemon: start sumdbd on a free port; sets PORT, DPID, URL.
start_daemon() {
	for try in 1 2 3 4 5; do
		PORT=$(( 20000 + ($$ * 7 + try * 131 + $(od -An -N2 -tu2 /dev/urandom)) % 12000 ))
		write_config "$T/sumdbd.conf" "$PORT" "$@"
		"$B/sumdbd" -d ${VERBOSE:+-v} -c "$T/sumdbd.conf" >>"$T/daemon.log" 2>&1 &
		DPID=$!
		PIDS="$PIDS $DPID"
		URL=http://127.0.0.1:$PORT
		i=0
		while [ $i -lt 100 ]; do
			if ! kill -0 "$DPID" 2>/dev/null; then break; fi
			if curl -s -o /dev/null "$URL/sumdb/sumdb.test.example/supported"; then
				return 0
			fi
			sleep 0.05
			i=$((i + 1))
		done
		kill -9 "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
	done
	fail "sumdbd did not start"
}

restart_daemon() {
	"$B/sumdbd" -d ${VERBOSE:+-v} -c "$T/sumdbd.conf" >>"$T/daemon.log" 2>&1 &
	DPID=$!
	PIDS="$PIDS $DPID"
	i=0
	while [ $i -lt 100 ]; do
		kill -0 "$DPID" 2>/dev/null || fail "sumdbd exited on restart"
		curl -s -o /dev/null "$URL/sumdb/sumdb.test.example/supported" && return 0
		sleep 0.05
		i=$((i + 1))
	done
	fail "sumdbd did not restart"
}

# restart_daemon_with LINES...: the same port, a new config.
restart_daemon_with() {
	write_config "$T/sumdbd.conf" "$PORT" "$@"
	restart_daemon
}

stop_daemon() {
	[ -n "${DPID:-}" ] || return 0
	kill "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
}

# status URL: the HTTP status code of a GET.
status() {
	curl -s --path-as-is -o /dev/null -w '%{http_code}' "$@"
}

# consumer DIR [HELLO]: a module requiring the three test modules (an
# upper-case path, a +incompatible version; hello at HELLO, v1.0.0).
consumer() {
	mkdir -p "$1"
	cat >"$1/go.mod" <<EOG
module example.com/consumer

go 1.19

require (
	example.com/hello ${2:-v1.0.0}
	example.com/Upper/Mixed v1.0.0
	example.com/legacy v2.0.0+incompatible
)
EOG
}

# wait_url URL: until it answers 200, for up to a minute.
wait_url() {
	i=0
	until curl -sf -o /dev/null "$1"; do
		i=$((i + 1)); [ $i -lt 600 ] || fail "'$1' did not come up"
		sleep 0.1
	done
}

# start_upstream ARGS...: tests/upstream on a free port with key
# $T/up.key; sets UPORT and UPID.  A random port can be taken: then
# another is tried.  A large -gen takes a while to build its tree.
start_upstream() {
	tries=0
	while :; do
		UPORT=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000 ))
		: >"$T/upstream.try"
		"$B/upstream" "$@" "127.0.0.1:$UPORT" "$T/up.key" \
		    >>"$T/upstream.try" 2>&1 &
		UPID=$!
		PIDS="$PIDS $UPID"
		i=0
		until curl -sf -o /dev/null "http://127.0.0.1:$UPORT/latest"; do
			kill -0 "$UPID" 2>/dev/null || break
			i=$((i + 1))
			[ $i -lt 3000 ] || fail "the upstream did not come up in 300 s"
			sleep 0.1
		done
		cat "$T/upstream.try" >>"$T/upstream.log"
		kill -0 "$UPID" 2>/dev/null && return 0
		tries=$((tries + 1))
		grep -q 'address already in use' "$T/upstream.try" && [ $tries -lt 5 ] ||
		    fail "the upstream exited: $(tail -3 "$T/upstream.try")"
	done
}

# Real-size modules (README, "Test data"): NAME is xmod (~150 KB), xtools
# (~2.4 MB, 1,267 files) or gostd (~19 MB, 4,791 files), zipped from
# Debian's Go sources by tests/realmods.sh once per build directory,
# with the hashes the go command computed, in $B/realmods/hashes.
REALMODS_SH=$(cd "$(dirname "$0")/.." && pwd)/realmods.sh

# realmod_gen: make $B/realmods unless it is there.
realmod_gen() {
	[ -f "$B/realmods/hashes" ] || sh "$REALMODS_SH" "$B" ||
	    fail "the real-size modules: tests/realmods.sh failed"
}

# realmod_add DIR NAME...: put the modules NAME into the GOPROXY tree DIR.
realmod_add() {
	rdir=$1
	shift
	realmod_gen
	for rn; do
		rp=$(realmod_field "$rn" 2) || exit 1
		mkdir -p "$rdir/$rp/@v"
		cp "$B/realmods/proxy/$rp/@v/"* "$rdir/$rp/@v/" ||
		    fail "copying real-size module $rn"
	done
}

# realmod_field NAME N: field N of NAME's line in $B/realmods/hashes
# (2 path, 3 version, 4 zip h1, 5 go.mod h1, 6 zip bytes, 7 files).
realmod_field() {
	realmod_gen
	awk -v n="$1" -v f="$2" '$1 == n { print $f; found = 1 }
	    END { exit !found }' "$B/realmods/hashes" ||
	    fail "no real-size module '$1'"
}

# realmod_mv NAME: its MODULE@VERSION.
realmod_mv() {
	echo "$(realmod_field "$1" 2)@$(realmod_field "$1" 3)"
}

# realmod_record NAME: its go.sum lines as the go command wrote them.
realmod_record() {
	realmod_gen
	awk -v n="$1" '$1 == n { printf "%s %s %s\n%s %s/go.mod %s\n",
	    $2, $3, $4, $2, $3, $5 }' "$B/realmods/hashes"
}

# realmod_hashes NAME...: modtree's lines "PATH VERSION ZIPH1 MODH1",
# for an upstream's -mods.
realmod_hashes() {
	realmod_gen
	for rn; do
		awk -v n="$rn" '$1 == n { print $2, $3, $4, $5 }' \
		    "$B/realmods/hashes"
	done
}

# realmod_require DIR NAME...: DIR/go.mod requires the modules NAME.
realmod_require() {
	rdir=$1
	shift
	for rn; do
		echo "require $(realmod_field "$rn" 2) $(realmod_field "$rn" 3)"
	done >>"$rdir/go.mod"
}

# realmod_gosum NAME FILE: FILE (a go.sum) holds NAME's record.
realmod_gosum() {
	realmod_record "$1" >"$T/realmod.want"
	grep -F -x -f "$T/realmod.want" "$2" >"$T/realmod.got"
	cmp -s "$T/realmod.want" "$T/realmod.got" ||
	    fail "$2: not the go command's record for $1:" \
	    "want $(cat "$T/realmod.want"), got $(grep "^$(realmod_field "$1" 2) " "$2")"
}

# realmod_lookup BASE NAME: BASE/lookup/MODULE@VERSION answers 200 with
# the go command's record, byte for byte: "id\n", the two lines, "\n".
realmod_lookup() {
	realmod_record "$2" >"$T/realmod.want"
	rs=$(curl -s -o "$T/realmod.lookup" -w '%{http_code}' \
	    "$1/lookup/$(realmod_mv "$2")")
	[ "$rs" = 200 ] || fail "lookup of $(realmod_mv "$2"): $rs," \
	    "$(head -c 300 "$T/realmod.lookup")"
	sed 1d "$T/realmod.lookup" | head -c "$(wc -c <"$T/realmod.want")" |
	    cmp -s - "$T/realmod.want" &&
	    [ "$(sed -n 4p "$T/realmod.lookup")" = "" ] &&
	    head -1 "$T/realmod.lookup" | grep -qx '[0-9][0-9]*' ||
	    fail "lookup of $(realmod_mv "$2"): got $(head -4 "$T/realmod.lookup"), want the go command's $(cat "$T/realmod.want")"
}

# serve_http DIR PATH: python3's http.server over DIR on a free port,
# retried on another port when one is taken, until PATH answers; sets
# HPORT and HPID.
serve_http() {
	for try in 1 2 3 4 5; do
		HPORT=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000 ))
		python3 -m http.server --bind 127.0.0.1 --directory "$1" \
		    "$HPORT" >"$T/http.log" 2>&1 &
		HPID=$!
		PIDS="$PIDS $HPID"
		wait_for curl -sf -o /dev/null "http://127.0.0.1:$HPORT/$2" &&
		    return 0
		kill "$HPID" 2>/dev/null
	done
	fail "the HTTP server on $1 did not start"
}

# start_conf CONF LOG PATH: another sumdbd, on the config CONF (its
# listen line set to a free port) with its output in LOG, until PATH
# answers; sets OPORT and OPID.
# tufjs_setup: tuf-js from npm in $B/tufjs (once per build), and
# tufjs URL ROOT TARGET...: refresh from URL/tuf/ trusting ROOT, then
# download and verify each TARGET into $T/targets ('/' as '_').
tufjs_setup() {
	command -v node >/dev/null || fail "node is not installed"
	J=$B/tufjs
	if [ ! -d "$J/node_modules/tuf-js" ]; then
		mkdir -p "$J"
		npm install --no-audit --no-fund --silent --prefix "$J" \
		    tuf-js@5.0.1 >"$T/npm.log" 2>&1 ||
		    fail "npm install tuf-js: $(tail -5 "$T/npm.log")"
	fi
	cp tests/tuf/client.mjs "$J/client.mjs"
}
tufjs() {
	u=$1 r=$2
	shift 2
	node "$J/client.mjs" "$u/tuf/" "$u/tuf/targets/" "$T/meta" \
	    "$T/targets" "$r" "$@"
}
# start_sumdbd CONF PORT: one more sumdbd with config CONF, listening on
# PORT, its log in $T/daemon.log; its pid in SPID.
start_sumdbd() {
	"$B/sumdbd" -d -c "$1" >>"$T/daemon.log" 2>&1 &
	SPID=$!
	PIDS="$PIDS $SPID"
	server_up "sumdbd -c $1" "$SPID" "$T/daemon.log" curl -s -o /dev/null \
	    "http://127.0.0.1:$2/healthz" ||
	    fail "sumdbd -c $1 did not start (port $2 taken)"
}
start_conf() {
	for try in 1 2 3 4 5; do
		OPORT=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000 ))
		sed -i "s|^listen = .*|listen = 127.0.0.1:$OPORT|" "$1"
		"$B/sumdbd" -d -c "$1" >>"$2" 2>&1 &
		OPID=$!
		PIDS="$PIDS $OPID"
		i=0
		while kill -0 "$OPID" 2>/dev/null && [ $i -lt 100 ]; do
			curl -sf -o /dev/null "http://127.0.0.1:$OPORT/$3" && return 0
			sleep 0.1
			i=$((i + 1))
		done
		kill -9 "$OPID" 2>/dev/null
		wait "$OPID" 2>/dev/null
	done
	fail "sumdbd -c $1 did not start: $(tail -3 "$2")"
}

# Nodes of a cluster on one PostgreSQL (SUMDBD_STORE=pg): cl_node K
# writes node K's config (the private log, [cluster] node nK with lease
# $LEASE, default 2s, and poll $POLL, default 200ms, and the lines
# $CL_EXTRA) for the store $CL_DB and starts it, again on its port once
# it has one; cl_url K and cl_pid K say where it is; cl_writer names
# the node that holds the writer lease now (1, 2, 3), or nothing.
cl_node() {
	mkdir -p "$T/state$1"
	np=$(eval echo "\${CLP$1:-1}")
	cat >"$T/n$1.conf" <<EOC
[server]
listen = 127.0.0.1:$np
database = $CL_DB
state_dir = $T/state$1
[log]
name = sumdb.test.example
key = $T/log.key
goproxy = file://$T/proxy
[cluster]
node = n$1
lease = ${LEASE:-2s}
poll = ${POLL:-200ms}
${CL_EXTRA:-}
EOC
	if [ "$np" = 1 ]; then
		start_conf "$T/n$1.conf" "$T/n$1.log" healthz
	else
		"$B/sumdbd" -d -c "$T/n$1.conf" >>"$T/n$1.log" 2>&1 &
		OPID=$! OPORT=$np
		PIDS="$PIDS $OPID"
		server_up "node n$1" "$OPID" "$T/n$1.log" curl -s -o /dev/null \
		    "http://127.0.0.1:$np/healthz" || fail "n$1 did not start again"
	fi
	eval "CLP$1=$OPORT CLPID$1=$OPID"
}
cl_url() { eval "echo http://127.0.0.1:\$CLP$1"; }
cl_pid() { eval "echo \$CLPID$1"; }
cl_writer() {
	pg_sql "SELECT substr(holder, 2) FROM lease WHERE expires >
	    (extract(epoch FROM clock_timestamp()) * 1000)::bigint" \
	    "$(echo "$CL_DB" | sed 's|^postgresql:///\([^?]*\).*|\1|')"
}

# provenance_ok DB LOG UP PUB: in the store DB, every record of the log
# LOG whose path passes the SQL test PUB (a public path) has a provenance
# row naming a record of the mirror UP with the same path, version and
# text, inside a trust base UP stored; no other record of LOG has one.
provenance_ok() {
	pn=$(db_sql "$1" "SELECT count(*) FROM record r JOIN log l ON
	    r.log = l.id WHERE l.name = '$2' AND ($4) AND NOT EXISTS (SELECT 1
	    FROM provenance p JOIN record u ON u.log = p.upstream AND
	    u.id = p.upstream_id JOIN checkpoint c ON c.log = p.upstream AND
	    c.size = p.upstream_tree JOIN log ul ON ul.id = p.upstream WHERE
	    p.log = r.log AND p.id = r.id AND ul.name = '$3' AND
	    u.path = r.path AND u.version = r.version AND u.text = r.text AND
	    p.upstream_id < p.upstream_tree)") || fail "db_sql $1"
	[ "$pn" = 0 ] || fail "$2: $pn public records without provenance from $3"
	pn=$(db_sql "$1" "SELECT count(*) FROM provenance p JOIN log l ON
	    p.log = l.id WHERE l.name = '$2' AND NOT EXISTS (SELECT 1 FROM
	    record r WHERE r.log = p.log AND r.id = p.id AND ($4))") ||
	    fail "db_sql $1"
	[ "$pn" = 0 ] || fail "$2: $pn provenance rows of private or no records"
}

# secret_refused KEY SECRET LINES...: a config of LINES (after the
# private log's) whose line "KEY = FILE" names a secret file readable by
# others is refused at that line, in one line that does not show SECRET.
secret_refused() {
	sk=$1 ss=$2
	shift 2
	write_config "$T/bad.conf" 1 "$@"
	line=$(grep -n "^$sk = " "$T/bad.conf" | cut -d: -f1)
	"$B/sumdbd" -n -c "$T/bad.conf" >"$T/out" 2>"$T/err" &&
	    fail "$sk readable by others: accepted"
	[ "$(wc -l <"$T/err")" = 1 ] &&
	    grep -q "^$T/bad.conf:$line: " "$T/err" ||
	    fail "$sk readable by others: $(cat "$T/err")," \
	    "want $T/bad.conf:$line: ..."
	! grep -qF "$ss" "$T/err" || fail "$sk: the secret in the error"
}

# start_squid HOST:PORT [USER:PASSWORD]: squid on loopback as an egress
# proxy that lets through only GET and CONNECT to HOST:PORT (an IP
# address), caching nothing, so that every request reaches HOST:PORT;
# with USER:PASSWORD it wants basic auth (basic_ncsa_auth on an htpasswd
# file).  Its access log, SQLOG, has one line a request: "METHOD URL
# STATUS USER".  Sets SQPORT, SQURL, SQPID, SQLOG; stop_squid or the end
# of the test stops it.  Each start has its own directory, config and
# service name (squid names its shared memory after the service).
SQN=0
start_squid() {
	SQN=$((SQN + 1))
	sqd=$T/squid.$SQN sqhost=${1%:*} sqport=${1##*:}
	mkdir -p "$sqd"
	SQLOG=$sqd/access.log
	: >"$SQLOG"
	sqauth=
	if [ -n "${2:-}" ]; then
		htpasswd -bc -m "$sqd/htpasswd" "${2%%:*}" "${2#*:}" \
		    2>"$sqd/htpasswd.err" ||
		    fail "htpasswd: $(cat "$sqd/htpasswd.err")"
		sqauth="auth_param basic program /usr/lib/squid/basic_ncsa_auth $sqd/htpasswd
auth_param basic realm sumdbd-test
acl authed proxy_auth REQUIRED
http_access deny !authed"
	fi
	# squid refuses to run as root: as root its workers run as proxy
	# (or nobody), who must reach its directory.
	squser=
	if [ "$(id -u)" = 0 ]; then
		squser=proxy
		id proxy >/dev/null 2>&1 || squser=nobody
		chmod o+x "$T"
		squser="cache_effective_user $squser"
	fi
	for try in 1 2 3 4 5; do
		SQPORT=$(randport)
		sqname=sumdbd$$s$SQN$try
		cat >"$sqd/squid.conf" <<EOS
http_port 127.0.0.1:$SQPORT
visible_hostname sumdbd-test
pid_filename $sqd/squid.pid
cache_log $sqd/cache.log
logformat sumdbd %rm %ru %>Hs %un
access_log stdio:$SQLOG sumdbd
strip_query_terms off
cache deny all
coredump_dir $sqd
netdb_filename none
pinger_enable off
shutdown_lifetime 0 seconds
$squser
acl up_host dst $sqhost
acl up_port port $sqport
acl m_get method GET
acl m_connect method CONNECT
http_access deny !up_host
http_access deny !up_port
http_access deny !m_get !m_connect
$sqauth
http_access allow all
EOS
		rm -f "$sqd/cache.log"
		[ -z "$squser" ] || chown -R "${squser#* }" "$sqd"
		squid -N -n "$sqname" -f "$sqd/squid.conf" >>"$sqd/stderr" 2>&1 &
		SQPID=$!
		PIDS="$PIDS $SQPID"
		# squid's shared memory outlives a squid killed with -9.
		at_exit "rm -f /dev/shm/$sqname-*"
		SQURL=http://127.0.0.1:$SQPORT
		if server_up squid "$SQPID" "$sqd/cache.log" squid_ours; then
			: >"$SQLOG"
			return 0
		fi
	done
	fail "squid: no free port in 5 tries"
}

# squid_ours: squid refuses a request (403) and logs it: it is up, and
# it is ours.
squid_ours() {
	[ "$(status -x "$SQURL" "http://127.0.0.9:9/probe$try")" = 403 ] &&
	    grep -q "probe$try" "$SQLOG"
}

# stop_squid: stop it and wait until it has gone.
stop_squid() {
	kill "$SQPID" 2>/dev/null
	wait "$SQPID" 2>/dev/null
}

# start_tls_daemon [LINES...]: start_daemon with HTTPS ($T/srv.pem and
# $T/srv.key, made by mkcert), probed with the test CA; sets PORT,
# DPID and URL.  LINES go into the config after the [server] lines.
start_tls_daemon() {
	for try in 1 2 3 4 5; do
		PORT=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000 ))
		write_config "$T/sumdbd.conf" "$PORT" "[server]" \
		    "tls_certificate = $T/srv.pem" "tls_key = $T/srv.key" "$@"
		"$B/sumdbd" -d -c "$T/sumdbd.conf" >>"$T/daemon.log" 2>&1 &
		DPID=$!
		PIDS="$PIDS $DPID"
		URL=https://127.0.0.1:$PORT
		# Any answer will do: /healthz may want credentials.
		if wait_for curl -s --cacert "$T/ca.pem" -o /dev/null \
		    "$URL/healthz"; then
			return 0
		fi
		kill "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
	done
	fail "sumdbd did not start with TLS"
}
