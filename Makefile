# sumdbd: one Makefile.  `make` builds ./sumdbd; `make check` installs
# what the tests need, builds and runs every test; `make run` starts a
# demo.  SAN=1 builds and tests everything under ASan and UBSan, TSAN=1
# under ThreadSanitizer.

PREFIX	?= /usr/local
DESTDIR	?=
CC	?= cc
CFLAGS	?= -O2 -g
SAN	?= 0

PKGS	= libevent libevent_openssl libevent_pthreads openssl libsodium libpq \
	  sqlite3 jansson inih libzip libcurl
TESTPKGS = cmocka

WARN	= -Wall -Wextra -Wshadow -Wpointer-arith -Wsign-compare \
	  -Wstrict-prototypes -Wmissing-prototypes -Werror=implicit
CPPFLAGS += -D_GNU_SOURCE -Idaemon -Idaemon/sumdb -Istore -Iconfig -Ituf $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LIBS	= $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread -lm

# libsystemd is optional: without it sd_notify() is not called.
ifeq ($(shell pkg-config --exists libsystemd 2>/dev/null && echo y),y)
CPPFLAGS += -DHAVE_SYSTEMD $(shell pkg-config --cflags libsystemd)
LIBS	+= $(shell pkg-config --libs libsystemd)
endif

ifeq ($(SAN),1)
O	= build-san
SANFLAGS = -fsanitize=address,undefined -fno-sanitize-recover=all \
	  -fno-omit-frame-pointer
