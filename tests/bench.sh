#!/bin/sh
# `make bench`: wrk against sumdbd and, in the same run, against the
# reference server (golang.org/x/mod's sumdb.Server on net/http) holding
# the same records signed with the same key, and against nginx serving
# the same answers as static files (the practical ceiling): a stored
# /lookup, a full hash tile, a partial hash tile and /latest, at 64 and
# 256 connections.  Prints requests/s and p99 latency of each, and the
# ratios of sumdbd to nginx and to the reference.  Then the rate at which
# the private log admits versions it does not hold yet, from 64 and 256
# connections: private paths hashed from a file:// GOPROXY (the private
# miss rate), and public paths taken from a full local mirror of a
# tests/upstream log (its upstream stopped), each batch signed once; the
# public rate as a ratio to the private one.  Usage: bench.sh BUILDDIR
set -eu
B=$(cd "$1" && pwd)
S=$(cd "$(dirname "$0")" && pwd)
DUR=${BENCH_SECONDS:-10}
NREC=${BENCH_RECORDS:-1000}
NADMIT=${BENCH_ADMIT:-4000}
T=$(mktemp -d /tmp/sumdbd-bench.XXXXXX)
PIDS=
trap 'for p in $PIDS; do kill $p 2>/dev/null || :; done; wait 2>/dev/null; rm -rf "$T"' EXIT

mods=
i=0
while [ $i -lt "$NREC" ]; do
	mods="$mods example.com/bench$((i % 10))@v1.0.$i"
	i=$((i + 1))
done
"$B/xmodref" modtree "$T/proxy" $mods >/dev/null
"$B/sumdbd" keygen -o "$T/log.key" sumdb.bench.example >/dev/null 2>&1
# log_config PORT DIR: a private log on PORT, its store and GOPROXY in DIR.
log_config() {
	cat <<EOC
[server]
listen = 127.0.0.1:$1
max_connections_per_client = 100000
database = $2/sumdbd.db
[log]
name = sumdb.bench.example
key = $T/log.key
goproxy = file://$2/proxy
EOC
}
log_config 18901 "$T" >"$T/sumdbd.conf"
"$B/sumdbd" add -c "$T/sumdbd.conf" $mods >/dev/null
sqlite3 "$T/sumdbd.db" "SELECT text FROM record ORDER BY id" >"$T/records.raw"
# sqlite3 prints each text (ending in a newline) and a newline.
cp "$T/records.raw" "$T/records"
"$B/sumdbd" -d -c "$T/sumdbd.conf" 2>"$T/sumdbd.log" &
PIDS="$PIDS $!"
"$B/refserver" 127.0.0.1:18902 "$T/log.key" "$T/records" 2>"$T/ref.log" &
PIDS="$PIDS $!"
for port in 18901 18902; do
	i=0
	until curl -sf -o /dev/null "http://127.0.0.1:$port/latest"; do
		i=$((i + 1)); [ $i -lt 100 ] || { echo "bench: server on $port did not start" >&2; exit 1; }
		sleep 0.1
	done
done
lk=/lookup/example.com/bench7@v1.0.17
w=$((NREC % 256))
# nginx serves sumdbd's answers as files, with the workers sumdbd has;
# its workers run as another user, who must be able to read them.
mkdir -p "$T/www" "$T/nginx"
chmod 755 "$T" "$T/www"
for p in /latest $lk /tile/8/0/000 "/tile/8/0/00$((NREC / 256)).p/$w"; do
	curl -s "http://127.0.0.1:18901$p" >"$T/a"
	curl -s "http://127.0.0.1:18902$p" >"$T/b"
	cmp -s "$T/a" "$T/b" || { echo "bench: $p differs between sumdbd and the reference" >&2; exit 1; }
	mkdir -p "$T/www$(dirname "$p")"
	cp "$T/a" "$T/www$p"
done
cat >"$T/nginx.conf" <<EON
worker_processes $(nproc);
pid $T/nginx/nginx.pid;
error_log $T/nginx/error.log;
events { worker_connections 4096; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 1000000;
	keepalive_timeout 60s;
	default_type application/octet-stream;
	client_body_temp_path $T/nginx;
	proxy_temp_path $T/nginx;
	fastcgi_temp_path $T/nginx;
	uwsgi_temp_path $T/nginx;
	scgi_temp_path $T/nginx;
	server {
		listen 127.0.0.1:18903;
		root $T/www;
	}
}
EON
nginx -c "$T/nginx.conf" -g 'daemon off;' 2>"$T/nginx.err" &
PIDS="$PIDS $!"
i=0
until curl -sf -o /dev/null "http://127.0.0.1:18903/latest"; do
	i=$((i + 1)); [ $i -lt 100 ] || { echo "bench: nginx did not start: $(cat "$T/nginx.err")" >&2; exit 1; }
	sleep 0.1
