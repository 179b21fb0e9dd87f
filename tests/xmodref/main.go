// Command xmodref is the independent reference for sumdbd's tests: it
// answers from golang.org/x/mod (Debian's golang-golang-x-mod-dev, built
// in GOPATH mode with Go 1.19) so that the C code can be checked against
// it.  It never writes data tiles: x/mod 0.7.0 formats them wrongly.
//
//	xmodref kat                 known-answer vectors (tests/testdata/kat.txt)
//	xmodref random SEED COUNT   random tree vectors over a 100,000-record log
//	xmodref zips DIR            build module zips in DIR, print their h1
//	xmodref open VKEY FILE      note.Open a signed note; print its text
//	xmodref sign SKEY FILE      note.Sign the text in FILE
//	xmodref keycheck SKEY VKEY  both keys parse, sign and verify each other
//	xmodref modtree DIR M@V...  write a GOPROXY tree of test modules in DIR
//	xmodref realmod DIR M@V SRCDIR
//	                            add M@V to the GOPROXY tree in DIR, zipped
//	                            from the real source tree SRCDIR as
//	                            zip.CreateFromDir does, with go.mod
//	                            "module M"; print "M V ziph1 modh1 files"
//	xmodref consistent VKEY URL NOTE...
//	                            each signed NOTE verifies and the tree at
//	                            URL/latest extends it, proven through
//	                            tiles fetched from URL
//	xmodref client VKEY URL M@V...
//	                            x/mod's sumdb.Client looks each module
//	                            version up at URL and prints its lines
//	xmodref lagclient VKEY URL1 M1@V1 URL2 M2@V2
//	                            one client looks M1 up at URL1, then M2
//	                            at URL2 (a mirror behind URL1)
//	xmodref hashzip ZIP [GOMOD] dirhash.HashZip of ZIP, and the h1 of
//	                            the go.mod file GOMOD, on one line
//	xmodref provenance FILE LOGKEY UPKEY
//	                            a "sumdbd provenance" export: both
//	                            checkpoints verify under the keys given,
//	                            both records are in their trees, and the
//	                            texts are equal and the module's
package main

import (
	"archive/zip"
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	"golang.org/x/mod/sumdb"
	"golang.org/x/mod/sumdb/dirhash"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
	modzip "golang.org/x/mod/zip"
)

func die(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "xmodref: "+format+"\n", args...)
	os.Exit(2)
}

func main() {
	if len(os.Args) < 2 {
		die("usage: xmodref kat|random|zips|open|sign|keycheck ...")
	}
	switch os.Args[1] {
	case "kat":
		kat()
	case "random":
		if len(os.Args) != 4 {
			die("usage: xmodref random SEED COUNT")
		}
		seed, err1 := strconv.ParseInt(os.Args[2], 10, 64)
		count, err2 := strconv.Atoi(os.Args[3])
		if err1 != nil || err2 != nil {
			die("bad SEED or COUNT")
		}
		random(seed, count)
	case "zips":
		if len(os.Args) != 3 {
			die("usage: xmodref zips DIR")
		}
		zips(os.Args[2])
	case "open":
		openNote(os.Args[2], os.Args[3])
	case "sign":
		signNote(os.Args[2], os.Args[3])
	case "keycheck":
		keycheck(os.Args[2], os.Args[3])
	case "modtree":
		modtree(os.Args[2], os.Args[3:])
	case "realmod":
		if len(os.Args) != 5 {
			die("usage: xmodref realmod DIR M@V SRCDIR")
		}
		realmod(os.Args[2], os.Args[3], os.Args[4])
	case "consistent":
		consistent(os.Args[2], os.Args[3], os.Args[4:])
	case "client":
		client(os.Args[2], os.Args[3], os.Args[4:])
	case "lagclient":
		lagclient(os.Args[2], os.Args[3:])
	case "checkevidence":
		checkevidence(os.Args[2])
	case "provenance":
		if len(os.Args) != 5 {
			die("usage: xmodref provenance FILE LOGKEY UPKEY")
		}
		provenance(os.Args[2], os.Args[3], os.Args[4])
	case "witness":
		witnessMain(os.Args[2:])
	case "hashzip":
		if len(os.Args) != 3 && len(os.Args) != 4 {
			die("usage: xmodref hashzip ZIP [GOMOD]")
		}
		hashzip(os.Args[2], os.Args[3:])
	default:
		die("unknown command %q", os.Args[1])
	}
}

func hx(b []byte) string {
	if len(b) == 0 {
		return "-"
	}
	return hex.EncodeToString(b)
}

func okerr(err error) string {
	if err != nil {
		return "err"
	}
	return "ok"
}

// memLog is an in-memory log: its stored hashes, in x/mod's layout.
type memLog struct {
	hashes []tlog.Hash
}

func (l *memLog) ReadHashes(index []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(index))
	for i, x := range index {
		if x < 0 || x >= int64(len(l.hashes)) {
			return nil, fmt.Errorf("index %d out of range", x)
		}
		out[i] = l.hashes[x]
	}
	return out, nil
}

func (l *memLog) add(n int64, text []byte) {
	h, err := tlog.StoredHashes(n, text, l)
	if err != nil {
		die("StoredHashes: %v", err)
	}
	l.hashes = append(l.hashes, h...)
}

// recordText is the text of record i of the test logs; sumdb_test.c
// builds the same.
func recordText(i int64) []byte {
	return []byte(fmt.Sprintf("example.com/m%d v1.0.%d h1:record%d\n", i%97, i, i))
}

func proofHex(p []tlog.Hash) string {
	if len(p) == 0 {
		return "-"
	}
	var s []string
	for _, h := range p {
		s = append(s, hex.EncodeToString(h[:]))
	}
	return strings.Join(s, ",")
}

func random(seed int64, count int) {
	const max = 100000
	r := rand.New(rand.NewSource(seed))
	var l memLog
	for i := int64(0); i < max; i++ {
		l.add(i, recordText(i))
	}
	fmt.Printf("log %d\n", max)
	for k := 0; k < count; k++ {
		t := 1 + r.Int63n(max)
		th, err := tlog.TreeHash(t, &l)
		if err != nil {
			die("TreeHash: %v", err)
		}
		fmt.Printf("tree %d %s\n", t, hex.EncodeToString(th[:]))
		n := r.Int63n(t)
		rp, err := tlog.ProveRecord(t, n, &l)
		if err != nil {
			die("ProveRecord: %v", err)
		}
		if tlog.CheckRecord(rp, t, th, n, tlog.RecordHash(recordText(n))) != nil {
			die("CheckRecord failed")
		}
		fmt.Printf("recproof %d %d %s\n", t, n, proofHex(rp))
		m := 1 + r.Int63n(t)
		mh, _ := tlog.TreeHash(m, &l)
		tp, err := tlog.ProveTree(t, m, &l)
		if err != nil {
			die("ProveTree: %v", err)
		}
		if tlog.CheckTree(tp, t, th, m, mh) != nil {
			die("CheckTree failed")
		}
		fmt.Printf("treeproof %d %d %s %s\n", t, m, hex.EncodeToString(mh[:]), proofHex(tp))
	}
}

