// Command upstream is a test-only checksum database for the mirror's
// tests: a log built with golang.org/x/mod's tlog and note packages,
// served over HTTP with our own data-tile handler (x/mod 0.7.0 writes
// data tiles wrongly), and able to misbehave on request.
//
//	upstream ADDR SKEYFILE [-gen N] [-mods FILE] [-other SKEYFILE]
//	         [-proxy DIR] [-reqlog FILE]
//	upstream -dir DIR [-gen N] [-mods FILE] SKEYFILE
//
// -mods takes xmodref modtree's output ("path version ziph1 modh1") and
// logs those modules first; -gen adds N synthetic records.  -proxy
// serves the GOPROXY tree in DIR for every path with "/@v/" in it.
// -reqlog appends the path of every request, one a line, to FILE, so
// that a test can tell what reached the upstream.  -dir writes the log
// as a static tree (latest and every tile at its size) to DIR for a
// plain file server, and exits.  The admin endpoints
// change it while it runs:
//
//	/admin/grow?n=K       append K synthetic records and sign again
//	/admin/attack?kind=K  misbehave: none badsig wrongkey forksame
//	                      forklarger rollback forgedtile lookupother
//	                      lookupempty notintree duplicate oversized slow
//	                      truncated close headerbomb lengthbomb chunkbomb
//	                      redirect redirectrel slowzip bigchunk busy
//	/admin/proxystats     the -proxy requests: "zips N", "maxzips N"
//	                      (most .zip answers in progress at once),
//	                      "requests N"; ?reset=1 zeroes maxzips and
//	                      requests
//
// headerbomb, lengthbomb, chunkbomb, the redirects and busy (503 with
// Retry-After: 1 to the first request for each path) concern every
// path, so the upstream can also stand in for a hostile GOPROXY.
// slowzip holds each -proxy .zip answer for 3 s, then sends it in 64
// KiB pieces 10 ms apart; bigchunk answers a .zip with one chunk of 400
// MiB, sent until the client leaves.  The
// upstream also listens on 127.0.0.2 at the same port, so that a
// redirect can name another host that answers.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type logState struct {
	records [][]byte
	hashes  []tlog.Hash
	index   map[string]int64
}

func (l *logState) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x < 0 || x >= int64(len(l.hashes)) {
			return nil, fmt.Errorf("hash %d not stored", x)
		}
		out[i] = l.hashes[x]
	}
	return out, nil
}

func (l *logState) add(text []byte) {
	id := int64(len(l.records))
	h, err := tlog.StoredHashes(id, text, l)
	if err != nil {
		log.Fatal(err)
	}
	l.hashes = append(l.hashes, h...)
	l.records = append(l.records, text)
	f := strings.Fields(string(text))
	key := f[0] + "@" + f[1]
	if _, ok := l.index[key]; !ok {
		l.index[key] = id
	}
}

func (l *logState) clone() *logState {
	c := &logState{index: make(map[string]int64)}
	c.records = append([][]byte(nil), l.records...)
	c.hashes = append([]tlog.Hash(nil), l.hashes...)
	for k, v := range l.index {
		c.index[k] = v
	}
	return c
}

type server struct {
	mu      sync.Mutex
	l       *logState
	signer  note.Signer
	other   note.Signer
	signed  []byte
	first   []byte // an older checkpoint, for rollbacks
	attack  string
	gen     int
	alt     *logState // a forked history
	altNote []byte

	proxyDir string
	reqlog   *os.File   // -reqlog, or nil
	rmu      sync.Mutex // guards reqlog's writes
	pmu      sync.Mutex // guards the counts below
	zips     int        // .zip answers in progress
	maxZips  int
	requests int
	busy     map[string]bool // paths asked once under "busy"
}