else ifeq ($(TSAN),1)
# ThreadSanitizer: `make check TSAN=1` (not in CI: run it after changes
# to what workers and the main thread share).
O	= build-tsan
SANFLAGS = -fsanitize=thread -fno-omit-frame-pointer
# glibc's own locking, which TSan cannot see: tests/tsan.supp says why.
export TSAN_OPTIONS = suppressions=$(CURDIR)/tests/tsan.supp
else
O	= build
SANFLAGS =
endif
ALL_CFLAGS = $(CFLAGS) $(WARN) $(SANFLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(SANFLAGS)

SUMDB_SRCS = daemon/sumdb/encode.c daemon/sumdb/note.c daemon/sumdb/tlog.c \
	  daemon/sumdb/tile.c daemon/sumdb/record.c daemon/sumdb/modpath.c \
	  daemon/sumdb/dirhash.c daemon/sumdb/bundle.c daemon/sumdb/gosum.c \
	  daemon/sumdb/witness.c
CORE_SRCS = daemon/log.c daemon/env.c daemon/db.c daemon/handoff.c \
	  daemon/privacy.c daemon/fetch.c daemon/tiles.c daemon/tiles_http.c \
	  daemon/trust.c daemon/audit.c daemon/bundle.c daemon/tufrepo.c \
	  daemon/reload.c daemon/users.c daemon/storew.c \
	  daemon/peers.c daemon/cluster.c
HTTP_SRCS = daemon/http/server.c daemon/http/conn.c daemon/http/parse.c \
	  daemon/http/serve.c daemon/http/cache.c daemon/http/status.c \
	  daemon/http/audit.c daemon/http/tufserve.c daemon/http/auth.c \
	  daemon/http/witness.c
PRIVLOG_SRCS = daemon/privlog/batch.c daemon/privlog/writer.c \
	  daemon/privlog/modfetch.c daemon/privlog/public.c
WITNESS_SRCS = daemon/witness/witness.c
MIRROR_SRCS = daemon/mirror/sync.c daemon/mirror/job.c \
	  daemon/mirror/verify.c daemon/mirror/full.c daemon/mirror/evidence.c
CMD_SRCS = daemon/cmd/cmd.c daemon/cmd/keygen.c daemon/cmd/add.c \
	  daemon/cmd/fsck.c daemon/cmd/evidence.c daemon/cmd/client.c \
	  daemon/cmd/client_check.c daemon/cmd/import.c daemon/cmd/audit.c \
	  daemon/cmd/export.c daemon/cmd/tuf.c daemon/cmd/unfreeze.c \
	  daemon/cmd/provenance.c daemon/cmd/passwd.c daemon/cmd/cosigned.c \
	  daemon/cmd/migrate.c
STORE_SRCS = store/store.c store/sql.c
TUF_SRCS = tuf/json.c tuf/tuf.c tuf/update.c
CONFIG_SRCS = config/config.c config/secret.c

SUMDB_OBJS = $(SUMDB_SRCS:%.c=$(O)/%.o)
STORE_OBJS = $(STORE_SRCS:%.c=$(O)/%.o)
TUF_OBJS = $(TUF_SRCS:%.c=$(O)/%.o)
CONFIG_OBJS = $(CONFIG_SRCS:%.c=$(O)/%.o)
CORE_OBJS = $(CORE_SRCS:%.c=$(O)/%.o)
HTTP_OBJS = $(HTTP_SRCS:%.c=$(O)/%.o)
PRIVLOG_OBJS = $(PRIVLOG_SRCS:%.c=$(O)/%.o)
MIRROR_OBJS = $(MIRROR_SRCS:%.c=$(O)/%.o)
WITNESS_OBJS = $(WITNESS_SRCS:%.c=$(O)/%.o)
CMD_OBJS = $(CMD_SRCS:%.c=$(O)/%.o)
HEADERS	= daemon/sumdb/sumdb.h daemon/sumdbd.h daemon/http/http.h \
	  daemon/privlog/privlog.h daemon/privlog/pending.h daemon/mirror/mirror.h daemon/mirror/job.h \
	  daemon/cmd/cmd.h daemon/cmd/client.h daemon/witness/witness.h store/store.h store/sql.h config/config.h \
	  tuf/tuf.h

TESTS	= $(O)/tests/sumdb_test $(O)/tests/store_test $(O)/tests/config_test \
	  $(O)/tests/tuf_test $(O)/tests/core_test $(O)/tests/http_test \
	  $(O)/tests/privlog_test $(O)/tests/mirror_test $(O)/tests/cmd_test \
	  $(O)/tests/witness_test
TOOLS	= $(O)/tests/notetool $(O)/tests/tuftool

# Debian packages: to build, to test, to benchmark.
DEBS	= gcc make pkg-config python3 libevent-dev libssl-dev libsodium-dev \
	  libsqlite3-dev libjansson-dev libinih-dev libzip-dev libsystemd-dev \
	  libcurl4-openssl-dev libpq-dev
# `make run`'s demo: the go command, and x/mod for the test upstream.
RUNDEBS	= golang-go golang-golang-x-mod-dev curl
TESTDEBS = libcmocka-dev golang-go golang-golang-x-mod-dev curl sqlite3 python3 \
	  nodejs mandoc groff-base systemd systemd-container wrk openssl zip \
	  golang-golang-x-tools-dev squid nginx apache2-utils iproute2 postgresql

GO	= GO111MODULE=off GOPATH=/usr/share/gocode GOCACHE=$(CURDIR)/$(O)/gocache \
	  GOFLAGS= go
# The second go command and x/mod of the tests, Debian 13's, unpacked
# into $(O)/go124 by tests/go124.sh and never installed.
GO124DIR = $(O)/go124
GO124	= $(GO124DIR)/usr/lib/go-1.24/bin/go
GOXMOD19 = GO111MODULE=off GOPATH=$(CURDIR)/$(GO124DIR)/usr/share/gocode \
	  GOCACHE=$(CURDIR)/$(O)/gocache HOME=$(CURDIR)/$(GO124DIR)/home \
	  GOFLAGS= GOTOOLCHAIN=local $(GO124)

.PHONY: all deps rundeps testdeps check run bench bench-core bench-sync bench-scale bench-ha \
	  install clean

all: deps sumdbd

deps:
	@sh tests/deps.sh $(DEBS)

rundeps:
	@sh tests/deps.sh $(DEBS) $(RUNDEBS)

testdeps:
	@sh tests/deps.sh $(DEBS) $(TESTDEBS)

ifeq ($(SAN),1)
sumdbd: $(O)/sumdbd
else
sumdbd: $(O)/sumdbd
	cp $(O)/sumdbd sumdbd
endif

$(O)/%.o: %.c $(HEADERS)
	@mkdir -p $(dir $@)
	@echo "CC $<"
	@$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

# One archive per library and per daemon layer; each lists its objects.
$(O)/lib%.a:
	rm -f $@
	ar rcs $@ $^

$(O)/libsumdb.a: $(SUMDB_OBJS)

$(O)/libstore.a: $(STORE_OBJS)

$(O)/libtuf.a: $(TUF_OBJS)

$(O)/tests/tuf_test: $(O)/tests/tuf_test.o $(O)/libtuf.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) $(shell pkg-config --libs $(TESTPKGS))

$(O)/libconfig.a: $(CONFIG_OBJS)

# The daemon's layers, one archive each (DESIGN.md, Layout): core uses
# only the libraries; http, privlog and mirror use core and never each
# other; cmd uses all of them but http; main.c ties them together.  A
# layer's unit test links its whole archive (--whole-archive) with only
# the layers below, so a call upwards or sideways fails to link.
$(O)/libcore.a: $(CORE_OBJS)

$(O)/libhttp.a: $(HTTP_OBJS)

$(O)/libprivlog.a: $(PRIVLOG_OBJS)

$(O)/libmirror.a: $(MIRROR_OBJS)

$(O)/libwitness.a: $(WITNESS_OBJS)

$(O)/libcmd.a: $(CMD_OBJS)