done
for p in /latest $lk /tile/8/0/000 "/tile/8/0/00$((NREC / 256)).p/$w"; do
	curl -s "http://127.0.0.1:18903$p" | cmp -s - "$T/www$p" ||
	    { echo "bench: nginx serves $p wrong" >&2; exit 1; }
done

# run PORT PATH CONNS: prints "requests/s p99-ms"
run() {
	wrk -t2 -c"$3" -d"${DUR}s" --latency "http://127.0.0.1:$1$2" >"$T/wrk" 2>&1
	rps=$(awk '/^Requests\/sec:/ {print $2}' "$T/wrk")
	p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' "$T/wrk")
	errs=$(awk '/Non-2xx|Socket errors/ {print}' "$T/wrk")
	[ -z "$errs" ] || echo "bench: $2 on $1: $errs" >&2
	echo "$rps $p99"
}

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
echo "bench: $NREC records, ${DUR}s per run, wrk -t2, $(nproc) cores ($cpu)"
printf '%-14s %5s %9s %6s %9s %6s %9s %6s %7s %7s\n' route conns \
    sumdbd p99ms nginx p99ms xmod p99ms /nginx /xmod
for c in 64 256; do
	for p in "$lk" /tile/8/0/000 "/tile/8/0/00$((NREC / 256)).p/$w" /latest; do
		case $p in
		/lookup/*) name=lookup ;;
		*.p/*) name=partial-tile ;;
		/tile/*) name=full-tile ;;
		*) name=latest ;;
		esac
		set -- $(run 18901 "$p" "$c")
		ours=$1 op99=$2
		set -- $(run 18903 "$p" "$c")
		ngx=$1 np99=$2
		set -- $(run 18902 "$p" "$c")
		printf '%-14s %5s %9.0f %6.2f %9.0f %6.2f %9.0f %6.2f %7.2f %7.2f\n' \
		    "$name" "$c" "$ours" "$op99" "$ngx" "$np99" "$1" "$2" \
		    "$(echo "$ours $ngx" | awk '{printf "%.2f", $1 / $2}')" \
		    "$(echo "$ours $1" | awk '{printf "%.2f", $1 / $2}')"
	done
done

# Admissions: one daemon with a private log (private = example.com/priv*,
# a file:// GOPROXY of 1 KiB modules) and a full mirror of tests/upstream
# holding the public versions (example.com/gen/...), which [log] public
# names by default; the upstream is stopped once the mirror holds them.
# Each row asks for NADMIT versions the log does not hold, each once
# (tests/admit.lua), and is timed until the log's signed tree holds them.
A=$T/admit
mkdir -p "$A"
nall=$((4 * NADMIT))
i=0
while [ $i -lt $((2 * NADMIT)) ]; do
	echo "example.com/priv$((i % 10))@v1.0.$i"
	i=$((i + 1))
done >"$A/priv.mods"
xargs "$B/xmodref" modtree "$A/proxy" <"$A/priv.mods" >/dev/null
upkey=$("$B/sumdbd" keygen -o "$A/up.key" sumdb.up.example 2>/dev/null)
"$B/upstream" -gen $((2 * NADMIT)) 127.0.0.1:18905 "$A/up.key" 2>"$A/up.log" &
UPID=$!
PIDS="$PIDS $UPID"
log_config 18904 "$A" >"$A/sumdbd.conf"
cat >>"$A/sumdbd.conf" <<EOC
private = example.com/priv*
max_fetches = 1024
max_fetches_per_client = 1024
[mirror sumdb.up.example]
key = $upkey
url = http://127.0.0.1:18905
mode = full
EOC
i=0
until curl -sf -o /dev/null http://127.0.0.1:18905/latest; do
	i=$((i + 1)); [ $i -lt 600 ] || { echo "bench: the upstream did not start" >&2; exit 1; }
	sleep 0.1
done
# Listening sockets are SO_REUSEPORT: another sumdbd on the port would
# take some of the connections.
curl -s -o /dev/null http://127.0.0.1:18904/ && { echo "bench: 127.0.0.1:18904 is in use" >&2; exit 1; }
"$B/sumdbd" -d -c "$A/sumdbd.conf" 2>"$A/sumdbd.log" &
PIDS="$PIDS $!"
i=0
until [ "$(sqlite3 "$A/sumdbd.db" "SELECT full_next FROM log WHERE name = 'sumdb.up.example'" 2>/dev/null)" = $((2 * NADMIT)) ]; do
	i=$((i + 1)); [ $i -lt 1200 ] || { echo "bench: the mirror did not fill" >&2; exit 1; }
	sleep 0.05
done
kill "$UPID"
# signed: SIZE and NSIG, the log's signed tree size and signatures.
signed() {
	r=$(sqlite3 -cmd '.timeout 5000' -separator ' ' "$A/sumdbd.db" \
	    "SELECT coalesce(max(size), 0), count(*) FROM checkpoint WHERE
	    log = (SELECT id FROM log WHERE name = 'sumdb.bench.example')") ||
	    r=
	[ -n "$r" ] || { echo "bench: cannot read the log's checkpoints" >&2; exit 1; }
	SIZE=${r% *} NSIG=${r#* }
}
# admit FILE CONNS: SECS and SIGS, the time until the log's signed tree
# holds FILE's versions and the signatures it took.
admit() {
	signed
	want=$((SIZE + $(wc -l <"$1"))) sig0=$NSIG last=$SIZE
	t0=$(date +%s.%N)
	wrk -t2 -c"$2" -d600s -s "$S/admit.lua" http://127.0.0.1:18904 -- \
	    "$1" 2 >"$A/wrk" 2>&1 &
	wpid=$!
	PIDS="$PIDS $wpid"
	i=0
	while signed && [ "$SIZE" -lt "$want" ]; do
		[ "$SIZE" = "$last" ] || i=0 last=$SIZE
		i=$((i + 1))
		[ $i -lt 2000 ] || { echo "bench: $1: the log is stuck at $SIZE records, want $want" >&2; exit 1; }
		sleep 0.01
	done
	t1=$(date +%s.%N)
	kill "$wpid"
	wait "$wpid" 2>/dev/null || :
	SECS=$(echo "$t1 $t0" | awk '{ printf "%.3f", $1 - $2 }')
	SIGS=$((NSIG - sig0))
}
n=0
for c in 64 256; do
	sed -n "$((n + 1)),$((n + NADMIT))p" "$A/priv.mods" | sed 's|^|/lookup/|' >"$A/priv.$c"
	i=$n
	while [ $i -lt $((n + NADMIT)) ]; do
		echo "/lookup/example.com/gen/m$((i % 1000))@v1.0.$i"
		i=$((i + 1))
	done >"$A/pub.$c"
	n=$((n + NADMIT))
done
echo
echo "bench: admissions of $NADMIT versions the log does not hold, per row, batch_delay 10ms"
printf '%-14s %5s %9s %8s %9s %6s %8s\n' admission conns versions seconds \
    per-s sigs /private
for c in 64 256; do
	admit "$A/priv.$c" "$c"
	ps=$SECS psig=$SIGS
	admit "$A/pub.$c" "$c"
	for row in "private-miss $ps $psig" "public-mirror $SECS $SIGS"; do
		set -- $row
		printf '%-14s %5s %9s %8.2f %9.0f %6s %8.2f\n' "$1" "$c" \
		    "$NADMIT" "$2" "$(echo "$NADMIT $2" | awk '{print $1 / $2}')" \
		    "$3" "$(echo "$ps $2" | awk '{printf "%.2f", $1 / $2}')"
	done
done
# One signature per batch: as many checkpoints as appended batches.
nb=$(grep -c "appended records" "$A/sumdbd.log")
signed
[ "$SIZE" = "$nall" ] || { echo "bench: the log holds $SIZE records, want $nall" >&2; exit 1; }
[ "$NSIG" = "$nb" ] || { echo "bench: $NSIG signatures for $nb batches" >&2; exit 1; }
pv=$(sqlite3 "$A/sumdbd.db" "SELECT count(*) FROM provenance")
[ "$pv" = $((2 * NADMIT)) ] || { echo "bench: $pv public records with provenance, want $((2 * NADMIT))" >&2; exit 1; }
echo "bench: $nall versions admitted in $nb batches, each signed once; every public one with its provenance"