// proxy serves a file of the GOPROXY tree, counting the .zip answers
// in progress; attack is the attack when the request came.
func (s *server) proxy(w http.ResponseWriter, r *http.Request, p, attack string) {
	isZip := strings.HasSuffix(p, ".zip")
	s.pmu.Lock()
	s.requests++
	if isZip {
		s.zips++
		if s.zips > s.maxZips {
			s.maxZips = s.zips
		}
	}
	s.pmu.Unlock()
	defer func() {
		if isZip {
			s.pmu.Lock()
			s.zips--
			s.pmu.Unlock()
		}
	}()
	if strings.Contains(p, "..") {
		http.NotFound(w, r)
		return
	}
	f := filepath.Join(s.proxyDir, filepath.FromSlash(p))
	b, err := os.ReadFile(f)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	if isZip && attack == "bigchunk" {
		hj, ok := w.(http.Hijacker)
		if !ok {
			return
		}
		c, _, err := hj.Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		c.SetWriteDeadline(time.Now().Add(60 * time.Second))
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n", 400<<20)
		zero := make([]byte, 1<<16)
		for i := 0; i < 400<<4; i++ {
			if _, err := c.Write(zero); err != nil {
				return
			}
		}
		return
	}
	if !isZip || attack != "slowzip" {
		w.Write(b)
		return
	}
	time.Sleep(3 * time.Second)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	for len(b) > 0 {
		n := 64 << 10
		if n > len(b) {
			n = len(b)
		}
		if _, err := w.Write(b[:n]); err != nil {
			return
		}
		w.(http.Flusher).Flush()
		b = b[n:]
		time.Sleep(10 * time.Millisecond)
	}
}

// forkAt: from this synthetic record on, other hashes (-fork): one
// key, another history, for split views.
var forkAt = -1

func synth(i int) []byte {
	h := i
	if forkAt >= 0 && i >= forkAt {
		h += 50000000
	}
	return []byte(fmt.Sprintf("example.com/gen/m%d v1.0.%d h1:%s\nexample.com/gen/m%d v1.0.%d/go.mod h1:%s\n",
		i%1000, i, fakeHash(h, 0), i%1000, i, fakeHash(h, 1)))
}

func fakeHash(i, k int) string {
	s := fmt.Sprintf("%043d", i*2+k)
	return s[len(s)-43:] + "="
}

func (s *server) sign(l *logState, signer note.Signer) []byte {
	n := int64(len(l.records))
	th, err := tlog.TreeHash(n, l)
	if err != nil {
		log.Fatal(err)
	}
	msg, err := note.Sign(&note.Note{Text: string(tlog.FormatTree(tlog.Tree{N: n, Hash: th}))}, signer)
	if err != nil {
		log.Fatal(err)
	}
	return msg
}

// badSigner signs under the real key's name and hash with another key.
type badSigner struct{ real, other note.Signer }

func (b badSigner) Name() string                    { return b.real.Name() }
func (b badSigner) KeyHash() uint32                 { return b.real.KeyHash() }
func (b badSigner) Sign(msg []byte) ([]byte, error) { return b.other.Sign(msg) }

func (s *server) note() []byte {
	switch s.attack {
	case "badsig":
		return s.sign(s.l, badSigner{s.signer, s.other})
	case "wrongkey":
		return s.sign(s.l, s.other)
	case "forksame", "forklarger":
		return s.altNote
	case "rollback":
		return s.first
	}
	return s.signed
}

func (s *server) setAttack(kind string) {
	s.attack = kind
	switch kind {
	case "forksame":
		s.alt = s.l.clone()
		n := len(s.alt.records)
		s.alt.records = s.alt.records[:n-1]
		s.alt.hashes = s.alt.hashes[:tlog.StoredHashCount(int64(n-1))]
		s.alt.add(synth(1000000 + n))
		s.altNote = s.sign(s.alt, s.signer)
	case "forklarger":
		s.alt = &logState{index: make(map[string]int64)}
		s.alt.add(synth(2000000))
		for _, r := range s.l.records[1:] {
			s.alt.add(r)
		}
		for i := 0; i < 5; i++ {
			s.alt.add(synth(2000001 + i))
		}
		s.altNote = s.sign(s.alt, s.signer)
	case "duplicate":
		// A second record for the first module version, other hashes.
		f := strings.Fields(string(s.l.records[0]))
		s.l.records = s.l.records // keep the index of the first
		dup := []byte(fmt.Sprintf("%s %s h1:%s\n%s %s/go.mod h1:%s\n", f[0], f[1], fakeHash(7, 7), f[0], f[1], fakeHash(7, 8)))
		s.l.add(dup)
		s.signed = s.sign(s.l, s.signer)
	}
}

