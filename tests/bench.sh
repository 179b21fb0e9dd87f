#!/bin/sh
# `make bench`: wrk against sumdbd and, in the same run, against the
# reference server (golang.org/x/mod's sumdb.Server on net/http) holding
# the same records signed with the same key, and against nginx serving
# the same answers as static files (the practical ceiling): a stored
# /lookup, a full hash tile, a partial hash tile and /latest, at 64 and
# 256 connections.  Prints requests/s and p99 latency of each, and the
# ratios of sumdbd to nginx and to the reference.  Usage: bench.sh BUILDDIR
set -eu
B=$(cd "$1" && pwd)
DUR=${BENCH_SECONDS:-10}
NREC=${BENCH_RECORDS:-1000}
T=$(mktemp -d /tmp/sumdbd-bench.XXXXXX)
PIDS=
trap 'for p in $PIDS; do kill $p 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"' EXIT

mods=
i=0
while [ $i -lt "$NREC" ]; do
	mods="$mods example.com/bench$((i % 10))@v1.0.$i"
	i=$((i + 1))
done
"$B/xmodref" modtree "$T/proxy" $mods >/dev/null
"$B/sumdbd" keygen -o "$T/log.key" sumdb.bench.example >/dev/null 2>&1
cat >"$T/sumdbd.conf" <<EOC
[server]
listen = 127.0.0.1:18901
max_connections_per_client = 100000
database = $T/sumdbd.db
[log]
name = sumdb.bench.example
key = $T/log.key
goproxy = file://$T/proxy
EOC
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