LIBRARIES = $(O)/libstore.a $(O)/libconfig.a $(O)/libtuf.a $(O)/libsumdb.a
WHOLE	= -Wl,--whole-archive
NOWHOLE	= -Wl,--no-whole-archive

$(O)/sumdbd: $(O)/daemon/main.o $(O)/libcmd.a $(O)/libhttp.a \
	  $(O)/libprivlog.a $(O)/libmirror.a $(O)/libwitness.a $(O)/libcore.a \
	  $(LIBRARIES)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# $(call layer_test,NAME,ARCHIVES): tests/NAME_test with the whole of
# ARCHIVES (its layer first, then the layers below) and the libraries.
define layer_test
$(O)/tests/$(1)_test: $(O)/tests/$(1)_test.o $(2) $(LIBRARIES)
	$$(CC) $$(ALL_LDFLAGS) -o $$@ $$< $$(WHOLE) $(2) $$(NOWHOLE) \
	  $$(LIBRARIES) $$(LIBS) $$(shell pkg-config --libs $$(TESTPKGS))
endef
$(eval $(call layer_test,core,$(O)/libcore.a))
$(eval $(call layer_test,http,$(O)/libhttp.a $(O)/libcore.a))
$(eval $(call layer_test,privlog,$(O)/libprivlog.a $(O)/libcore.a))
$(eval $(call layer_test,mirror,$(O)/libmirror.a $(O)/libcore.a))
$(eval $(call layer_test,witness,$(O)/libwitness.a $(O)/libcore.a))
$(eval $(call layer_test,cmd,$(O)/libcmd.a $(O)/libprivlog.a \
	  $(O)/libmirror.a $(O)/libcore.a))

# privlog_test and mirror_test keep their files in tests/tmpdir.h's
# temporary directories.
$(O)/tests/privlog_test.o $(O)/tests/mirror_test.o \
	  $(O)/tests/witness_test.o: tests/tmpdir.h

$(O)/tests/sumdb_test: $(O)/tests/sumdb_test.o $(O)/libsumdb.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) $(shell pkg-config --libs $(TESTPKGS))

$(O)/tests/store_test: $(O)/tests/store_test.o $(O)/libstore.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) $(shell pkg-config --libs $(TESTPKGS))

$(O)/tests/config_test: $(O)/tests/config_test.o $(O)/libconfig.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS) $(shell pkg-config --libs $(TESTPKGS))

$(O)/tests/tuftool: $(O)/tests/tuftool.o $(O)/libtuf.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(O)/tests/notetool: $(O)/tests/notetool.o $(O)/libsumdb.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

$(O)/tests/bench_core: $(O)/tests/bench_core.o $(O)/libsumdb.a
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

# The independent implementation: golang.org/x/mod, Debian's, GOPATH mode.
$(O)/xmodref: tests/xmodref/main.go tests/xmodref/witness.go
	@mkdir -p $(O)
	$(GO) build -o $@ ./tests/xmodref

# The same against x/mod 0.19, built with go 1.24.
$(O)/xmodref19: tests/xmodref/main.go tests/xmodref/witness.go $(GO124)
	$(GOXMOD19) build -o $@ ./tests/xmodref

$(GO124): tests/go124.sh
	sh tests/go124.sh $(GO124DIR)

# The real-size test modules, zipped from Debian's Go sources (x/mod,
# x/tools, the standard library) and hashed by the go command.
$(O)/realmods/hashes: tests/realmods.sh $(O)/xmodref | $(GO124)
	sh tests/realmods.sh -f $(O)

$(O)/refserver: tests/refserver/main.go
	@mkdir -p $(O)
	$(GO) build -o $@ ./tests/refserver

$(O)/upstream: tests/upstream/main.go
	@mkdir -p $(O)
	$(GO) build -o $@ ./tests/upstream

check: testdeps
	$(MAKE) $(O)/sumdbd $(TESTS) $(TOOLS) $(O)/xmodref $(O)/upstream \
	  $(GO124) $(O)/xmodref19 $(FUZZ_BINS) $(O)/realmods/hashes
	sh tests/run.sh $(O)

# The demo: sumdbd, and tests/upstream standing in for sum.golang.org.
run: rundeps
	$(MAKE) sumdbd $(O)/upstream
	SUMDBD=$(O)/sumdbd UPSTREAM=$(O)/upstream sh tests/demo.sh

bench-core: deps $(O)/tests/bench_core
	$(O)/tests/bench_core

bench-sync: testdeps
	$(MAKE) $(O)/sumdbd $(O)/upstream $(O)/tests/bench_core
	sh tests/bench-sync.sh $(O)