// zipFile is one entry of a test zip.
type zipFile struct {
	name    string
	data    []byte
	deflate bool
}

func writeZip(path string, files []zipFile) {
	var buf bytes.Buffer
	w := zip.NewWriter(&buf)
	for _, f := range files {
		h := &zip.FileHeader{Name: f.name, Method: zip.Store}
		if f.deflate {
			h.Method = zip.Deflate
		}
		fw, err := w.CreateHeader(h)
		if err != nil {
			die("zip: %v", err)
		}
		fw.Write(f.data)
	}
	if err := w.Close(); err != nil {
		die("zip: %v", err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0644); err != nil {
		die("%v", err)
	}
	h1, err := dirhash.HashZip(path, dirhash.Hash1)
	if err != nil {
		die("HashZip %s: %v", path, err)
	}
	fmt.Printf("zip %s %s\n", filepath.Base(path), h1)
}

func writeMod(path string, data []byte) {
	if err := os.WriteFile(path, data, 0644); err != nil {
		die("%v", err)
	}
	h1, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	})
	if err != nil {
		die("Hash1: %v", err)
	}
	fmt.Printf("mod %s %s\n", filepath.Base(path), h1)
}

func zips(dir string) {
	r := rand.New(rand.NewSource(1))
	big := make([]byte, 3<<20)
	r.Read(big)
	text := bytes.Repeat([]byte("package big // compressible\n"), 40000)
	gomod := []byte("module example.com/m\n\ngo 1.22\n")

	writeMod(filepath.Join(dir, "spec.mod"), gomod)
	writeMod(filepath.Join(dir, "empty.mod"), nil)
	writeMod(filepath.Join(dir, "legacy.mod"), []byte("module \"example.com/q\"\n"))

	p := "example.com/m@v1.0.0/"
	writeZip(filepath.Join(dir, "spec.zip"), []zipFile{
		{p + "LICENSE", []byte("x\n"), false},
		{p + "go.mod", gomod, true},
		{p + "m.go", []byte("package m\n"), true},
	})
	p = "example.com/nested@v1.2.3/"
	writeZip(filepath.Join(dir, "nested.zip"), []zipFile{
		{p + "go.mod", []byte("module example.com/nested\n"), true},
		{p + "a/b/c/d/e/f/deep.go", []byte("package f\n"), true},
		{p + "a/b/x.go", []byte("package b\n"), false},
		{p + "a/B/y.go", []byte("package B\n"), true},
		{p + "z.go", []byte("package nested\n"), true},
		{p + "a/b/c/empty.txt", nil, false},
	})
	p = "example.com/Upper/Case@v2.0.0+incompatible/"
	writeZip(filepath.Join(dir, "unicode.zip"), []zipFile{
		{p + "go.mod", []byte("module example.com/Upper/Case\n"), true},
		{p + "ünïcödé/файл.go", []byte("package файл\n"), true},
		{p + "日本語.txt", []byte("こんにちは\n"), false},
		{p + "emoji-😀.md", []byte("😀\n"), true},
		{p + "Zeta.go", nil, true},
		{p + "alpha.go", nil, true},
	})
	writeZip(filepath.Join(dir, "gomodonly.zip"), []zipFile{
		{"example.com/only@v0.1.0/go.mod", []byte("module example.com/only\n\ngo 1.19\n"), true},
	})
	p = "example.com/empty@v0.0.0-20240101000000-abcdefabcdef/"
	writeZip(filepath.Join(dir, "emptyfiles.zip"), []zipFile{
		{p + "go.mod", nil, false},
		{p + "a.go", nil, true},
		{p + "b.go", nil, false},
	})
	p = "example.com/big@v1.0.0/"
	writeZip(filepath.Join(dir, "big.zip"), []zipFile{
		{p + "go.mod", []byte("module example.com/big\n"), true},
		{p + "random.bin", big, true},
		{p + "text.go", text, true},
		{p + "stored.bin", big[:100000], false},
	})
	var many []zipFile
	p = "example.com/many@v1.0.0/"
	for i := 0; i < 1000; i++ {
		many = append(many, zipFile{fmt.Sprintf("%sf%d/%d.go", p, i%13, i), []byte(fmt.Sprintf("package f%d\n", i)), i%2 == 0})
	}
	writeZip(filepath.Join(dir, "many.zip"), many)
	writeZip(filepath.Join(dir, "dirs.zip"), []zipFile{
		{"example.com/d@v1.0.0/", nil, false},
		{"example.com/d@v1.0.0/sub/", nil, false},
		{"example.com/d@v1.0.0/sub/x.go", []byte("package sub\n"), true},
	})
	writeZip(filepath.Join(dir, "nofiles.zip"), nil)
}

func readFile(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		die("%v", err)
	}
	return b
}

func openNote(vkey, file string) {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		die("NewVerifier: %v", err)
	}
	n, err := note.Open(readFile(file), note.VerifierList(v))
	if err != nil {
		fmt.Fprintf(os.Stderr, "xmodref: note.Open: %v\n", err)
		os.Exit(1)
	}
	fmt.Print(n.Text)
}

func signNote(skey, file string) {
	s, err := note.NewSigner(strings.TrimSpace(string(readFile(skey))))
	if err != nil {
		die("NewSigner: %v", err)
	}
	msg, err := note.Sign(&note.Note{Text: string(readFile(file))}, s)
	if err != nil {
		die("Sign: %v", err)
	}
	os.Stdout.Write(msg)
}

