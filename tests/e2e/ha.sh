#!/bin/sh
# Three nodes on one PostgreSQL serve one private log (acceptance 2-6
# of the high-availability issue):
# - the go command (each version) verifies through each node and
#   through a round-robin front (nginx);
# - the writer is killed SUMDB_HA_ROUNDS times (default 30: SIGKILL, or
#   SIGSTOP for longer than the lease, then SIGCONT) during bursts of
#   concurrent appends sent to every node: every checkpoint any node
#   served is consistent with the final tree (x/mod, through the served
#   tiles), no two served trees of one size differ, every record
#   answered stays unchanged, every lookup sent to a live node is
#   answered, and appends resume on another node;
# - two nodes that both believe they write (the lease expired under a
#   paused writer): the paused one's writes are refused, no fork;
# - PostgreSQL restarted under load: the nodes reconnect, nothing lost;
# - fsck on PostgreSQL is clean at the end.
SUMDBD_STORE=pg
. "$(dirname "$0")/lib.sh"

ROUNDS=${SUMDB_HA_ROUNDS:-30}
W=3	# appenders per round, one per node
PER=4	# new versions each asks for, in turn
NV=$((ROUNDS * W * PER + 200))
mkdir -p "$T/notes" "$T/round" "$T/home"
mods="example.com/hello@v1.0.0 example.com/Upper/Mixed@v1.0.0 example.com/legacy@v2.0.0+incompatible"
i=0
while [ $i -lt $NV ]; do
	mods="$mods example.com/burst@v1.0.$i"
	i=$((i + 1))
done
"$B/xmodref" modtree "$T/proxy" $mods >/dev/null || fail "module tree"
realmod_add "$T/proxy" xtools
vkey=$("$B/sumdbd" keygen -o "$T/log.key" sumdb.test.example 2>/dev/null) ||
    fail "keygen"
DB=$(db_target "$T/ha.db")

CL_DB=$DB
node() { cl_node "$@"; }
url() { cl_url "$1"; }
pid() { cl_pid "$1"; }
writer() { cl_writer; }
node 1
node 2
node 3
i=0
until [ -n "$(writer)" ]; do
	i=$((i + 1)); [ $i -lt 100 ] || fail "no node took the lease"
	sleep 0.1
done
w=$(writer)
for k in 1 2 3; do
	curl -s "$(url $k)/healthz" >"$T/h"
	if [ "$k" = "$w" ]; then
		grep -q "^ok: node n$k is the writer" "$T/h" || fail "healthz of writer n$k: $(cat "$T/h")"
	else
		grep -q "^ok: node n$k serves; n$w writes" "$T/h" || fail "healthz of n$k: $(cat "$T/h")"
	fi
	curl -s "$(url $k)/metrics" | grep -q "^sumdbd_cluster_writer{node=\"n$k\",holder=\"n$w\"} $([ "$k" = "$w" ] && echo 1 || echo 0)$" ||
	    fail "metrics of n$k: not the lease's holder n$w"
done
echo "$NAME: three nodes, n$w the writer; /healthz and /metrics say so on each: ok"

