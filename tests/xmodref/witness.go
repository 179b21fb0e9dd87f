// The witness side of xmodref: a c2sp.org/tlog-witness client and a
// cosignature/v1 verifier written from the specs with Go's standard
// library and x/mod's note and tlog, independent of sumdbd's C code.
//
//	xmodref witness conform URL WVKEY LOGSKEY
//	        every add-checkpoint answer of the witness at URL (prefix of
//	        /add-checkpoint), for a fresh log whose key is LOGSKEY (its
//	        name is the origin), cosignatures checked under WVKEY
//	xmodref witness race URL WVKEY LOGSKEY WORKERS ROUNDS
//	        WORKERS clients submit ROUNDS growing checkpoints each at
//	        once; the cosigned sizes must form one chain, never going back
//	xmodref witness push URL WVKEY LOGSKEY SECONDS
//	        submit growing checkpoints for SECONDS, retrying through
//	        failures (the witness is killed meanwhile); print the largest
//	        size acknowledged
//	xmodref witness real URL WVKEY LOGVKEY DIR
//	        the real sum.golang.org trees of a go command cache DIR, in
//	        order with proofs from its tiles, then out of order
//	xmodref witness cosigned URL LOGVKEY K WVKEY...
//	        URL/latest (a go.sum database) verifies under LOGVKEY with at
//	        least K cosignatures of the witness keys; print "size count"
//	xmodref witness check URL WVKEY LOGVKEY NAME MINSIZE
//	        GET URL/latest/NAME: log and witness signatures verify and
//	        the size is at least MINSIZE; print the size
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// cosigVerifier verifies cosignature/v1 signatures (c2sp.org/
// tlog-cosignature): Ed25519 over "cosignature/v1\ntime T\n" and the
// note text, the signature being T (8 bytes, big-endian) and the
// Ed25519 signature; the key ID is SHA-256(name "\n" 0x04 pub)[:4].
type cosigVerifier struct {
	name string
	hash uint32
	pub  ed25519.PublicKey
	last uint64 // the time of the last signature verified
}

func (v *cosigVerifier) Name() string    { return v.name }
func (v *cosigVerifier) KeyHash() uint32 { return v.hash }
func (v *cosigVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig)
	if t > math.MaxInt64 {
		return false
	}
	m := append([]byte(fmt.Sprintf("cosignature/v1\ntime %d\n", t)), msg...)
	if !ed25519.Verify(v.pub, m, sig[8:]) {
		return false
	}
	v.last = t
	return true
}

func cosigKeyID(name string, pub []byte) uint32 {
	h := sha256.Sum256(append(append([]byte(name), '\n', 0x04), pub...))
	return binary.BigEndian.Uint32(h[:4])
}

func newCosigVerifier(vkey string) *cosigVerifier {
	f := strings.SplitN(vkey, "+", 3)
	if len(f) != 3 {
		die("witness key %q: want name+hash+key", vkey)
	}
	h, err1 := strconv.ParseUint(f[1], 16, 32)
	k, err2 := base64.StdEncoding.DecodeString(f[2])
	if err1 != nil || err2 != nil || len(k) != 33 || k[0] != 0x04 {
		die("witness key %q: not a cosignature/v1 key", vkey)
	}
	if cosigKeyID(f[0], k[1:]) != uint32(h) {
		die("witness key %q: wrong key ID", vkey)
	}
	return &cosigVerifier{name: f[0], hash: uint32(h), pub: ed25519.PublicKey(k[1:])}
}

// cosign makes a cosignature/v1 line as the spec describes it.
func cosign(name string, priv ed25519.PrivateKey, t uint64, text string) string {
	m := fmt.Sprintf("cosignature/v1\ntime %d\n%s", t, text)
	sig := make([]byte, 4, 4+8+64)
	binary.BigEndian.PutUint32(sig, cosigKeyID(name, priv.Public().(ed25519.PublicKey)))
	sig = binary.BigEndian.AppendUint64(sig, t)
	sig = append(sig, ed25519.Sign(priv, []byte(m))...)
	return "— " + name + " " + base64.StdEncoding.EncodeToString(sig) + "\n"
}