func keycheck(skeyFile, vkey string) {
	skey := strings.TrimSpace(string(readFile(skeyFile)))
	s, err := note.NewSigner(skey)
	if err != nil {
		die("NewSigner: %v", err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		die("NewVerifier: %v", err)
	}
	if s.Name() != v.Name() || s.KeyHash() != v.KeyHash() {
		die("signer %s+%08x and verifier %s+%08x differ", s.Name(), s.KeyHash(), v.Name(), v.KeyHash())
	}
	msg, err := note.Sign(&note.Note{Text: "keycheck\n"}, s)
	if err != nil {
		die("Sign: %v", err)
	}
	if _, err := note.Open(msg, note.VerifierList(v)); err != nil {
		die("Open: %v", err)
	}
	fmt.Println("ok")
}

// seededReader makes note.GenerateKey deterministic for vectors.
type seededReader struct{ r *rand.Rand }

func (s seededReader) Read(p []byte) (int, error) { return s.r.Read(p) }

func kat() {
	w := os.Stdout
	fmt.Fprintln(w, "# generated by: make build/xmodref && build/xmodref kat > tests/testdata/kat.txt")
	fmt.Fprintln(w, "# golang.org/x/mod 0.7.0 (Debian), Go 1.19; fields are hex, or - when empty")

	// Hashes.
	for _, d := range []string{"", "a\n", "b\n", "golang.org/x/text v0.3.0 h1:x\n", strings.Repeat("z", 300)} {
		h := tlog.RecordHash([]byte(d))
		fmt.Fprintf(w, "recordhash %s %s\n", hx([]byte(d)), hx(h[:]))
	}
	a, b := tlog.RecordHash([]byte("a\n")), tlog.RecordHash([]byte("b\n"))
	nh := tlog.NodeHash(a, b)
	fmt.Fprintf(w, "nodehash %s %s %s\n", hx(a[:]), hx(b[:]), hx(nh[:]))
	for level := 0; level < 6; level++ {
		for n := int64(0); n < 40; n++ {
			fmt.Fprintf(w, "shi %d %d %d\n", level, n, tlog.StoredHashIndex(level, n))
		}
	}
	for _, n := range []int64{1000, 123456, 65209736, 1 << 40} {
		fmt.Fprintf(w, "shi 0 %d %d\n", n, tlog.StoredHashIndex(0, n))
		fmt.Fprintf(w, "shi 3 %d %d\n", n, tlog.StoredHashIndex(3, n))
	}
	for _, n := range []int64{0, 1, 2, 3, 4, 5, 7, 8, 255, 256, 257, 1000, 65209736} {
		fmt.Fprintf(w, "shc %d %d\n", n, tlog.StoredHashCount(n))
	}

	// Small trees: every tree hash, record proof and tree proof.
	var l memLog
	for i := int64(0); i < 70; i++ {
		l.add(i, recordText(i))
	}
	for t := int64(1); t <= 70; t++ {
		th, _ := tlog.TreeHash(t, &l)
		fmt.Fprintf(w, "tree %d %s\n", t, hx(th[:]))
		for n := int64(0); n < t; n++ {
			p, err := tlog.ProveRecord(t, n, &l)
			if err != nil {
				die("ProveRecord: %v", err)
			}
			fmt.Fprintf(w, "recproof %d %d %s\n", t, n, proofHex(p))
		}
		for m := int64(1); m <= t; m++ {
			mh, _ := tlog.TreeHash(m, &l)
			p, err := tlog.ProveTree(t, m, &l)
			if err != nil {
				die("ProveTree: %v", err)
			}
			fmt.Fprintf(w, "treeproof %d %d %s %s\n", t, m, hx(mh[:]), proofHex(p))
		}
	}

	// Tiles.
	for _, t := range []tlog.Tile{{8, 0, 0, 256}, {8, 0, 0, 5}, {8, 0, 1234067, 256}, {8, 1, 999, 17},
		{8, -1, 1000, 3}, {8, 2, 3, 227}, {8, 0, 254725, 136}, {4, 3, 1000000, 16}, {1, 63, 7, 1},
		{30, 5, 123456789012, 1 << 29}, {8, -1, 0, 256}} {
		fmt.Fprintf(w, "tilepath %d %d %d %d %s\n", t.H, t.L, t.N, t.W, t.Path())
	}
	for _, p := range []string{"tile/8/0/000", "tile/8/0/001", "tile/8/0/1", "tile/8/0/000.p/256",
		"tile/8/0/000.p/255", "tile/8/0/000.p/0", "tile/8/0/000.p/1", "tile/8/data/x001/000.p/3",
		"tile/8/1/999.p/17", "tile/8/0/x001/x234/067", "tile/8/0/x001/234/067", "tile/8/0/001/234",
		"tile/08/0/000", "tile/8/00/000", "tile/8/64/000", "tile/8/63/000", "tile/31/0/000",
		"tile/0/0/000", "tile/8/-1/000", "tile/8/data/000", "tile/8/0/x000/001", "tile/8/0/x1000/001",
		"tile/8/0/x999/999", "tile/8/0", "tile/8/0/", "tile/8/0/000/", "tile/8/0/000.p/", "tile/8/0/000.p",
		"tile/8/0/000.p/+5", "tile/8/0/+01", "tile/8/0/-01", "tiles/8/0/000", "/tile/8/0/000", "tile/8/0/xx01/000",
		"tile/8/0/000.p/17/x", "tile/8/0/00a", "tile/8/0/x001.p/000", "tile/8/data/000.p/00017",
		"tile/30/0/000.p/536870911", "tile/8/0/x002/x003/x004/x005/x006/007", "tile/1/0/000.p/1"} {
		t, err := tlog.ParseTilePath(p)
		if err != nil {
			fmt.Fprintf(w, "tileparse %s err\n", p)
		} else {
			fmt.Fprintf(w, "tileparse %s ok %d %d %d %d\n", p, t.H, t.L, t.N, t.W)
		}
	}
	for _, x := range []int64{0, 1, 2, 3, 100, 255, 510, 511, 512, 1000, 123456, 5000000, 130419472} {
		for _, h := range []int{8, 2} {
			t := tlog.TileForIndex(h, x)
			fmt.Fprintf(w, "tileforindex %d %d %d %d %d\n", h, x, t.L, t.N, t.W)
		}
	}

	// Module paths and versions.
	paths := []string{"github.com/BurntSushi/toml", "example.com/M", "golang.org/x/text", "gopkg.in/yaml.v2",
		"gopkg.in/yaml.v0", "gopkg.in/yaml.v1-unstable", "gopkg.in/yaml", "gopkg.in/yaml.v02",
		"example.com/m/v2", "example.com/m/v1", "example.com/m/v0", "example.com/m/v02", "example.com/m/v2.1",
		"example.com", "example", "Example.com/m", "-example.com/m", "example.com/-m", "example.com//m",
		"example.com/m/", "/example.com", "example.com/.m", "example.com/m.", "example.com/..",
		"example.com/m~1", "example.com/m~a", "example.com/con", "example.com/COM1.x", "example.com/lpt9x",
		"example.com/m!", "example.com/ü", "example.com/a b", "example.com/a+b", "example.com/_x~y",
		"ex_ample.com/m", "golang.org/toolchain", "example.com:8080/m", "a.b/c/d/e/f/v3", "",
		"github.com/!burnt!sushi/toml", "example.com/m/v1.0", "x.y/v1x", "example.com/m\x00"}
	for _, p := range paths {
		fmt.Fprintf(w, "checkpath %s %s\n", hx([]byte(p)), okerr(module.CheckPath(p)))
		e, err := module.EscapePath(p)
		if err != nil {
			fmt.Fprintf(w, "escpath %s err\n", hx([]byte(p)))
		} else {
			fmt.Fprintf(w, "escpath %s %s\n", hx([]byte(p)), hx([]byte(e)))
		}
		u, err := module.UnescapePath(p)
		if err != nil {
			fmt.Fprintf(w, "unescpath %s err\n", hx([]byte(p)))
		} else {
			fmt.Fprintf(w, "unescpath %s %s\n", hx([]byte(p)), hx([]byte(u)))
		}
	}
	versions := []string{"v1.0.0", "v1.0.0-RC1", "v1.0.0-rc1", "v1.2", "v1", "v0.0.0-20190308221718-c2843e01d9a2",
		"v2.0.0+incompatible", "v1.0.0+build", "v1.0.0+build.1", "v01.0.0", "v1.00.0", "v1.0.0-01", "v1.0.0-0",
		"v1.0.0-a..b", "v1.0.0-", "v1.0.0+", "1.0.0", "v1.0.0-!x", "v1.0.0-x_y", "v1.0.0-x.y-z", "", "v",
		"v1.0.0-a/b", "v1.0.0 ", "v1.0.0-ü", "v0.0.1-go1.21.0.linux-amd64", "v1.0.0-!r!c1",
		"v18446744073709551616.0.0", "v1.0.0-alpha+incompatible", "v3.0.0+incompatible.x"}
	for _, v := range versions {
		canon := v != "" && module.CanonicalVersion(v) == v
		fmt.Fprintf(w, "semver %s %v %v\n", hx([]byte(v)), semver.IsValid(v), canon)
		e, err := module.EscapeVersion(v)
		if err != nil {
			fmt.Fprintf(w, "escver %s err\n", hx([]byte(v)))
		} else {
			fmt.Fprintf(w, "escver %s %s\n", hx([]byte(v)), hx([]byte(e)))
		}
		u, err := module.UnescapeVersion(v)
		if err != nil {
			fmt.Fprintf(w, "unescver %s err\n", hx([]byte(v)))
		} else {
			fmt.Fprintf(w, "unescver %s %s\n", hx([]byte(v)), hx([]byte(u)))
		}
	}
	for _, p := range paths {
		for _, v := range []string{"v1.0.0", "v2.0.0", "v2.0.0+incompatible", "v0.0.0-20190308221718-c2843e01d9a2",
			"v1.0.0-20190308221718-c2843e01d9a2", "v3.1.4", "v0.1.0", "v1.2"} {
			err := module.Check(p, v)
			if err == nil && module.CanonicalVersion(v) != v {
				err = fmt.Errorf("not canonical")
			}
			fmt.Fprintf(w, "check %s %s %s\n", hx([]byte(p)), hx([]byte(v)), okerr(err))
		}
	}

	// Keys and notes.
	for _, name := range []string{"sum.golang.org", "gosum.io", "PeterNeumann", "example.com/foo", "sumdb.corp.example"} {
		skey, vkey, err := note.GenerateKey(seededReader{rand.New(rand.NewSource(int64(len(name))))}, name)
		if err != nil {
			die("GenerateKey: %v", err)
		}
		fmt.Fprintf(w, "keypair %s %s\n", skey, vkey)
		s, _ := note.NewSigner(skey)
		for _, text := range []string{"hello\n", "go.sum database tree\n5\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n", "a\n\nb\n"} {
			msg, err := note.Sign(&note.Note{Text: text}, s)
			if err != nil {
				die("Sign: %v", err)
			}
			fmt.Fprintf(w, "signed %s %s %s\n", skey, hx([]byte(text)), hx(msg))
		}
	}
	vkeys := []string{
		"sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8",
		"sum.golang.org+033DE0AE+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8",
		"sum.golang.org+033de0af+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8",
		"sum.golang.org+33de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8",
		"sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn",
		"sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuA==",
		"sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8=",
		"sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8A",
		"sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8AAAA",
		"sum.golang.org+033de0ae+",
		"sum.golang.org+033de0ae",
		"sum.golang.org",
		"+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8",
		"sum golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8",
		"sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8\n",
		"sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh!s3Ux18htTTAD8OuAn8",
		"sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn9",
		"gosum.io+ce6e7565+AY5qEHUk/qmHc5btzW45JVoENfazw8LielDsaI+lEbq6",
		"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
		"example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
		"example.com/foo+530d903a+AukyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k",
	}
	for _, k := range vkeys {
		v, err := note.NewVerifier(k)
		if err != nil {
			fmt.Fprintf(w, "vkey %s err\n", hx([]byte(k)))
		} else {
			fmt.Fprintf(w, "vkey %s ok %s %08x\n", hx([]byte(k)), hx([]byte(v.Name())), v.KeyHash())
		}
	}
	skeys := []string{
		"PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
		"PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
		"PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDF",
		"PRIVATE+KEY+PeterNeumann+c74f20a3+AoEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
		"PRIVATE+KEY+PeterNeumann+c74f20a3+",
		"PRIVATE+KEY+PeterNeumann+c74f20a3",
		"PRIVATE+KEZ+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
		"PRIVATE+KEY++c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz",
		"PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
	}
	for _, k := range skeys {
		s, err := note.NewSigner(k)
		if err != nil {
			fmt.Fprintf(w, "skey %s err\n", hx([]byte(k)))
		} else {
			fmt.Fprintf(w, "skey %s ok %s %08x\n", hx([]byte(k)), hx([]byte(s.Name())), s.KeyHash())
		}
	}
	for _, name := range []string{"sum.golang.org", "gosum.io", "a", "a b", "a+b", "a\u00a0b", "a\u2028b", "ü", "", "a\tb", "a\u200bb", "a\u3000b"} {
		fmt.Fprintf(w, "keyname %s %v\n", hx([]byte(name)), validName(name))
	}
	noteVectors(w)
	cosigVectors(w)

	// Tree notes and lookup responses.
	for _, t := range []string{
		"go.sum database tree\n9039468\n48iILVUO1A82mets7dcWQbXYIYMsKygQyX48HgDluDs=\n",
		"go.sum database tree\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n",
		"go.sum database tree\n9039468\n48iILVUO1A82mets7dcWQbXYIYMsKygQyX48HgDluDs=\nextra line\n",
		"go.sum database tree\n09039468\n48iILVUO1A82mets7dcWQbXYIYMsKygQyX48HgDluDs=\n",
		"go.sum database tree\n+9039468\n48iILVUO1A82mets7dcWQbXYIYMsKygQyX48HgDluDs=\n",
		"go.sum database tree\n-1\n48iILVUO1A82mets7dcWQbXYIYMsKygQyX48HgDluDs=\n",
		"go.sum database tree\n9039468\n48iILVUO1A82mets7dcWQbXYIYMsKygQyX48HgDluD=\n",
		"go.sum database tree\n9039468\n48iILVUO1A82mets7dcWQbXYIYMsKygQyX48HgDluDs=",
		"go.sum database tree\n9039468\n",
		"go.sum database tree v2\n9039468\n48iILVUO1A82mets7dcWQbXYIYMsKygQyX48HgDluDs=\n",
		"go.sum database tree\n9223372036854775807\n48iILVUO1A82mets7dcWQbXYIYMsKygQyX48HgDluDs=\n",
		"go.sum database tree\n9223372036854775808\n48iILVUO1A82mets7dcWQbXYIYMsKygQyX48HgDluDs=\n",
		"go.sum database tree\n\n48iILVUO1A82mets7dcWQbXYIYMsKygQyX48HgDluDs=\n",
		"",
	} {
		tr, err := tlog.ParseTree([]byte(t))
		if err != nil {
			fmt.Fprintf(w, "parsetree %s err\n", hx([]byte(t)))
		} else {
			fmt.Fprintf(w, "parsetree %s ok %d %s\n", hx([]byte(t)), tr.N, hx(tr.Hash[:]))
		}
	}
	for _, m := range []string{
		"0\ngolang.org/x/text v0.3.0 h1:x\n\nnote\n",
		"52253027\na\nb\n\nrest\n\nmore\n",
		"1\na\n\n",
		"1\n\n\n",
		"1\na\n",
		"x\na\n\nn\n",
		"1a\n\n",
		"",
		"9223372036854775808\na\n\nn\n",
		"1\na\x01\n\nn\n",
		"1\na\xff\n\nn\n",
	} {
		id, text, rest, err := tlog.ParseRecord([]byte(m))
		if err != nil {
			fmt.Fprintf(w, "parserecord %s err\n", hx([]byte(m)))
		} else {
			fmt.Fprintf(w, "parserecord %s ok %d %s %s\n", hx([]byte(m)), id, hx(text), hx(rest))
		}
	}

	// h1 of files.
	for _, set := range [][]string{{"go.mod", "module example.com/m\n\ngo 1.22\n"}, {"go.mod", ""},
		{"abc", "data for abc", "xyz", "data for xyz"}, {"xyz", "data for xyz", "abc", "data for abc"},
		{"b", "1", "B", "2", "a/b", "3", "a.b", "4", "ü", "5", "z", "6"}} {
		var names []string
		files := map[string]string{}
		var parts []string
		for i := 0; i < len(set); i += 2 {
			names = append(names, set[i])
			files[set[i]] = set[i+1]
			parts = append(parts, hx([]byte(set[i]))+":"+hx([]byte(set[i+1])))
		}
		h1, err := dirhash.Hash1(names, func(n string) (io.ReadCloser, error) {
			return io.NopCloser(strings.NewReader(files[n])), nil
		})
		if err != nil {
			die("Hash1: %v", err)
		}
		fmt.Fprintf(w, "hash1 %s %s\n", strings.Join(parts, ","), h1)
	}
}

// validName reports whether note would accept name as a key name: we
// ask x/mod by building a verifier key for it.
func validName(name string) bool {
	pub := make([]byte, 32)
	vk, err := note.NewEd25519VerifierKey(name, pub)
	if err != nil {
		return false
	}
	_, err = note.NewVerifier(vk)
	return err == nil
}

// noteVectors prints note.Open results for good and damaged notes.
func noteVectors(w io.Writer) {
	const (
		peterV = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
		peterS = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
		fooV   = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k"
		sumV   = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
	)
	peter := "If you think cryptography is the answer to your problem,\n" +
		"then you don't know what your problem is.\n" +
		"\n" +
		"— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
	foo := "This is an example message.\n\n" +
		"— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n"
	sth := "go.sum database tree\n35225469\nvt5T6GaLCXvyHFl9VUvvItR43XZxfLgftEcTyO3eJCQ=\n\n" +
		"— sum.golang.org Az3grpukl5AXaVfYkLiDGORx/DN2nlcS5kZHR5uYOBV2KA2HgXpD+gu9HHONebHLAyaKbbTM75QTtPydhKCExixSfwQ=\n"
	other := "— other.example AAAAAQ==\n"
	s, _ := note.NewSigner(peterS)
	twice, _ := note.Sign(&note.Note{Text: "two\n"}, s, s)
	many := "many\n\n" + strings.Repeat("— x.example AAAAAAAAAAAA\n", 99) + strings.Split(peter, "\n\n")[1]
	var tooMany strings.Builder
	tooMany.WriteString("many\n\n")
	for i := 0; i < 100; i++ {
		fmt.Fprintf(&tooMany, "— x%d.example AAAAAAAAAAAA\n", i)
	}
	tooMany.WriteString(strings.Split(peter, "\n\n")[1])
	cases := []string{
		peter, foo, sth,
		strings.Replace(peter, "answer", "Answer", 1),
		strings.Replace(peter, "x08go", "x08gp", 1),
		strings.Replace(peter, "x08go", "x08gO", 1),
		strings.TrimSuffix(peter, "\n"),
		peter + "\n",
		strings.Replace(peter, "\n\n", "\n", 1),
		strings.Replace(peter, "— ", "-- ", 1),
		strings.Replace(peter, "— ", "—", 1),
		strings.Replace(peter, "PeterNeumann ", "PeterNeumann  ", 1),
		strings.Replace(peter, "PeterNeumann x", "PeterNeumann\tx", 1),
		strings.Replace(peter, "AM=\n", "AM\n", 1),
		strings.Replace(peter, "AM=\n", "AM==\n", 1),
		strings.Replace(peter, "AM=\n", "=\n", 1),
		strings.Replace(peter, "is the", "is\x00the", 1),
		strings.Replace(peter, "is the", "is\rthe", 1),
		strings.Replace(peter, "is the", "is\x7fthe", 1),
		strings.Replace(peter, "is the", "is\xc3the", 1),
		strings.Replace(peter, "is the", "is ü the", 1),
		peter + other,
		strings.Replace(peter, "\n—", "\n"+other+"—", 1),
		peter + strings.Split(peter, "\n\n")[1],
		string(twice),
		"no sig\n\n",
		"\n\n" + strings.Split(peter, "\n\n")[1],
		"text\n\n" + other,
		"text\n\n— PeterNeumann AAAA\n",
		"text\n\n— PeterNeumann xw==\n",
		"text\n\n— Peter+Neumann x08go/ZJ\n",
		"text\n\n— \n",
		"a\n\nb\n\n" + strings.Split(peter, "\n\n")[1],
		many,
		tooMany.String(),
		"",
	}
	for _, c := range cases {
		for _, keys := range [][]string{{peterV}, {peterV, fooV, sumV}} {
			var vs []note.Verifier
			for _, k := range keys {
				v, _ := note.NewVerifier(k)
				vs = append(vs, v)
			}
			n, err := note.Open([]byte(c), note.VerifierList(vs...))
			if err != nil {
				fmt.Fprintf(w, "noteopen %s %s err\n", strings.Join(keys, ","), hx([]byte(c)))
			} else {
				fmt.Fprintf(w, "noteopen %s %s ok %s %d %d\n", strings.Join(keys, ","), hx([]byte(c)), hx([]byte(n.Text)), len(n.Sigs), len(n.UnverifiedSigs))
			}
		}
	}
}

// modtree writes DIR/<escaped path>/@v/{list,V.info,V.mod,V.zip} for
// each module@version, with package pkg in it, and prints
// "path version ziph1 modh1".  A +incompatible version has no go.mod
// in its zip; its .mod is the synthesized "module PATH\n".
func modtree(dir string, mods []string) {
	for _, mv := range mods {
		i := strings.LastIndex(mv, "@")
		if i < 0 {
			die("modtree: %q: want PATH@VERSION", mv)
		}
		path, vers := mv[:i], mv[i+1:]
		if err := module.Check(path, vers); err != nil {
			die("modtree: %v", err)
		}
		ep, _ := module.EscapePath(path)
		ev, _ := module.EscapeVersion(vers)
		vdir := filepath.Join(dir, ep, "@v")
		if err := os.MkdirAll(vdir, 0755); err != nil {
			die("%v", err)
		}
		gomod := []byte(fmt.Sprintf("module %s\n\ngo 1.19\n", path))
		if strings.HasSuffix(vers, "+incompatible") {
			gomod = []byte(fmt.Sprintf("module %s\n", path))
		}
		src := fmt.Sprintf("package pkg\n\n// V is the version.\nfunc V() string { return %q }\n", mv)
		prefix := path + "@" + vers + "/"
		var buf bytes.Buffer
		w := zip.NewWriter(&buf)
		files := map[string][]byte{"pkg.go": []byte(src), "LICENSE": []byte("test module\n")}
		if !strings.HasSuffix(vers, "+incompatible") {
			files["go.mod"] = gomod
		}
		for _, name := range []string{"LICENSE", "go.mod", "pkg.go"} {
			data, ok := files[name]
			if !ok {
				continue
			}
			fw, _ := w.Create(prefix + name)
			fw.Write(data)
		}
		w.Close()
		zipPath := filepath.Join(vdir, ev+".zip")
		must(os.WriteFile(zipPath, buf.Bytes(), 0644))
		must(os.WriteFile(filepath.Join(vdir, ev+".mod"), gomod, 0644))
		must(os.WriteFile(filepath.Join(vdir, ev+".info"),
			[]byte(fmt.Sprintf("{\"Version\":%q,\"Time\":\"2024-01-01T00:00:00Z\"}\n", vers)), 0644))
		lf, err := os.OpenFile(filepath.Join(vdir, "list"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0644)
		must(err)
		fmt.Fprintln(lf, vers)
		lf.Close()
		zh, err := dirhash.HashZip(zipPath, dirhash.Hash1)
		must(err)
		mh, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(gomod)), nil
		})
		must(err)
		fmt.Printf("%s %s %s %s\n", path, vers, zh, mh)
	}
}

