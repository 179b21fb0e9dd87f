#!/bin/sh
# `make run`: a demo of sumdbd in a temporary directory.
set -eu
D=${SUMDB_DEMO_DIR:-$(mktemp -d /tmp/sumdbd-demo.XXXXXX)}
echo "demo: working in $D"
vkey=$(./sumdbd keygen -o "$D/log.key" sumdb.demo.example)
echo "demo: signing key in $D/log.key (mode 0600)"
echo "demo: verifier key for GOSUMDB:"
echo "  $vkey"