# A full mirror at 1,000,000 and BENCH_RECORDS (default 10,000,000)
# records: sync, store, memory, fsck, start and serving; not in `make
# check`.
bench-scale: testdeps
	@sh tests/deps.sh wrk
	$(MAKE) $(O)/sumdbd $(O)/upstream
	sh tests/bench-scale.sh $(O)

# The mixed load on 1 node on SQLite, 1 and 3 nodes on PostgreSQL, and
# appends/s with one writer; not in `make check`.
bench-ha: testdeps
	@sh tests/deps.sh wrk
	$(MAKE) $(O)/sumdbd $(O)/xmodref
	sh tests/bench-ha.sh $(O)

bench: testdeps
	@sh tests/deps.sh wrk nginx
	$(MAKE) $(O)/sumdbd $(O)/xmodref $(O)/refserver $(O)/upstream
	sh tests/bench.sh $(O)

# Memory under sustained load, SOAK_TIME seconds (default 600): not in
# `make check`.
.PHONY: soak
soak: testdeps
	$(MAKE) $(O)/sumdbd $(O)/upstream
	sh tests/soak.sh $(O)

# Fuzzing: a libFuzzer target per parser of outside bytes, in tests/fuzz.
# `make check` links each with tests/fuzz/driver.c and runs it over its
# corpus; `make fuzz` builds them with clang's libFuzzer in build-fuzz
# and runs each for FUZZ_TIME seconds on a copy of its corpus.
FUZZ_TARGETS = note key tilepath lookuppath record datatile lookup tufjson \
	  bundle config audit http
FUZZ_TIME ?= 60
FUZZDEBS = clang libclang-rt-14-dev
FUZZ_BINS = $(FUZZ_TARGETS:%=$(O)/fuzz/%)
FUZZ_MAIN = $(O)/tests/fuzz/driver.o
FUZZ_LDFLAGS =
FUZZ_SANFLAGS = -fsanitize=fuzzer-no-link,address,undefined \
	  -fno-sanitize-recover=all -fno-omit-frame-pointer

$(O)/fuzz/%: $(O)/tests/fuzz/%.o $(FUZZ_MAIN)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) $(FUZZ_LDFLAGS) -o $@ $^ $(LIBS)

$(FUZZ_TARGETS:%=$(O)/tests/fuzz/%.o) $(O)/tests/fuzz/driver.o: \
	  tests/fuzz/fuzz.h
$(O)/fuzz/note $(O)/fuzz/key $(O)/fuzz/tilepath $(O)/fuzz/lookuppath \
	  $(O)/fuzz/record $(O)/fuzz/datatile $(O)/fuzz/lookup \
	  $(O)/fuzz/bundle: $(O)/libsumdb.a
$(O)/fuzz/tufjson: $(O)/libtuf.a
$(O)/fuzz/http: $(O)/daemon/http/parse.o
$(O)/fuzz/config: $(O)/libconfig.a
$(O)/fuzz/audit: $(O)/libconfig.a $(O)/libsumdb.a

.PHONY: fuzz
fuzz:
	@sh tests/deps.sh $(DEBS) $(FUZZDEBS)
	$(MAKE) O=build-fuzz CC=clang SANFLAGS="$(FUZZ_SANFLAGS)" FUZZ_MAIN= \
	  FUZZ_LDFLAGS=-fsanitize=fuzzer $(FUZZ_TARGETS:%=build-fuzz/fuzz/%)
	sh tests/fuzz/fuzz.sh build-fuzz $(FUZZ_TIME) $(FUZZ_TARGETS)

# install: the daemon, its man pages, the example config (never the
# config itself) and the systemd unit, whose ExecStart names PREFIX.
SYSCONFDIR ?= /etc
MANDIR	?= $(PREFIX)/share/man
UNITDIR	?= $(PREFIX)/lib/systemd/system

install: sumdbd
	install -d $(DESTDIR)$(PREFIX)/sbin $(DESTDIR)$(MANDIR)/man8 \
	  $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(SYSCONFDIR)/sumdbd \
	  $(DESTDIR)$(UNITDIR)
	install -m 0755 $(O)/sumdbd $(DESTDIR)$(PREFIX)/sbin/sumdbd
	install -m 0644 man/sumdbd.8 $(DESTDIR)$(MANDIR)/man8/sumdbd.8
	install -m 0644 man/sumdbd.conf.5 $(DESTDIR)$(MANDIR)/man5/sumdbd.conf.5
	install -m 0644 config/sumdbd.conf.example \
	  $(DESTDIR)$(SYSCONFDIR)/sumdbd/sumdbd.conf.example
	sed 's|/usr/local/sbin/sumdbd|$(PREFIX)/sbin/sumdbd|g' \
	  systemd/sumdbd.service >$(O)/sumdbd.service
	install -m 0644 $(O)/sumdbd.service $(DESTDIR)$(UNITDIR)/sumdbd.service

clean:
	rm -rf build build-san sumdbd