// A file of a module zip: on disk, or in memory (the rewritten go.mod).
type realFile struct {
	rel, disk string
	data      []byte
	info      os.FileInfo
}

type memInfo struct {
	name string
	size int64
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) Mode() os.FileMode  { return 0644 }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return false }
func (i memInfo) Sys() interface{}   { return nil }

func (f realFile) Path() string                { return f.rel }
func (f realFile) Lstat() (os.FileInfo, error) { return f.info, nil }
func (f realFile) Open() (io.ReadCloser, error) {
	if f.disk == "" {
		return io.NopCloser(bytes.NewReader(f.data)), nil
	}
	return os.Open(f.disk)
}

// realmod zips the source tree src as module mv into the GOPROXY tree
// dir.  The files are those zip.CreateFromDir would take (x/mod's own
// CheckDir lists them: no nested modules, vendored packages, VCS
// directories or symbolic links), except that the root go.mod, added
// if missing, is "module PATH" with the source's go directive, so the
// tree serves under a test path and requires nothing.
func realmod(dir, mv, src string) {
	i := strings.LastIndex(mv, "@")
	if i < 0 {
		die("realmod: %q: want PATH@VERSION", mv)
	}
	m := module.Version{Path: mv[:i], Version: mv[i+1:]}
	if err := module.Check(m.Path, m.Version); err != nil {
		die("realmod: %v", err)
	}
	cf, err := modzip.CheckDir(src)
	if err != nil {
		die("realmod: %s: %v", src, err)
	}
	goVers := "1.17"
	if old, err := os.ReadFile(filepath.Join(src, "go.mod")); err == nil {
		for _, line := range strings.Split(string(old), "\n") {
			if f := strings.Fields(line); len(f) == 2 && f[0] == "go" {
				goVers = f[1]
			}
		}
	}
	gomod := []byte(fmt.Sprintf("module %s\n\ngo %s\n", m.Path, goVers))
	files := []modzip.File{realFile{rel: "go.mod", data: gomod,
		info: memInfo{"go.mod", int64(len(gomod))}}}
	for _, p := range cf.Valid {
		rel, err := filepath.Rel(src, p)
		must(err)
		rel = filepath.ToSlash(rel)
		if rel == "go.mod" {
			continue
		}
		info, err := os.Lstat(p)
		must(err)
		files = append(files, realFile{rel: rel, disk: p, info: info})
	}
	ep, _ := module.EscapePath(m.Path)
	ev, _ := module.EscapeVersion(m.Version)
	vdir := filepath.Join(dir, ep, "@v")
	must(os.MkdirAll(vdir, 0755))
	zipPath := filepath.Join(vdir, ev+".zip")
	zf, err := os.Create(zipPath)
	must(err)
	if err := modzip.Create(zf, m, files); err != nil {
		die("realmod: %v", err)
	}
	must(zf.Close())
	if _, err := modzip.CheckZip(m, zipPath); err != nil {
		die("realmod: %v", err)
	}
	must(os.WriteFile(filepath.Join(vdir, ev+".mod"), gomod, 0644))
	must(os.WriteFile(filepath.Join(vdir, ev+".info"),
		[]byte(fmt.Sprintf("{\"Version\":%q,\"Time\":\"2024-01-01T00:00:00Z\"}\n", m.Version)), 0644))
	lf, err := os.OpenFile(filepath.Join(vdir, "list"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0644)
	must(err)
	fmt.Fprintln(lf, m.Version)
	must(lf.Close())
	zh, err := dirhash.HashZip(zipPath, dirhash.Hash1)
	must(err)
	mh, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(gomod)), nil
	})
	must(err)
	fmt.Printf("%s %s %s %s %d\n", m.Path, m.Version, zh, mh, len(files))
}

