package isledb_test

// Helpers shared by the root package's external tests: opening databases and writers,
// writing and reading keys, listing SSTs, waiting for GC.

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/manifest"
)

func openTestDB(t *testing.T, store *blobstore.Store) *isledb.DB {
	t.Helper()
	db, err := isledb.OpenDB(context.Background(), store, isledb.DBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// writeKeys puts key-<i> = val-<i> for i in [from, to) and flushes.
func writeKeys(t *testing.T, w *isledb.Writer, from, to int) {
	t.Helper()
	for i := from; i < to; i++ {
		if err := w.Put(fmt.Appendf(nil, "key-%05d", i), fmt.Appendf(nil, "val-%05d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// compactorOptions are small options for tests.
func compactorOptions() isledb.CompactorOptions {
	return isledb.CompactorOptions{
		L0CompactionThreshold: 4, MinSources: 2, MaxSources: 4, TargetSSTSize: 4 << 10,
		BlockSize: 512, ValidateSSTChecksum: true, CheckInterval: time.Millisecond,
		GCGracePeriod: 20 * time.Millisecond, GCInterval: time.Nanosecond,
	}
}

// fill writes n keys of the given generation and flushes.
func fill(t *testing.T, w *isledb.Writer, gen, n int) {
	t.Helper()
	for i := range n {
		if err := w.Put(fmt.Appendf(nil, "key-%05d", i*7%1000), fmt.Appendf(nil, "gen-%d-%d-%s", gen, i, strings.Repeat("v", 40))); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func openAll(t *testing.T, store *blobstore.Store) (*isledb.DB, *isledb.Writer) {
	t.Helper()
	db, err := isledb.OpenDB(context.Background(), store, isledb.DBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	opts := isledb.DefaultWriterOptions()
	opts.FlushInterval = -1
	w, err := db.OpenWriter(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return db, w
}

func scanAll(t *testing.T, store *blobstore.Store) []isledb.KV {
	t.Helper()
	r, err := isledb.OpenReader(context.Background(), store, isledb.ReaderOpenOptions{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	checkManifestObjects(t, store, r)
	kvs, err := r.Scan(context.Background(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return kvs
}

// sstObjects lists the SST ids in the bucket.
func sstObjects(t *testing.T, store *blobstore.Store) []string {
	t.Helper()
	objs, err := store.ListSSTFiles(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, o := range objs {
		ids = append(ids, strings.TrimSuffix(strings.TrimPrefix(o.Key, "sst/"), ".sst"))
	}
	slices.Sort(ids)
	return ids
}

func liveSSTs(t *testing.T, store *blobstore.Store) []string {
	t.Helper()
	m, err := manifest.NewStore(store).Replay(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ids := m.AllSSTIDs()
	slices.Sort(ids)
	return ids
}

// waitForGC runs GC passes until the bucket holds exactly the live SSTs.
func waitForGC(t *testing.T, store *blobstore.Store, gc func(context.Context) (isledb.GCStats, error)) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := gc(context.Background()); err != nil {
			t.Fatalf("RunGC: %v", err)
		}
		live, objs := liveSSTs(t, store), sstObjects(t, store)
		if slices.Equal(live, objs) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GC left %d objects for %d live SSTs:\nobjects %v\nlive %v", len(objs), len(live), objs, live)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// mustGet asserts key's value as a fresh reader sees it ("" with want absent).
func mustGet(t *testing.T, store *blobstore.Store, key, want string) {
	t.Helper()
	ctx := context.Background()
	r := openTestReader(t, store)
	defer r.Close()
	v, ok, err := r.Get(ctx, []byte(key))
	switch {
	case err != nil:
		t.Fatalf("Get(%s): %v", key, err)
	case want == "" && ok:
		t.Fatalf("Get(%s) = %q, want absent", key, v)
	case want != "" && (!ok || string(v) != want):
		t.Fatalf("Get(%s) = %q, %v; want %q", key, v, ok, want)
	}
}

func walWriterOptions(dir string) isledb.WriterOptions {
	o := isledb.DefaultWriterOptions()
	o.FlushInterval = -1
	o.WALDir = dir
	return o
}

// readAll opens a reader on store and returns, for each key, its value (nil: not found).
func readAll(t *testing.T, store *blobstore.Store, keys [][]byte) [][]byte {
	t.Helper()
	ctx := context.Background()
	r := openTestReader(t, store)
	defer r.Close()
	out := make([][]byte, len(keys))
	for i, k := range keys {
		v, found, err := r.Get(ctx, k)
		if err != nil {
			t.Fatalf("Get key %d (%d bytes): %v", i, len(k), err)
		}
		if found {
			out[i] = v
		}
	}
	return out
}

// checkKeys fails the test unless a fresh reader sees exactly want for its keys and none
// of absent.
func checkKeys(t *testing.T, store *blobstore.Store, want map[string]string, absent ...string) {
	t.Helper()
	ctx := context.Background()
	r := openTestReader(t, store)
	defer r.Close()
	for k, v := range want {
		got, ok, err := r.Get(ctx, []byte(k))
		if err != nil || !ok || string(got) != v {
			t.Fatalf("Get(%s) = %q, %v, %v; want %q", k, got, ok, err, v)
		}
	}
	for _, k := range absent {
		if got, ok, err := r.Get(ctx, []byte(k)); err != nil || ok {
			t.Fatalf("Get(%s) = %q, %v, %v; want absent", k, got, ok, err)
		}
	}
}

// collectUnflushed drains an UnflushedIterator as "key=value" ("key=-" for a delete).
func collectUnflushed(u *isledb.UnflushedIterator) []string {
	var out []string
	for u.Next() {
		v := string(u.Value())
		if u.Deleted() {
			v = "-"
		}
		out = append(out, fmt.Sprintf("%s=%s", u.Key(), v))
	}
	return out
}

// openTestReader opens a reader of store with its own cache directory.
func openTestReader(t *testing.T, store *blobstore.Store) *isledb.Reader {
	t.Helper()
	r, err := isledb.OpenReader(context.Background(), store, isledb.ReaderOpenOptions{CacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return r
}