// cosigVectors prints known answers for sumdb_test.c: a witness key
// from a fixed seed, its vkey, and its cosignatures of notes at times.
func cosigVectors(w io.Writer) {
	for i, name := range []string{"witness.example.com/w1", "w", "sumdbd.corp.example/witness"} {
		seed := sha256.Sum256([]byte(fmt.Sprintf("sumdbd cosignature vector %d", i)))
		priv := ed25519.NewKeyFromSeed(seed[:])
		pub := priv.Public().(ed25519.PublicKey)
		id := cosigKeyID(name, pub)
		vkey := fmt.Sprintf("%s+%08x+%s", name, id,
			base64.StdEncoding.EncodeToString(append([]byte{4}, pub...)))
		skey := fmt.Sprintf("PRIVATE+KEY+%s+%08x+%s", name, id,
			base64.StdEncoding.EncodeToString(append([]byte{4}, seed[:]...)))
		fmt.Fprintf(w, "cosigkey %s %s %08x\n", skey, vkey, id)
		for _, c := range []struct {
			t    uint64
			text string
		}{
			{0, "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"},
			{1679315147, "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"},
			{math.MaxInt64, "go.sum database tree\n35225469\nvt5T6GaLCXvyHFl9VUvvItR43XZxfLgftEcTyO3eJCQ=\n"},
			{1765100000, "o\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\nextension line\n"},
		} {
			line := cosign(name, priv, c.t, c.text)
			// It verifies with x/mod's note.Open and our verifier.
			v := newCosigVerifier(vkey)
			msg := c.text + "\n" + line
			if _, err := note.Open([]byte(msg), note.VerifierList(v)); err != nil || v.last != c.t {
				die("cosignature vector does not verify: %v", err)
			}
			fmt.Fprintf(w, "cosign %s %d %s %s\n", vkey, c.t, hx([]byte(c.text)), hx([]byte(line)))
		}
	}
}

// A test log: records as in recordText, signed checkpoints by signer.
type wlog struct {
	mem    memLog
	n      int64
	origin string
	signer note.Signer
}

func (l *wlog) grow(n int64) {
	for ; l.n < n; l.n++ {
		l.mem.add(l.n, recordText(l.n))
	}
}

func (l *wlog) root(n int64) tlog.Hash {
	h, err := tlog.TreeHash(n, &l.mem)
	must(err)
	return h
}

func checkpointText(origin string, n int64, h tlog.Hash) string {
	return fmt.Sprintf("%s\n%d\n%s\n", origin, n, base64.StdEncoding.EncodeToString(h[:]))
}

func (l *wlog) checkpoint(n int64) []byte {
	l.grow(n)
	msg, err := note.Sign(&note.Note{Text: checkpointText(l.origin, n, l.root(n))}, l.signer)
	must(err)
	return msg
}

func (l *wlog) proof(old, n int64) []tlog.Hash {
	if old == 0 || old == n {
		return nil
	}
	p, err := tlog.ProveTree(n, old, &l.mem)
	must(err)
	return p
}

func reqBody(old int64, proof []tlog.Hash, ckpt []byte) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "old %d\n", old)
	for _, h := range proof {
		fmt.Fprintf(&b, "%s\n", base64.StdEncoding.EncodeToString(h[:]))
	}
	b.WriteString("\n")
	b.Write(ckpt)
	return b.Bytes()
}

type answer struct {
	status int
	ctype  string
	body   []byte
}

var wclient = &http.Client{Timeout: 30 * time.Second}