func (s *server) hijack(w http.ResponseWriter, body []byte) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		return
	}
	c, buf, err := hj.Hijack()
	if err != nil {
		return
	}
	if body != nil {
		fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", len(body))
		buf.Write(body[:len(body)/2])
		buf.Flush()
	}
	c.Close()
}

// bomb handles the attacks on every path: endless header lines, a body
// longer than anyone takes, and redirects.  It reports whether it
// answered.
func (s *server) bomb(w http.ResponseWriter, r *http.Request, p string) bool {
	line := []byte("X-Bomb: " + strings.Repeat("b", 4000) + "\r\n")
	chunk := bytes.Repeat([]byte("x"), 1<<16)
	switch s.attack {
	case "headerbomb", "lengthbomb", "chunkbomb":
		hj, ok := w.(http.Hijacker)
		if !ok {
			return false
		}
		c, _, err := hj.Hijack()
		if err != nil {
			return true
		}
		defer c.Close()
		// Never more than a minute, whatever the client does.
		c.SetWriteDeadline(time.Now().Add(60 * time.Second))
		switch s.attack {
		case "headerbomb":
			if _, err := c.Write([]byte("HTTP/1.1 200 OK\r\n")); err != nil {
				return true
			}
			for {
				if _, err := c.Write(line); err != nil {
					return true
				}
			}
		case "lengthbomb":
			if _, err := c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 1000000000000\r\n\r\n")); err != nil {
				return true
			}
			for {
				if _, err := c.Write(chunk); err != nil {
					return true
				}
			}
		default:
			if _, err := c.Write([]byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")); err != nil {
				return true
			}
			for {
				if _, err := fmt.Fprintf(c, "%x\r\n%s\r\n", len(chunk), chunk); err != nil {
					return true
				}
			}
		}
	case "busy":
		// The first request for each path: 503 and Retry-After.
		s.pmu.Lock()
		if s.busy == nil {
			s.busy = map[string]bool{}
		}
		seen := s.busy[p]
		s.busy[p] = true
		s.pmu.Unlock()
		if seen {
			return false
		}
		w.Header().Set("Retry-After", "1")
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return true
	case "redirect", "redirectrel":
		if r.URL.Query().Get("r") != "" {
			return false
		}
		to := "/" + p + "?r=1"
		if s.attack == "redirect" {
			_, port, _ := net.SplitHostPort(r.Host)
			to = "http://127.0.0.2:" + port + to
		}
		http.Redirect(w, r, to, http.StatusFound)
		return true
	}
	return false
}

// misbehave handles the attacks that concern the whole answer.
func (s *server) misbehave(w http.ResponseWriter, body []byte) bool {
	switch s.attack {
	case "oversized":
		w.WriteHeader(200)
		chunk := bytes.Repeat([]byte("x"), 1<<20)
		for i := 0; i < 64; i++ {
			if _, err := w.Write(chunk); err != nil {
				break
			}
		}
		return true
	case "slow":
		time.Sleep(5 * time.Second)
		w.Write(body)
		return true
	case "truncated":
		s.hijack(w, body)
		return true
	case "close":
		s.hijack(w, nil)
		return true
	}
	return false
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.reqlog != nil {
		s.rmu.Lock()
		fmt.Fprintln(s.reqlog, r.URL.Path)
		s.rmu.Unlock()
	}
	s.mu.Lock()
	p := strings.TrimPrefix(r.URL.Path, "/")
	if !strings.HasPrefix(p, "admin/") && s.bomb(w, r, p) {
		s.mu.Unlock()
		return
	}
	// GOPROXY answers run in parallel: they do not hold s.mu.
	if s.proxyDir != "" && strings.Contains(p, "/@v/") {
		attack := s.attack
		s.mu.Unlock()
		s.proxy(w, r, p, attack)
		return
	}
	defer s.mu.Unlock()
	switch {
	case p == "admin/proxystats":
		s.pmu.Lock()
		fmt.Fprintf(w, "zips %d\nmaxzips %d\nrequests %d\n", s.zips, s.maxZips, s.requests)
		if r.URL.Query().Get("reset") != "" {
			s.maxZips = s.zips
			s.requests = 0
		}
		s.pmu.Unlock()
	case p == "admin/attack":
		s.setAttack(r.URL.Query().Get("kind"))
		fmt.Fprintf(w, "attack %s\n", s.attack)
	case p == "admin/grow":
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		for i := 0; i < n; i++ {
			s.l.add(synth(s.gen))
			s.gen++
		}
		s.signed = s.sign(s.l, s.signer)
		fmt.Fprintf(w, "tree %d\n", len(s.l.records))
	case p == "latest":
		body := s.note()
		if !s.misbehave(w, body) {
			w.Write(body)
		}
	case strings.HasPrefix(p, "lookup/"):
		s.lookup(w, strings.TrimPrefix(p, "lookup/"))
	case strings.HasPrefix(p, "tile/"):
		s.tile(w, p)
	default:
		http.NotFound(w, r)
	}
}

