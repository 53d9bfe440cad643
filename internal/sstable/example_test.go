package sstable_test

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/isledb/isledb/internal/base"
	"github.com/isledb/isledb/internal/sstable"
)

func Example() {
	ctx := context.Background()
	var file bytes.Buffer
	w, err := sstable.NewWriter(&file, sstable.WriterOptions{
		Compression:  "zstd",
		CreationTime: time.Unix(1700000000, 0),
	})
	if err != nil {
		panic(err)
	}
	// Key ascending, then sequence number descending.
	for _, e := range []sstable.Entry{
		{Key: []byte("apple"), Seq: 9, Kind: base.KindDelete},
		{Key: []byte("apple"), Seq: 4, Kind: base.KindValue, Value: []byte("red")},
		{Key: []byte("pear"), Seq: 7, Kind: base.KindValue, Value: []byte("green")},
	} {
		if err := w.Add(e); err != nil {
			panic(err)
		}
	}
	meta, err := w.Finish()
	if err != nil {
		panic(err)
	}
	fmt.Println(meta.EntryCount, string(meta.MinKey), string(meta.MaxKey), meta.SeqLo, meta.SeqHi)

	r, err := sstable.Open(ctx, sstable.BytesSource(file.Bytes()), sstable.ReaderOptions{
		Object: "sst/example.sst",
		Cache:  sstable.NewLRUCache(8 << 20),
	})
	if err != nil {
		panic(err)
	}
	defer r.Close()
	e, found, err := r.Get(ctx, []byte("apple"))
	fmt.Println(found, err, e.Kind, e.Seq)

	it := r.NewIter(ctx, sstable.IterOptions{})
	for ok := it.First(); ok; ok = it.Next() {
		fmt.Printf("%s#%d %s %q\n", it.Key(), it.Seq(), it.Kind(), it.Value())
	}
	if err := it.Close(); err != nil {
		panic(err)
	}
	// Output:
	// 3 apple pear 4 9
	// true <nil> delete 9
	// apple#9 delete ""
	// apple#4 value "red"
	// pear#7 value "green"
}