func post(base string, body []byte) (answer, error) {
	resp, err := wclient.Post(base+"/add-checkpoint", "text/plain", bytes.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	return answer{resp.StatusCode, resp.Header.Get("Content-Type"), b}, nil
}

// checkCosigned: the answer's lines, appended to the checkpoint, hold
// a valid cosignature of the witness (and nothing it cannot parse).
func checkCosigned(ckpt []byte, a answer, logv note.Verifier, wv *cosigVerifier) uint64 {
	if a.status != 200 || !strings.HasPrefix(string(a.body), "— ") || !strings.HasSuffix(string(a.body), "\n") {
		die("want 200 and cosignature lines, got %d %q", a.status, a.body)
	}
	n, err := note.Open(append(append([]byte{}, ckpt...), a.body...), note.VerifierList(logv, wv))
	if err != nil {
		die("cosigned checkpoint does not verify: %v", err)
	}
	for _, s := range n.Sigs {
		if s.Name == wv.name && s.Hash == wv.hash {
			if d := time.Since(time.Unix(int64(wv.last), 0)); d < -time.Minute || d > time.Hour {
				die("cosignature time %d is not now", wv.last)
			}
			return wv.last
		}
	}
	die("no cosignature by %s in %q", wv.name, a.body)
	return 0
}

func expect(what string, a answer, err error, status int) {
	if err != nil {
		die("%s: %v", what, err)
	}
	if a.status != status {
		die("%s: want %d, got %d %q", what, status, a.status, a.body)
	}
	if status != 200 && (len(a.body) == 0 || bytes.Count(a.body, []byte("\n")) != 1) {
		die("%s: want a one-line body, got %q", what, a.body)
	}
	fmt.Printf("ok %s: %d %s", what, a.status, strings.SplitAfter(string(a.body), "\n")[0])
}

func newLog(skey string) (*wlog, note.Verifier) {
	s, err := note.NewSigner(skey)
	must(err)
	return &wlog{origin: s.Name(), signer: s}, verifierOf(skey)
}

// verifierOf derives the vkey of a PRIVATE+KEY+ signer key.
func verifierOf(skey string) note.Verifier {
	f := strings.SplitN(skey, "+", 5)
	k, err := base64.StdEncoding.DecodeString(f[4])
	if err != nil || len(k) != 33 {
		die("bad signer key")
	}
	pub := ed25519.NewKeyFromSeed(k[1:]).Public().(ed25519.PublicKey)
	vk, err := note.NewEd25519VerifierKey(f[2], pub)
	must(err)
	v, err := note.NewVerifier(vk)
	must(err)
	return v
}

func witnessConform(base, wvkey, skey string) {
	l, logv := newLog(skey)
	wv := newCosigVerifier(wvkey)

	// Malformed bodies: 400.
	a, err := post(base, []byte("old x\n\n"+string(l.checkpoint(3))))
	expect("malformed old line", a, err, 400)
	a, err = post(base, []byte("old 0\nnot base64!\n\n"+string(l.checkpoint(3))))
	expect("malformed proof line", a, err, 400)
	a, err = post(base, []byte("old 0\n"+string(l.checkpoint(3))))
	expect("no empty line", a, err, 400)
	a, err = post(base, []byte("old 01\n\n"+string(l.checkpoint(3))))
	expect("old with a leading zero", a, err, 400)
	// Unknown origin: 404.
	msg, err := note.Sign(&note.Note{Text: checkpointText("unknown.example/log", 3, l.root(3))}, l.signer)
	must(err)
	a, err = post(base, reqBody(0, nil, msg))
	expect("unknown origin", a, err, 404)
	// A signature by another key for the same origin: 403.
	sk2, _, err := note.GenerateKey(nil, l.origin)
	must(err)
	s2, err := note.NewSigner(sk2)
	must(err)
	msg, err = note.Sign(&note.Note{Text: checkpointText(l.origin, 3, l.root(3))}, s2)
	must(err)
	a, err = post(base, reqBody(0, nil, msg))
	expect("signed by an unknown key", a, err, 403)
	// The right key, a broken signature: 403.
	good := l.checkpoint(3)
	i := bytes.LastIndexByte(good[:len(good)-1], ' ')
	sig, err := base64.StdEncoding.DecodeString(string(good[i+1 : len(good)-1]))
	must(err)
	sig[len(sig)-1] ^= 1
	bad := append(append([]byte{}, good[:i+1]...), base64.StdEncoding.EncodeToString(sig)+"\n"...)
	a, err = post(base, reqBody(0, nil, bad))
	expect("a bad signature by the log's key", a, err, 403)
	// old beyond the checkpoint's size: 400.
	a, err = post(base, reqBody(5, l.proof(0, 3), l.checkpoint(3)))
	expect("old larger than the size", a, err, 400)
	// A first checkpoint: old 0, no proof; 200 and a cosignature.
	ck5 := l.checkpoint(5)
	a, err = post(base, reqBody(0, nil, ck5))
	expect("first checkpoint", a, err, 200)
	checkCosigned(ck5, a, logv, wv)
	// A proof with old 0: refused.
	a, err = post(base, reqBody(0, l.proof(3, 5), l.checkpoint(5)))
	if err != nil || a.status == 200 {
		die("old 0 with a proof: %v %d", err, a.status)
	}
	// A wrong old: 409 with the size, text/x.tlog.size.
	ck10 := l.checkpoint(10)
	a, err = post(base, reqBody(3, l.proof(3, 10), ck10))
	expect("wrong old size", a, err, 409)
	if a.ctype != "text/x.tlog.size" || string(a.body) != "5\n" {
		die("409: want text/x.tlog.size \"5\\n\", got %q %q", a.ctype, a.body)
	}
	a, err = post(base, reqBody(0, nil, ck10))
	expect("old 0 to learn the size", a, err, 409)
	if string(a.body) != "5\n" {
		die("409: want \"5\\n\", got %q", a.body)
	}
	// A proof that does not verify: 422.
	p := l.proof(5, 10)
	p[0][0] ^= 1
	a, err = post(base, reqBody(5, p, ck10))
	expect("bad consistency proof", a, err, 422)
	a, err = post(base, reqBody(5, l.proof(5, 10)[1:], ck10))
	expect("short consistency proof", a, err, 422)
	// The right proof: 200.
	a, err = post(base, reqBody(5, l.proof(5, 10), ck10))
	expect("consistent checkpoint", a, err, 200)
	checkCosigned(ck10, a, logv, wv)
	// The same size again: 200 with the same root, 409 with another.
	a, err = post(base, reqBody(10, nil, ck10))
	expect("the same checkpoint again", a, err, 200)
	checkCosigned(ck10, a, logv, wv)
	fork := memLog{}
	for i := int64(0); i < 10; i++ {
		t := recordText(i)
		if i == 7 {
			t = []byte("example.com/fork v1.0.0 h1:fork\n")
		}
		fork.add(i, t)
	}
	fh, err := tlog.TreeHash(10, &fork)
	must(err)
	forked, err := note.Sign(&note.Note{Text: checkpointText(l.origin, 10, fh)}, l.signer)
	must(err)
	a, err = post(base, reqBody(10, nil, forked))
	expect("another root for the same size", a, err, 409)
	// A fork beyond: its proof cannot verify from the stored root.
	for i := int64(10); i < 20; i++ {
		fork.add(i, recordText(i))
	}
	fh, err = tlog.TreeHash(20, &fork)
	must(err)
	forked, err = note.Sign(&note.Note{Text: checkpointText(l.origin, 20, fh)}, l.signer)
	must(err)
	fp, err := tlog.ProveTree(20, 10, &fork)
	must(err)
	a, err = post(base, reqBody(10, fp, forked))
	expect("a forked tree's proof", a, err, 422)
	// Rollback: a smaller tree with the right old is old > size.
	a, err = post(base, reqBody(10, nil, l.checkpoint(8)))
	expect("a smaller tree (rollback)", a, err, 400)
	// Extension lines and other signatures are cosigned as they are.
	l.grow(40)
	ext, err := note.Sign(&note.Note{Text: checkpointText(l.origin, 40, l.root(40)) + "ext line\n"}, l.signer, s2)
	must(err)
	a, err = post(base, reqBody(10, l.proof(10, 40), ext))
	expect("extension line and an unknown signature", a, err, 200)
	checkCosigned(ext, a, logv, wv)
	fmt.Printf("ok conformance: state at 40\n")
}

func witnessRace(base, wvkey, skey string, workers, rounds int) {
	l, logv := newLog(skey)
	wv := newCosigVerifier(wvkey)
	top := int64(workers*rounds + 50)
	l.grow(top)
	type step struct{ old, n int64 }
	var (
		mu    sync.Mutex
		steps []step
		wg    sync.WaitGroup
	)
	// Where the witness is now: learned with old 0.
	a, err := post(base, reqBody(0, nil, l.checkpoint(1)))
	if err != nil {
		die("race: %v", err)
	}
	var start int64
	if a.status == 409 {
		start, _ = strconv.ParseInt(strings.TrimSpace(string(a.body)), 10, 64)
	} else if a.status == 200 {
		start = 1
	} else {
		die("race: first answer %d %q", a.status, a.body)
	}
	var lmu sync.Mutex // memLog is not safe for concurrent reads with grow
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				// Everyone guesses the same old; one wins.
				mu.Lock()
				old := start
				if len(steps) > 0 {
					old = steps[len(steps)-1].n
				}
				mu.Unlock()
				n := old + 1 + int64((w*7+r)%5)
				if n > top {
					n = top
				}
				lmu.Lock()
				ck := l.checkpoint(n)
				body := reqBody(old, l.proof(old, n), ck)
				lmu.Unlock()
				a, err := post(base, body)
				if err != nil {
					die("race: %v", err)
				}
				switch a.status {
				case 200:
					checkCosigned(ck, a, logv, &cosigVerifier{name: wv.name, hash: wv.hash, pub: wv.pub})
					mu.Lock()
					steps = append(steps, step{old, n})
					mu.Unlock()
				case 409:
				default:
					die("race: %d %q for old %d size %d", a.status, a.body, old, n)
				}
			}
		}(w)
	}
	wg.Wait()
	// The accepted steps chain from start, each from the size before.
	sort.Slice(steps, func(i, j int) bool {
		if steps[i].old != steps[j].old {
			return steps[i].old < steps[j].old
		}
		return steps[i].n < steps[j].n
	})
	at := start
	for _, s := range steps {
		if s.old != at || s.n < s.old {
			die("race: accepted %d -> %d while the witness was at %d", s.old, s.n, at)
		}
		at = s.n
	}
	a, err = post(base, reqBody(0, nil, l.checkpoint(1)))
	if err != nil || a.status != 409 || strings.TrimSpace(string(a.body)) != strconv.FormatInt(at, 10) {
		die("race: the witness is not at %d: %v %d %q", at, err, a.status, a.body)
	}
	fmt.Printf("ok race: %d workers, %d accepted steps in one chain from %d to %d\n", workers, len(steps), start, at)
}