func (s *server) lookup(w http.ResponseWriter, arg string) {
	i := strings.Index(arg, "@")
	if i < 0 {
		http.Error(w, "bad request", 400)
		return
	}
	path, err1 := module.UnescapePath(arg[:i])
	vers, err2 := module.UnescapeVersion(arg[i+1:])
	if err1 != nil || err2 != nil {
		http.Error(w, "bad request", 400)
		return
	}
	id, ok := s.l.index[path+"@"+vers]
	if s.attack == "duplicate" {
		id, ok = int64(len(s.l.records)-1), true
	}
	if !ok {
		http.NotFound(w, nil)
		return
	}
	text := s.l.records[id]
	switch s.attack {
	case "lookupother":
		id = (id + 1) % int64(len(s.l.records))
		text = s.l.records[id]
	case "lookupempty":
		w.WriteHeader(200)
		return
	case "notintree":
		text = []byte(fmt.Sprintf("%s %s h1:%s\n%s %s/go.mod h1:%s\n", path, vers, fakeHash(9, 9), path, vers, fakeHash(9, 10)))
	}
	body := append([]byte(fmt.Sprintf("%d\n", id)), text...)
	body = append(body, '\n')
	body = append(body, s.note()...)
	if !s.misbehave(w, body) {
		w.Write(body)
	}
}

func (s *server) tile(w http.ResponseWriter, p string) {
	t, err := tlog.ParseTilePath(p)
	if err != nil || t.H != 8 {
		http.Error(w, "invalid tile", 400)
		return
	}
	l := s.l
	if s.attack == "forksame" || s.attack == "forklarger" {
		l = s.alt
	}
	n := int64(len(l.records))
	level := t.L
	if level < 0 {
		level = 0
	}
	if (t.N<<8+int64(t.W))<<(8*uint(level)) > n {
		http.NotFound(w, nil)
		return
	}
	body, err := tileData(l, t)
	if err != nil {
		http.Error(w, err.Error(), 500)
		return
	}
	if t.L >= 0 && s.attack == "forgedtile" {
		body[len(body)/2] ^= 1
	}
	if !s.misbehave(w, body) {
		w.Write(body)
	}
}

// tileData is the content of tile t of l: for a data tile the record
// texts, each followed by "\n" (as sum.golang.org serves them, with no
// id lines), else the hashes.
func tileData(l *logState, t tlog.Tile) ([]byte, error) {
	if t.L >= 0 {
		return tlog.ReadTileData(t, l)
	}
	var body []byte
	for i := int64(0); i < int64(t.W); i++ {
		body = append(body, l.records[t.N<<8+i]...)
		body = append(body, '\n')
	}
	return body, nil
}

