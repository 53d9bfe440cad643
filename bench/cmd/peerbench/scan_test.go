package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/internal/benchkit"
)

// TestScanAdaptersAgree: every engine's Scan adapter reads the same pairs from the same
// data: the same count, key and value bytes and resume key (the n-th key), and fewer pairs
// with no error at the end of the key space.
func TestScanAdaptersAgree(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	po := peerOptions{memtable: 64 << 20, cache: 8 << 20, kvPreset: "default"}
	isle, cleanup, err := benchkit.IsleDBOpener(benchkit.IsleDBOptions{Backend: "file", Dir: root + "/isledb",
		Writer: isledb.WriterOptions{MemtableSize: po.memtable}})
	if err != nil {
		t.Fatal(err)
	}
	defer cleanup()
	openers := []benchkit.Opener{isle}
	for _, name := range []string{"pebble", "badger", "goleveldb", "kv"} {
		openers = append(openers, peers[name](root+"/"+name, po))
	}
	const keys = 300
	for _, op := range openers {
		t.Run(op.Engine, func(t *testing.T) {
			e, err := op.Open(ctx, "scan")
			if err != nil {
				t.Fatal(err)
			}
			defer e.Close()
			for i := range keys {
				if err := e.Put(fmt.Appendf(nil, "key-%04d", i), fmt.Appendf(nil, "value-%d", i)); err != nil {
					t.Fatal(err)
				}
			}
			if err := e.Sync(); err != nil {
				t.Fatal(err)
			}
			c, b, last, err := e.Scan([]byte("key-0100"), 100)
			wantBytes := 100 * (len("key-0100") + len("value-100"))
			if err != nil || c != 100 || b != wantBytes || string(last) != "key-0199" {
				t.Errorf("Scan(key-0100, 100) = %d pairs, %d bytes, last %q, %v; want 100, %d, key-0199", c, b, last, err, wantBytes)
			}
			if c, _, _, err := e.Scan([]byte("key-0250"), 100); err != nil || c != 50 {
				t.Errorf("Scan(key-0250, 100) = %d pairs, %v; want 50", c, err)
			}
		})
	}
}
