#!/bin/sh
# Run each libFuzzer target built in $1 (build-fuzz) for $2 seconds, one
# after the other, on a copy of its corpus (the committed one never
# grows), and print per target the executions, the coverage and the
# crashes.  A crash, leak, sanitizer report or timeout fails the run and
# prints the input that reproduces it; minimize it with
# -minimize_crash=1 and add it to tests/fuzz/corpus/NAME/ as crash-*.
# Usage: fuzz.sh BUILDDIR SECONDS TARGET...
set -u
B=$(cd "$1" && pwd)
secs=$2
shift 2
cd "$(dirname "$0")/../.."
failed=
for t in "$@"; do
	W=$B/fuzz-run/$t
	rm -rf "$W"
	mkdir -p "$W/corpus" "$W/crashes"
	cp tests/fuzz/corpus/$t/* "$W/corpus/"
	dict=
	[ ! -f tests/fuzz/$t.dict ] || dict=-dict=tests/fuzz/$t.dict
	"$B/fuzz/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -artifact_prefix="$W/crashes/" $dict \
	    "$W/corpus" >"$W/log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$W/log")
	cov=$(grep -o 'cov: [0-9]*' "$W/log" | tail -n 1 | cut -d' ' -f2)
	ft=$(grep -o 'ft: [0-9]*' "$W/log" | tail -n 1 | cut -d' ' -f2)
	crashes=$(ls "$W/crashes" | wc -l)
	printf 'fuzz %-10s %ss: %s runs, cov %s, ft %s, corpus %s, crashes %s\n' \
	    "$t" "$secs" "${runs:-?}" "${cov:-?}" "${ft:-?}" \
	    "$(ls "$W/corpus" | wc -l)" "$crashes"
	if [ "$rc" -ne 0 ] || [ "$crashes" -gt 0 ]; then
		failed="$failed $t"
		grep -m 1 -E '^==[0-9]+==ERROR|SUMMARY|Assertion|runtime error|ALARM' \
		    "$W/log" | sed 's/^/    /'
		for f in "$W/crashes"/*; do
			[ -f "$f" ] && echo "    reproduce: $B/fuzz/$t $f"
		done
		echo "    log: $W/log"
	fi
done
[ -z "$failed" ] || { echo "fuzz: crashes in$failed"; exit 1; }
echo "fuzz: $# targets, no crash"