func must(err error) {
	if err != nil {
		die("%v", err)
	}
}

// httpTiles reads tiles from a sumdb server for tlog.TileHashReader.
type httpTiles struct{ base string }

func (t httpTiles) Height() int { return 8 }

func (t httpTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	var out [][]byte
	for _, tile := range tiles {
		b, err := get(t.base + "/" + tile.Path())
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

func (t httpTiles) SaveTiles([]tlog.Tile, [][]byte) {}

func get(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	return b, nil
}

func openTree(v note.Verifier, msg []byte) (tlog.Tree, error) {
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return tlog.Tree{}, err
	}
	return tlog.ParseTree([]byte(n.Text))
}

func consistent(vkey, base string, notes []string) {
	v, err := note.NewVerifier(vkey)
	must(err)
	msg, err := get(base + "/latest")
	must(err)
	latest, err := openTree(v, msg)
	if err != nil {
		die("%s/latest: %v", base, err)
	}
	thr := tlog.TileHashReader(latest, httpTiles{base})
	for _, file := range notes {
		old, err := openTree(v, readFile(file))
		if err != nil {
			die("%s: %v", file, err)
		}
		if old.N > latest.N {
			die("%s: tree %d is ahead of the server's %d: rolled back", file, old.N, latest.N)
		}
		if old.N == 0 {
			continue
		}
		p, err := tlog.ProveTree(latest.N, old.N, thr)
		if err != nil {
			die("%s: proving %d in %d: %v", file, old.N, latest.N, err)
		}
		if err := tlog.CheckTree(p, latest.N, latest.Hash, old.N, old.Hash); err != nil {
			die("%s: tree %d is not contained in %d: %v", file, old.N, latest.N, err)
		}
	}
	fmt.Printf("ok %d notes consistent with tree %d\n", len(notes), latest.N)
}

// clientOps is sumdb.ClientOps over HTTP with state in memory.
type clientOps struct {
	base, vkey string
	latest     []byte
	security   string
}

func (c *clientOps) ReadRemote(path string) ([]byte, error) { return get(c.base + path) }

func (c *clientOps) ReadConfig(file string) ([]byte, error) {
	if file == "key" {
		return []byte(c.vkey), nil
	}
	if strings.HasSuffix(file, "/latest") {
		return c.latest, nil
	}
	return nil, fmt.Errorf("unknown config %s", file)
}

func (c *clientOps) WriteConfig(file string, old, new []byte) error {
	if !bytes.Equal(old, c.latest) {
		return sumdb.ErrWriteConflict
	}
	c.latest = new
	return nil
}

func (c *clientOps) ReadCache(file string) ([]byte, error) { return nil, fmt.Errorf("no cache") }
func (c *clientOps) WriteCache(file string, data []byte)    {}
func (c *clientOps) Log(msg string)                         {}
func (c *clientOps) SecurityError(msg string)               { c.security = msg }

func client(vkey, base string, mods []string) {
	ops := &clientOps{base: strings.TrimSuffix(base, "/"), vkey: vkey}
	c := sumdb.NewClient(ops)
	for _, mv := range mods {
		i := strings.LastIndex(mv, "@")
		for _, v := range []string{mv[i+1:], mv[i+1:] + "/go.mod"} {
			lines, err := c.Lookup(mv[:i], v)
			if ops.security != "" {
				die("%s: SECURITY ERROR: %s", mv, ops.security)
			}
			if err != nil {
				die("%s: %v", mv, err)
			}
			if len(lines) != 1 {
				die("%s %s: %d lines", mv[:i], v, len(lines))
			}
			fmt.Println(lines[0])
		}
	}
}

func lagclient(vkey string, args []string) {
	if len(args) != 4 {
		die("usage: xmodref lagclient VKEY URL1 M1@V1 URL2 M2@V2")
	}
	ops := &clientOps{base: strings.TrimSuffix(args[0], "/"), vkey: vkey}
	for k := 0; k < 4; k += 2 {
		// A new client keeps the checkpoint but not the tiles, like
		// the go command after go clean -modcache.
		c := sumdb.NewClient(ops)
		ops.base = strings.TrimSuffix(args[k], "/")
		mv := args[k+1]
		i := strings.LastIndex(mv, "@")
		lines, err := c.Lookup(mv[:i], mv[i+1:])
		if ops.security != "" {
			die("%s: SECURITY ERROR: %s", mv, ops.security)
		}
		if err != nil {
			die("%s at %s: %v", mv, ops.base, err)
		}
		fmt.Println(lines[0])
	}
}

// checkevidence reads a "sumdbd evidence export" file and says whether
// it proves that the database signed two trees that cannot both be in
// one append-only log, using only the database's public key.
func checkevidence(file string) {
	data := readFile(file)
	fields := map[string]string{}
	blobs := map[string][]byte{}
	line := func() string {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			die("%s: truncated", file)
		}
		l := string(data[:i])
		data = data[i+1:]
		return l
	}
	if line() != "sumdbd evidence 1" {
		die("%s: not a sumdbd evidence file", file)
	}
	for _, name := range []string{"kind", "db", "key", "source", "time", "detail"} {
		l := line()
		if !strings.HasPrefix(l, name+" ") {
			die("%s: want %q, have %q", file, name, l)
		}
		fields[name] = l[len(name)+1:]
	}
	for _, name := range []string{"old", "new", "material"} {
		l := line()
		n, err := strconv.Atoi(strings.TrimPrefix(l, name+" "))
		if !strings.HasPrefix(l, name+" ") || err != nil || n < 0 || n > len(data) {
			die("%s: bad %s length %q", file, name, l)
		}
		blobs[name], data = data[:n], data[n:]
	}
	if len(data) != 0 {
		die("%s: %d bytes of trailing data", file, len(data))
	}
	if fields["kind"] != "fork" && fields["kind"] != "split" {
		die("%s: kind %q is not a fork or a split view", file, fields["kind"])
	}
	v, err := note.NewVerifier(fields["key"])
	if err != nil {
		die("%s: key: %v", file, err)
	}
	a, err := openTree(v, blobs["old"])
	if err != nil {
		die("%s: our note: %v", file, err)
	}
	b, err := openTree(v, blobs["new"])
	if err != nil {
		die("%s: their note: %v", file, err)
	}
	if a.N == b.N {
		if a.Hash == b.Hash {
			die("%s: the same tree twice: no fork", file)
		}
		fmt.Printf("proven: %s signed two roots for tree %d\n", fields["db"], a.N)
		return
	}
	big, small := a, b
	if b.N > a.N {
		big, small = b, a
	}
	m := blobs["material"]
	if len(m) < tlog.HashSize || len(m)%tlog.HashSize != 0 {
		die("%s: material of %d bytes", file, len(m))
	}
	var x tlog.Hash
	copy(x[:], m)
	var proof tlog.TreeProof
	for m = m[tlog.HashSize:]; len(m) > 0; m = m[tlog.HashSize:] {
		var h tlog.Hash
		copy(h[:], m)
		proof = append(proof, h)
	}
	if err := tlog.CheckTree(proof, big.N, big.Hash, small.N, x); err != nil {
		die("%s: the material does not prove tree %d's prefix: %v", file, big.N, err)
	}
	if x == small.Hash {
		die("%s: tree %d contains tree %d: no fork", file, big.N, small.N)
	}
	fmt.Printf("proven: %s signed tree %d, whose first %d records hash to %v, and tree %d with root %v\n",
		fields["db"], big.N, small.N, x, small.N, small.Hash)
}