// writeTree writes the static tree of l to dir: the signed checkpoint
// as latest, and every tile a full mirror or a go command can ask for
// at this size: each level's full tiles, its partial right-edge tile
// (.p/W) and the data tiles.  A static file server then serves it.
func writeTree(dir string, l *logState, signed []byte) error {
	put := func(p string, b []byte) error {
		f := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(f), 0755); err != nil {
			return err
		}
		return os.WriteFile(f, b, 0644)
	}
	n := int64(len(l.records))
	ntiles := 0
	for level := -1; ; level++ {
		width := n // stored hashes at this level; records for data
		if level > 0 {
			width = n >> (8 * uint(level))
		}
		if width == 0 {
			break
		}
		for k := int64(0); k<<8 < width; k++ {
			w := width - k<<8
			if w > 256 {
				w = 256
			}
			t := tlog.Tile{H: 8, L: level, N: k, W: int(w)}
			b, err := tileData(l, t)
			if err != nil {
				return err
			}
			if err := put(t.Path(), b); err != nil {
				return err
			}
			ntiles++
		}
		if level >= 0 && width < 256 {
			break
		}
	}
	if err := put("latest", signed); err != nil {
		return err
	}
	log.Printf("upstream: %d records, %d tiles written to %s", n, ntiles, dir)
	return nil
}

func loadSigner(file string) note.Signer {
	b, err := os.ReadFile(file)
	if err != nil {
		log.Fatal(err)
	}
	s, err := note.NewSigner(strings.TrimSpace(string(b)))
	if err != nil {
		log.Fatal(err)
	}
	return s
}

func main() {
	gen := flag.Int("gen", 0, "synthetic records")
	mods := flag.String("mods", "", "modtree output to log first")
	other := flag.String("other", "", "another signer key, for attacks")
	proxyDir := flag.String("proxy", "", "a GOPROXY tree to serve")
	reqlog := flag.String("reqlog", "", "append each request's path to this file")
	dir := flag.String("dir", "", "write the tree to this directory and exit")
	flag.IntVar(&forkAt, "fork", -1, "synthetic records from this one on get other hashes")
	flag.Parse()
	if *dir == "" && flag.NArg() != 2 || *dir != "" && flag.NArg() != 1 {
		log.Fatal("usage: upstream [-gen N] [-mods FILE] [-other SKEY] [-proxy DIR] [-reqlog FILE] ADDR SKEYFILE\n" +
			"       upstream [-gen N] [-mods FILE] -dir DIR SKEYFILE")
	}
	s := &server{l: &logState{index: make(map[string]int64)}, signer: loadSigner(flag.Arg(flag.NArg() - 1)), proxyDir: *proxyDir}
	if *other != "" {
		s.other = loadSigner(*other)
	}
	if *reqlog != "" {
		f, err := os.OpenFile(*reqlog, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0644)
		if err != nil {
			log.Fatal(err)
		}
		s.reqlog = f
	}
	if *mods != "" {
		b, err := os.ReadFile(*mods)
		if err != nil {
			log.Fatal(err)
		}
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			f := strings.Fields(line)
			if len(f) != 4 {
				continue
			}
			s.l.add([]byte(fmt.Sprintf("%s %s %s\n%s %s/go.mod %s\n", f[0], f[1], f[2], f[0], f[1], f[3])))
		}
	}
	for i := 0; i < *gen; i++ {
		s.l.add(synth(s.gen))
		s.gen++
	}
	if len(s.l.records) < 20 {
		log.Fatal("upstream: want at least 20 records")
	}
	// An older checkpoint for rollbacks, then the current one.
	old := s.l.clone()
	m := len(old.records) - 10
	old.records = old.records[:m]
	old.hashes = old.hashes[:tlog.StoredHashCount(int64(m))]
	s.first = s.sign(old, s.signer)
	s.signed = s.sign(s.l, s.signer)
	if *dir != "" {
		if err := writeTree(*dir, s.l, s.signed); err != nil {
			log.Fatal(err)
		}
		return
	}
	log.Printf("upstream: %d records on %s", len(s.l.records), flag.Arg(0))
	if host, port, err := net.SplitHostPort(flag.Arg(0)); err == nil && host == "127.0.0.1" {
		go http.ListenAndServe("127.0.0.2:"+port, s)
	}
	log.Fatal(http.ListenAndServe(flag.Arg(0), s))
}
