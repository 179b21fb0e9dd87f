#!/bin/sh
# Run every test against the build in directory $1 (build or build-san):
# the cmocka unit tests with vectors from x/mod, then the shell tests.
# Stops at the first failing file.  SUMDB_SEED repeats a random run.
set -eu
B=$(cd "$1" && pwd)
cd "$(dirname "$0")/.."
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

seed=${SUMDB_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "run.sh: random seed $seed (SUMDB_SEED=$seed repeats it)"
"$B/xmodref" random "$seed" 60 >"$T/random.txt"
mkdir "$T/zips"
"$B/xmodref" zips "$T/zips" >"$T/zips/expected.txt"

SUMDB_TESTDATA=tests/testdata SUMDB_RANDOM="$T/random.txt" \
    SUMDB_ZIPS="$T/zips" "$B/tests/sumdb_test"
PATH="$PATH" sh tests/keys.sh "$B"