func hashzip(zipPath string, gomod []string) {
	zh, err := dirhash.HashZip(zipPath, dirhash.Hash1)
	must(err)
	out := zh
	if len(gomod) == 1 {
		b, err := os.ReadFile(gomod[0])
		must(err)
		mh, err := dirhash.Hash1([]string{"go.mod"}, func(string) (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(b)), nil
		})
		must(err)
		out += " " + mh
	}
	fmt.Println(out)
}

// provPart is one log's part of a "sumdbd provenance" export.
type provPart struct {
	name, key string
	id        int64
	text      []byte
	proof     tlog.RecordProof
	tree      tlog.Tree
}

// provReader reads an export: lines, and blobs of a given length.
type provReader struct {
	file string
	data []byte
}

func (r *provReader) line() string {
	i := bytes.IndexByte(r.data, '\n')
	if i < 0 {
		die("%s: truncated", r.file)
	}
	l := string(r.data[:i])
	r.data = r.data[i+1:]
	return l
}

// fields reads a line "WORD F1 F2 ..." with n fields after WORD.
func (r *provReader) fields(word string, n int) []string {
	l := r.line()
	f := strings.Split(l, " ")
	if len(f) != n+1 || f[0] != word {
		die("%s: want %q with %d fields, have %q", r.file, word, n, l)
	}
	return f[1:]
}