# 2. The go command through each node, and through a round-robin front.
cat >"$T/front.conf" <<EOC
upstream ha {
	server 127.0.0.1:$CLP1;
	server 127.0.0.1:$CLP2;
	server 127.0.0.1:$CLP3;
}
server {
	listen 127.0.0.1:@PORT@;
	location / { proxy_pass http://ha; }
}
EOC
start_nginx front "$T/front.conf" "http://127.0.0.1:@PORT@/latest"
FRONT=http://127.0.0.1:$NGPORT
gorun() {
	for_each_go gorun1 "$@"
}
# gorun URL: each go command, with a GOPATH (and checksum cache) of its
# own per URL, kept across the test, verifies modules through URL.
gorun1() {
	d=$T/c.$GOV.$(echo "$1" | md5sum | cut -c1-8)
	mkdir -p "$d"
	consumer "$d" v1.0.0
	realmod_require "$d" xtools
	(cd "$d" && goenv "$d.gp" GOPROXY="file://$T/proxy" \
	    GOSUMDB="$vkey $1" go mod download all) >"$T/out" 2>&1 ||
	    fail "go mod download through $1: $(cat "$T/out")"
	realmod_gosum xtools "$d/go.sum"
}
for k in 1 2 3; do
	gorun "$(url $k)"
done
gorun "$FRONT"
[ "$(grep -c ' 200 ' "$NGLOG")" -gt 0 ] || fail "nothing went through the front"
echo "$NAME: the go command ($GOVS) verifies through n1, n2, n3 and a round-robin front: ok"

# keep FILE: a signed checkpoint served, kept once by content.
keep() {
	h=$(sha256sum "$1" | cut -c1-16)
	[ -e "$T/notes/$h" ] || cp "$1" "$T/notes/$h"
}
# burst ROUND: W appenders (appender w to node w+1, or all to node
# $BURST_NODE) and a /latest poller
# over the nodes, in the background; their answers in $T/round.
burst() {
	rm -rf "$T/round"
	mkdir "$T/round"
	BPIDS=
	bw=0
	while [ $bw -lt $W ]; do
		(k=0; while [ $k -lt $PER ]; do
			v=$(( ($1 * W + bw) * PER + k ))
			curl -s -m 90 -o "$T/round/lk.$v" -w '%{http_code}' \
			    "$(url ${BURST_NODE:-$((bw + 1))})/lookup/example.com/burst@v1.0.$v" \
			    >"$T/round/c.$v" && mv "$T/round/c.$v" "$T/round/lk.$v.code"
			k=$((k + 1))
		done) &
		BPIDS="$BPIDS $!"
		bw=$((bw + 1))
	done
	(j=0; while [ $j -lt 60 ]; do
		curl -sf -m 5 -o "$T/round/n.$j" "$(url $((j % 3 + 1)))/latest" ||
		    rm -f "$T/round/n.$j"
		j=$((j + 1))
	done) &
	BPIDS="$BPIDS $!"
}
# settle ROUND: keep what the round served; records answered go to
# $T/answered (version and the answer's first 3 lines).
settle() {
	for f in "$T"/round/n.*; do
		[ -s "$f" ] && keep "$f"
	done
	for f in "$T"/round/lk.*.code; do
		[ -e "$f" ] || continue
		[ "$(cat "$f")" = 200 ] || continue
		lk=${f%.code}
		sed '1,4d' "$lk" >"$lk.note"
		keep "$lk.note"
		v=${lk##*lk.}
		cp "$lk" "$T/answered.$v"
	done
}
# check: no two served trees of one size differ; all are consistent
# with the newest (x/mod through the tiles of node $1).
check() {
	for f in "$T"/notes/*; do
		sed -n 2,3p "$f" | tr '\n' ' '
		echo
	done | sort -u | awk '{ if (seen[$1] != "" && seen[$1] != $2) bad = 1; seen[$1] = $2 }
	    END { exit bad }' || fail "$2: two served trees of one size differ"
	"$B/xmodref" consistent "$vkey" "$(url $1)" "$T"/notes/* >"$T/out" 2>&1 ||
	    fail "$2: $(cat "$T/out")"
}
alive() {
	for k in 1 2 3; do
		[ "$k" = "$1" ] || { echo $k; return; }
	done
}

# 3. The writer killed or paused, round after round.
round=0 kills=0 stops=0 refused=0 gaps=
while [ $round -lt $ROUNDS ]; do
	w=$(writer)
	[ -n "$w" ] || fail "round $round: no writer"
	burst $round
	sleep "0.$(printf %03d $(( $(od -An -N2 -tu2 /dev/urandom) % 400 )))"
	t0=$(date +%s.%N)
	if [ $((round % 2)) = 0 ]; then
		kill -9 "$(pid $w)"
		kills=$((kills + 1))
	else
		kill -STOP "$(pid $w)"
		stops=$((stops + 1))
	fi
	# Another node takes over: the lease names it.
	until nw=$(writer) && [ -n "$nw" ] && [ "$nw" != "$w" ]; do
		sleep 0.05
	done
	gaps="$gaps $(echo "$(date +%s.%N) - $t0" | bc)"
	if [ $((round % 2)) = 1 ]; then
		sleep 0.5
		kill -CONT "$(pid $w)"
	fi
	wait $BPIDS 2>/dev/null
	[ $((round % 2)) = 1 ] || node "$w"
	settle
	# Every lookup sent to a node that lived through the round was
	# answered (those to the killed node may have died with it).
	for f in "$T"/round/lk.*.code; do
		[ -e "$f" ] || continue
		c=$(cat "$f")
		[ "$c" = 200 ] && continue
		v=${f##*lk.}
		v=${v%.code}
		n=$(( (v / PER) % W + 1 ))
		[ "$n" = "$w" ] && [ $((round % 2)) = 0 ] && continue
		fail "round $round: lookup of burst v1.0.$v at n$n: $c $(cat "$T/round/lk.$v")"
	done
	check "$(alive "$w")" "round $round"
	round=$((round + 1))
done
# logged FROM TO WHAT: versions [FROM, TO) are logged, each asked of a
# node in turn, those answered before (WHAT) unchanged; counts them in
# $answered.
logged() {
	answered=0
	v=$1
	while [ $v -lt $2 ]; do
		k=$((v % 3 + 1))
		curl -s -m 90 -o "$T/now" -w '%{http_code}' \
		    "$(url $k)/lookup/example.com/burst@v1.0.$v" >"$T/code"
		[ "$(cat "$T/code")" = 200 ] ||
		    fail "$3: burst v1.0.$v at n$k: $(cat "$T/code") $(cat "$T/now")"
		if [ -e "$T/answered.$v" ]; then
			head -3 "$T/now" >"$T/now.3"
			head -3 "$T/answered.$v" | cmp -s - "$T/now.3" ||
			    fail "$3: burst v1.0.$v answered before differs now"
			answered=$((answered + 1))
		fi
		v=$((v + 1))
	done
}
logged 0 $((ROUNDS * W * PER)) "the kills"
curl -sf "$(url 1)/latest" >"$T/final" && keep "$T/final" || fail "latest"
check 1 "after the kills"
gmax=$(echo $gaps | tr ' ' '\n' | sort -n | tail -n 1)
echo "$NAME: $kills SIGKILLs and $stops SIGSTOPs of the writer during appends to all nodes: $(ls "$T/notes" | wc -l) served checkpoints all consistent, no two trees of one size; $answered records answered then unchanged; every lookup to a live node answered; lease taken over within ${gmax}s at most (lease 2s): ok"

# 4. Two writers.  n1 alone takes a 300 s lease, looked at every 60 s;
# n2 and n3 (2 s) start.  The lease expired by hand, n2 or n3 takes it
# while n1 still believes it writes: n1's appends are refused by the
# database, n1 learns it lost the lease and forwards them; no fork.
for k in 1 2 3; do
	kill "$(pid $k)"
	while kill -0 "$(pid $k)" 2>/dev/null; do sleep 0.05; done
done
LEASE=300s POLL=60s node 1
[ "$(writer)" = 1 ] || fail "n1 did not take the lease alone"
node 2
node 3
db_sql "$T/ha.db" "UPDATE lease SET expires = 0" >/dev/null
until nw=$(writer) && [ -n "$nw" ] && [ "$nw" != 1 ]; do
	sleep 0.05
done
curl -s "$(url 1)/metrics" | grep -q '^sumdbd_cluster_lease_token [1-9]' ||
    fail "n1 does not believe it writes"
# Each appender to n1.
BURST_NODE=1
burst $ROUNDS
BURST_NODE=
wait $BPIDS 2>/dev/null
for f in "$T"/round/lk.*.code; do
	[ "$(cat "$f")" = 200 ] || fail "two writers: a lookup at n1: $(cat "$f") $(cat "${f%.code}")"
done
settle
check "$nw" "two writers"
grep -q "appending: not the writer: the lease of token [0-9]* is lost" "$T/n1.log" ||
    fail "n1's append was not refused: $(tail -5 "$T/n1.log")"
grep -q "cluster: node 'n1' is no longer the writer: now n$nw" "$T/n1.log" ||
    fail "n1 did not learn it lost the lease: $(tail -5 "$T/n1.log")"
kill "$(pid 1)"
while kill -0 "$(pid 1)" 2>/dev/null; do sleep 0.05; done
node 1
echo "$NAME: two nodes believing they write: the database refused the stale writer's append, it forwarded to n$nw, every lookup answered, no fork: ok"

# 4b. A writer that died between its append and its signature: the
# newest checkpoint removed, the lease held by a node that is gone.  A
# lookup of a record stored but not signed, at a node that does not
# write, waits for a writer, which signs the tree again: the same record.
for k in 1 2 3; do
	kill "$(pid $k)"
	while kill -0 "$(pid $k)" 2>/dev/null; do sleep 0.05; done
done
LOG="(SELECT id FROM log WHERE name = 'sumdb.test.example')"
last=$(db_sql "$T/ha.db" "SELECT max(size) FROM checkpoint WHERE log = $LOG")
prev=$(db_sql "$T/ha.db" "SELECT max(size) FROM checkpoint WHERE log = $LOG AND size < $last")
v=
for f in "$T"/answered.*; do
	[ "$(head -1 "$f")" -ge "$prev" ] && v=${f##*answered.} && break
done
[ -n "$v" ] || fail "no record answered above tree $prev"
db_sql "$T/ha.db" "DELETE FROM checkpoint WHERE log = $LOG AND size = $last;
    UPDATE lease SET holder = 'ghost', url = 'http://127.0.0.1:9',
    token = token + 1, expires = (extract(epoch FROM clock_timestamp()) *
    1000)::bigint + 3000" >/dev/null || fail "removing checkpoint $last"
node 2
node 3
curl -s -m 90 -o "$T/now" -w '%{http_code}' \
    "$(url 2)/lookup/example.com/burst@v1.0.$v" >"$T/code"
[ "$(cat "$T/code")" = 200 ] || fail "unsigned record $(head -1 "$T/answered.$v"): $(cat "$T/code") $(cat "$T/now")"
head -3 "$T/now" >"$T/now.3"
head -3 "$T/answered.$v" | cmp -s - "$T/now.3" || fail "the unsigned record differs when signed again"
[ "$(sed -n 6p "$T/now")" -ge "$last" ] || fail "tree $last not signed again: $(sed -n 6p "$T/now")"
node 1
sed '1,4d' "$T/now" >"$T/now.note"
keep "$T/now.note"
check 2 "signed again"
echo "$NAME: a record stored but not signed when its writer died: the lookup waits for a writer, which signs tree $last again; the same record: ok"

# 5. PostgreSQL restarted under load.
burst $((ROUNDS + 1))
sleep 0.3
pg_ctl_as restart -m fast -w >/dev/null || fail "restarting PostgreSQL"
wait $BPIDS 2>/dev/null
settle
logged $(( (ROUNDS + 1) * W * PER )) $(( (ROUNDS + 2) * W * PER )) \
    "PostgreSQL restarted"
check 1 "PostgreSQL restarted"
for k in 1 2 3; do
	[ "$(status "$(url $k)/healthz")" = 200 ] || fail "n$k unhealthy after the restart"
done
echo "$NAME: PostgreSQL restarted under load: every node reconnected, every lookup answered, nothing lost, no fork: ok"

# 6. fsck on PostgreSQL, the nodes running.
"$B/sumdbd" fsck -c "$T/n1.conf" >"$T/out" 2>&1 || fail "fsck: $(cat "$T/out")"
grep -q "sumdb.test.example: [0-9]* records, 0 problems" "$T/out" || fail "fsck: $(cat "$T/out")"
gorun "$FRONT"
echo "$NAME: fsck clean on PostgreSQL; the go command's cached checkpoints still valid through the front: ok"