func witnessPush(base, wvkey, skey string, secs int64) {
	l, logv := newLog(skey)
	wv := newCosigVerifier(wvkey)
	var old, acked int64
	fails := 0
	end := time.Now().Add(time.Duration(secs) * time.Second)
	for time.Now().Before(end) {
		n := old + 1 + old%3
		ck := l.checkpoint(n)
		a, err := post(base, reqBody(old, l.proof(old, n), ck))
		if err != nil || a.status >= 500 {
			if fails++; fails > 600 {
				die("push: the witness stays down: %v", err)
			}
			time.Sleep(50 * time.Millisecond)
			continue
		}
		fails = 0
		switch a.status {
		case 200:
			checkCosigned(ck, a, logv, wv)
			old, acked = n, n
		case 409:
			v, err := strconv.ParseInt(strings.TrimSpace(string(a.body)), 10, 64)
			if err != nil {
				die("push: 409 %q", a.body)
			}
			// The witness may only be at what it acknowledged.
			if v < acked {
				die("push: the witness went back from %d to %d", acked, v)
			}
			old = v
		default:
			die("push: %d %q", a.status, a.body)
		}
	}
	fmt.Printf("%d\n", acked)
}

type fileTiles struct{ dir string }

func (t fileTiles) Height() int { return 8 }
func (t fileTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(tiles))
	for i, tl := range tiles {
		b, err := os.ReadFile(filepath.Join(t.dir, tl.Path()))
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}
func (t fileTiles) SaveTiles([]tlog.Tile, [][]byte) {}