func (r *provReader) count(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		die("%s: bad count %q", r.file, s)
	}
	return n
}

func (r *provReader) blob(n int) []byte {
	if n > len(r.data) {
		die("%s: truncated", r.file)
	}
	b := r.data[:n]
	r.data = r.data[n:]
	return b
}

// part reads one part and checks it with key alone: the checkpoint
// verifies, and the record is in its tree.
func (r *provReader) part(word, key string) provPart {
	var p provPart
	f := r.fields(word, 2)
	p.name, p.key = f[0], f[1]
	if p.key != key {
		die("%s: %s %s: the export names key %s, not the one given", r.file, word, p.name, p.key)
	}
	f = r.fields("record", 2)
	id, err := strconv.ParseInt(f[0], 10, 64)
	if err != nil || id < 0 {
		die("%s: bad record id %q", r.file, f[0])
	}
	p.id = id
	p.text = r.blob(r.count(f[1]))
	n := r.count(r.fields("proof", 1)[0])
	for i := 0; i < n; i++ {
		h, err := tlog.ParseHash(r.line())
		if err != nil {
			die("%s: %s proof hash %d: %v", r.file, word, i, err)
		}
		p.proof = append(p.proof, h)
	}
	msg := r.blob(r.count(r.fields("checkpoint", 1)[0]))
	v, err := note.NewVerifier(key)
	if err != nil {
		die("key %s: %v", key, err)
	}
	if v.Name() != p.name {
		die("%s: %s %s: the key is %s's", r.file, word, p.name, v.Name())
	}
	if p.tree, err = openTree(v, msg); err != nil {
		die("%s: %s checkpoint: %v", r.file, p.name, err)
	}
	if p.id >= p.tree.N {
		die("%s: %s record %d is not in tree %d", r.file, p.name, p.id, p.tree.N)
	}
	if err := tlog.CheckRecord(p.proof, p.tree.N, p.tree.Hash, p.id, tlog.RecordHash(p.text)); err != nil {
		die("%s: %s record %d in tree %d: %v", r.file, p.name, p.id, p.tree.N, err)
	}
	return p
}

