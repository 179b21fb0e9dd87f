#!/bin/sh
# Run every test against the build in directory $1 (build or build-san):
# the cmocka unit tests with vectors from x/mod (the store's on SQLite,
# then on PostgreSQL), the key cross-checks, then the end-to-end scripts
# in tests/e2e, a few again on PostgreSQL.  Unit tests stop the run at
# the first failure; the e2e runner ends with "e2e: N passed, N failed".
# SUMDB_SEED repeats a random run.
set -eu
B=$(cd "$1" && pwd)
cd "$(dirname "$0")/.."
T=$(mktemp -d)
PGDIR=
trap 'stop_pg; rm -rf "$T"' EXIT
. tests/peers.sh

seed=${SUMDB_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "run.sh: random seed $seed (SUMDB_SEED=$seed repeats it)"
"$B/xmodref" random "$seed" 60 >"$T/random.txt"
mkdir "$T/zips"
"$B/xmodref" zips "$T/zips" >"$T/zips/expected.txt"

SUMDB_TESTDATA=tests/testdata SUMDB_RANDOM="$T/random.txt" \
    SUMDB_ZIPS="$T/zips" "$B/tests/sumdb_test"
"$B/tests/store_test"
"$B/tests/config_test"
"$B/tests/tuf_test"
"$B/tests/core_test"
# The store's tests again on a PostgreSQL of their own.
start_pg "$(mktemp -d /tmp/sumdbd-pg.XXXXXX)"
SUMDBD_TEST_PG=$PGURL "$B/tests/store_test"
SUMDBD_TEST_PG=$PGURL "$B/tests/core_test"
stop_pg
"$B/tests/http_test"
"$B/tests/privlog_test"
"$B/tests/mirror_test"
"$B/tests/cmd_test"
"$B/tests/witness_test"
# The fuzz targets over their corpora (tests/fuzz/README): no crash.
for t in note key tilepath lookuppath record datatile lookup tufjson bundle \
    config audit http; do
	"$B/fuzz/$t" "tests/fuzz/corpus/$t"
done
sh tests/keys.sh "$B"

# Each script's output is printed when it ends; a failed script's last
# lines are printed again at the end, where a log's tail shows them.
pass=0
failed=
mkdir "$T/e2e"
for t in tests/e2e/*.sh; do
	case $t in */lib.sh) continue;; esac
	out=$T/e2e/${t##*/}
	if B="$B" sh "$t" >"$out" 2>&1; then
		pass=$((pass + 1))
	else
		failed="$failed ${t##*/}"
	fi
	cat "$out"
done
# The private log, mirrors, TUF, audit and fsck again, with every store
# on a PostgreSQL of the test's own (tests/e2e/lib.sh: SUMDBD_STORE).
for t in gocmd mirror tuf audit fsck; do
	out=$T/e2e/pg-$t.sh
	if SUMDBD_STORE=pg B="$B" sh "tests/e2e/$t.sh" >"$out" 2>&1; then
		pass=$((pass + 1))
	else
		failed="$failed pg-$t.sh"
	fi
	cat "$out"
done
for t in $failed; do
	echo "--- $t failed; its last lines:"
	tail -n 40 "$T/e2e/$t"
done
nfail=$(echo $failed | wc -w)
echo "e2e: $pass passed, $nfail failed${failed:+ (}${failed# }${failed:+)}"
[ "$nfail" = 0 ]