func witnessReal(base, wvkey, logvkey, dir string) {
	logv, err := note.NewVerifier(logvkey)
	must(err)
	wv := newCosigVerifier(wvkey)
	latestMsg := readFile(filepath.Join(dir, "latest"))
	latest, err := openTree(logv, latestMsg)
	must(err)
	// The smallest tree among the lookups' notes.
	var first []byte
	var firstTree tlog.Tree
	filepath.Walk(filepath.Join(dir, "lookup"), func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		b := readFile(p)
		i := bytes.Index(b, []byte("\ngo.sum database tree\n"))
		if i < 0 {
			die("%s: no note", p)
		}
		t, err := openTree(logv, b[i+1:])
		must(err)
		if first == nil || t.N < firstTree.N {
			first, firstTree = b[i+1:], t
		}
		return nil
	})
	thr := tlog.TileHashReader(latest, fileTiles{dir})
	proof, err := tlog.ProveTree(latest.N, firstTree.N, thr)
	must(err)
	must(tlog.CheckTree(proof, latest.N, latest.Hash, firstTree.N, firstTree.Hash))
	// In order.
	a, err := post(base, reqBody(0, nil, first))
	expect(fmt.Sprintf("real tree %d, old 0", firstTree.N), a, err, 200)
	checkCosigned(first, a, logv, wv)
	a, err = post(base, reqBody(firstTree.N, proof, latestMsg))
	expect(fmt.Sprintf("real tree %d, from %d with %d proof hashes", latest.N, firstTree.N, len(proof)), a, err, 200)
	checkCosigned(latestMsg, a, logv, wv)
	// Out of order: the older tree again, with either old.
	a, err = post(base, reqBody(latest.N, nil, first))
	expect("the older real tree after the newer", a, err, 400)
	a, err = post(base, reqBody(firstTree.N, nil, first))
	expect("the older real tree from its own size", a, err, 409)
	if string(a.body) != fmt.Sprintf("%d\n", latest.N) {
		die("409 body %q", a.body)
	}
	// A broken proof for the newer one from the older size: 422 (on
	// a witness at the older size; here, the size is checked first).
	bad := append([]tlog.Hash{}, proof...)
	bad[len(bad)-1][3] ^= 0x10
	a, err = post(base, reqBody(latest.N, bad, latestMsg))
	if err != nil || a.status != 200 && a.status != 422 {
		die("newer tree again with a proof: %v %d", err, a.status)
	}
	fmt.Printf("ok real: sum.golang.org trees %d and %d cosigned in order, refused out of order\n", firstTree.N, latest.N)
}