// provenance checks a "sumdbd provenance" export with the private
// log's key and the upstream's: each record is proven in a tree its
// database signed, and the two texts are the same record of the module.
func provenance(file, logKey, upKey string) {
	r := &provReader{file: file, data: readFile(file)}
	if r.line() != "sumdbd provenance 1" {
		die("%s: not a sumdbd provenance file", file)
	}
	mod := r.fields("module", 2)
	org := r.part("log", logKey)
	up := r.part("upstream", upKey)
	if len(r.data) != 0 {
		die("%s: %d bytes of trailing data", file, len(r.data))
	}
	if !bytes.Equal(org.text, up.text) {
		die("%s: the texts differ: %s has %q, %s %q", file, org.name, org.text, up.name, up.text)
	}
	f := strings.Fields(string(org.text))
	if len(f) != 6 || f[0] != mod[0] || f[1] != mod[1] || f[3] != mod[0] || f[4] != mod[1]+"/go.mod" {
		die("%s: the record is not %s@%s's: %q", file, mod[0], mod[1], org.text)
	}
	fmt.Printf("proven: %s@%s is record %d of %s (tree %d) and record %d of %s (tree %d), byte for byte\n",
		mod[0], mod[1], org.id, org.name, org.tree.N, up.id, up.name, up.tree.N)
}
