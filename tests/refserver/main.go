// Command refserver is the benchmark's peer: golang.org/x/mod's
// sumdb.Server (net/http) over an in-memory log of the same records as
// sumdbd's, signed with the same key, so both serve identical bytes
// for lookups, hash tiles and /latest.  x/mod 0.7.0 formats data tiles
// wrongly, so the benchmark does not compare those.
//
//	refserver ADDR KEYFILE RECORDS
//
// RECORDS holds the record texts in log order, each followed by a
// blank line (a data tile's format).
package main

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"

	"golang.org/x/mod/module"
	"golang.org/x/mod/sumdb"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type ops struct {
	signed  []byte
	records [][]byte
	hashes  []tlog.Hash
	index   map[module.Version]int64
}

func (o *ops) ReadHashes(idx []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(idx))
	for i, x := range idx {
		if x < 0 || x >= int64(len(o.hashes)) {
			return nil, fmt.Errorf("hash %d not stored", x)
		}
		out[i] = o.hashes[x]
	}
	return out, nil
}

func (o *ops) Signed(ctx context.Context) ([]byte, error) { return o.signed, nil }

func (o *ops) ReadRecords(ctx context.Context, id, n int64) ([][]byte, error) {
	if id < 0 || id+n > int64(len(o.records)) {
		return nil, os.ErrNotExist
	}
	return o.records[id : id+n], nil
}

func (o *ops) Lookup(ctx context.Context, m module.Version) (int64, error) {
	if id, ok := o.index[m]; ok {
		return id, nil
	}
	return 0, os.ErrNotExist
}

func (o *ops) ReadTileData(ctx context.Context, t tlog.Tile) ([]byte, error) {
	return tlog.ReadTileData(t, o)
}

func main() {
	if len(os.Args) != 4 {
		log.Fatal("usage: refserver ADDR KEYFILE RECORDS")
	}
	skey, err := os.ReadFile(os.Args[2])
	if err != nil {
		log.Fatal(err)
	}
	signer, err := note.NewSigner(strings.TrimSpace(string(skey)))
	if err != nil {
		log.Fatal(err)
	}
	data, err := os.ReadFile(os.Args[3])
	if err != nil {
		log.Fatal(err)
	}
	o := &ops{index: make(map[module.Version]int64)}
	for _, r := range bytes.SplitAfter(data, []byte("\n\n")) {
		if len(r) == 0 {
			continue
		}
		text := r[:len(r)-1]
		id := int64(len(o.records))
		h, err := tlog.StoredHashes(id, text, o)
		if err != nil {
			log.Fatal(err)
		}
		o.hashes = append(o.hashes, h...)
		o.records = append(o.records, text)
		f := strings.Fields(string(text))
		o.index[module.Version{Path: f[0], Version: f[1]}] = id
	}
	n := int64(len(o.records))
	th, err := tlog.TreeHash(n, o)
	if err != nil {
		log.Fatal(err)
	}
	o.signed, err = note.Sign(&note.Note{Text: string(tlog.FormatTree(tlog.Tree{N: n, Hash: th}))}, signer)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("refserver: %d records on %s", n, os.Args[1])
	log.Fatal(http.ListenAndServe(os.Args[1], sumdb.NewServer(o)))
}