func witnessCheck(base, wvkey, logvkey, name string, min int64) {
	logv, err := note.NewVerifier(logvkey)
	must(err)
	wv := newCosigVerifier(wvkey)
	msg, err := get(base + "/latest/" + url.PathEscape(name))
	must(err)
	n, err := note.Open(msg, note.VerifierList(logv, wv))
	if err != nil {
		die("checkpoint from %s: %v", base, err)
	}
	if len(n.Sigs) != 2 {
		die("checkpoint from %s: %d known signatures, want the log's and the witness's", base, len(n.Sigs))
	}
	lines := strings.SplitN(n.Text, "\n", 3)
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < min {
		die("checkpoint from %s: size %q, want at least %d", base, lines[1], min)
	}
	fmt.Printf("%d\n", size)
}

// witnessCosigned: URL/latest verifies under the log's key and carries
// at least min cosignatures of the witnesses' keys; prints the size and
// the count.
func witnessCosigned(base, logvkey string, min int, wvkeys []string) {
	logv, err := note.NewVerifier(logvkey)
	must(err)
	vs := []note.Verifier{logv}
	for _, k := range wvkeys {
		vs = append(vs, newCosigVerifier(k))
	}
	msg, err := get(base + "/latest")
	must(err)
	n, err := note.Open(msg, note.VerifierList(vs...))
	if err != nil {
		die("%s/latest: %v", base, err)
	}
	t, err := tlog.ParseTree([]byte(n.Text))
	must(err)
	cos := 0
	for _, s := range n.Sigs {
		if s.Name != logv.Name() {
			cos++
		}
	}
	if cos < min {
		die("%s/latest: tree %d has %d cosignatures of the witnesses, want %d", base, t.N, cos, min)
	}
	fmt.Printf("%d %d\n", t.N, cos)
}

func witnessMain(args []string) {
	if len(args) < 1 {
		die("usage: xmodref witness conform|race|push|real|check ...")
	}
	switch {
	case args[0] == "conform" && len(args) == 4:
		witnessConform(args[1], args[2], args[3])
	case args[0] == "race" && len(args) == 6:
		w, err1 := strconv.Atoi(args[4])
		r, err2 := strconv.Atoi(args[5])
		if err1 != nil || err2 != nil {
			die("race: bad WORKERS or ROUNDS")
		}
		witnessRace(args[1], args[2], args[3], w, r)
	case args[0] == "push" && len(args) == 5:
		n, err := strconv.ParseInt(args[4], 10, 64)
		must(err)
		witnessPush(args[1], args[2], args[3], n)
	case args[0] == "real" && len(args) == 5:
		witnessReal(args[1], args[2], args[3], args[4])
	case args[0] == "cosigned" && len(args) >= 5:
		k, err := strconv.Atoi(args[3])
		must(err)
		witnessCosigned(args[1], args[2], k, args[4:])
	case args[0] == "check" && len(args) == 6:
		n, err := strconv.ParseInt(args[5], 10, 64)
		must(err)
		witnessCheck(args[1], args[2], args[3], args[4], n)
	default:
		die("usage: xmodref witness conform|race|push|real|check ...")
	}
}
