#!/bin/sh
# `make run`: a demo private checksum database on 127.0.0.1:8080, kept
# in build/demo (key, database, a file:// GOPROXY of demo modules), so
# that it survives restarts.  Ctrl-C stops it.
set -eu
D=$(pwd)/build/demo
mkdir -p "$D"
if [ ! -f "$D/log.key" ]; then
	./sumdbd keygen -o "$D/log.key" sumdb.demo.example >"$D/vkey"
fi
vkey=$(cat "$D/vkey")
# Two versions of a demo module, as a GOPROXY serves them.
python3 - "$D/proxy" <<'EOP'
import os, sys, zipfile
root = sys.argv[1]
for v in ("v1.0.0", "v1.1.0"):
    d = os.path.join(root, "example.com/demo/hello/@v")
    os.makedirs(d, exist_ok=True)
    mod = "module example.com/demo/hello\n\ngo 1.19\n"
    with open(os.path.join(d, v + ".mod"), "w") as f:
        f.write(mod)
    with open(os.path.join(d, v + ".info"), "w") as f:
        f.write('{"Version":"%s","Time":"2024-01-01T00:00:00Z"}\n' % v)
    p = "example.com/demo/hello@%s/" % v
    with zipfile.ZipFile(os.path.join(d, v + ".zip"), "w") as z:
        z.writestr(p + "go.mod", mod)
        z.writestr(p + "hello.go", 'package hello\n\nfunc Hello() string { return "hello %s" }\n' % v)
    with open(os.path.join(d, "list"), "w") as f:
        f.write("v1.0.0\nv1.1.0\n")
EOP
cat >"$D/sumdbd.conf" <<EOC
[server]
listen = 127.0.0.1:8080
database = $D/sumdbd.db

[log]
name = sumdb.demo.example
key = $D/log.key
goproxy = file://$D/proxy
EOC
cat <<EOM
sumdbd demo: a private checksum database on http://127.0.0.1:8080
  state in $D (delete it to start over)

A go command verifies against it with:
  export GOSUMDB="$vkey http://127.0.0.1:8080"
  export GOPROXY="file://$D/proxy"
or, finding the database through the proxy route:
  export GOSUMDB="$vkey"
  export GOPROXY="http://127.0.0.1:8080,file://$D/proxy"
then, in a module:  go get example.com/demo/hello@v1.1.0
Or ask it directly:
  curl http://127.0.0.1:8080/lookup/example.com/demo/hello@v1.0.0

Ctrl-C stops the daemon.
EOM
exec ./sumdbd -d -c "$D/sumdbd.conf"
