package blobstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/faultstore"
	"github.com/isledb/isledb/internal/testutil"
)

// conformanceCase is one behaviour every backend must show.
type conformanceCase struct {
	name string
	run  func(t *testing.T, b testutil.Backend, s *blobstore.Store)
}

// TestConformance runs every case against memory, file, and each real server whose
// address variable is set (MinIO, Azurite, fake-gcs-server).
func TestConformance(t *testing.T) {
	testutil.ForEach(t, testutil.All, func(t *testing.T, b testutil.Backend) {
		for _, c := range conformanceCases {
			t.Run(c.name, func(t *testing.T) {
				if b.Server {
					t.Parallel()
				}
				c.run(t, b, b.Open(t))
			})
		}
	})
}

var ctx = context.Background()

var conformanceCases = []conformanceCase{
	{"WriteRead", testWriteRead},
	{"Missing", testMissing},
	{"WriteIfNotExist", testWriteIfNotExist},
	{"WriteIfNotExistRace", testWriteIfNotExistRace},
	{"WriteIfMatch", testWriteIfMatch},
	{"WriteIfMatchMissing", testWriteIfMatchMissing},
	{"CompareAndSwapCounter", testCASCounter},
	{"ListAfterWrite", testListAfterWrite},
	{"LargeObject", testLargeObject},
	{"ReadRange", testReadRange},
	{"ReadTo", testReadTo},
	{"InvalidKeys", testInvalidKeys},
	{"Delete", testDelete},
	{"Stats", testStats},
	{"LostReplyIsOwnSuccess", testLostReply},
	{"TransientFailuresRetried", testTransientRetried},
	{"NoRetryOnNotFoundOrConflict", testNoRetry},
	{"PrefixIsolation", testPrefixIsolation},
	{"NoTornReads", testNoTornReads},
}

func mustWrite(t *testing.T, s *blobstore.Store, key string, data []byte) blobstore.Attributes {
	t.Helper()
	a, err := s.Write(ctx, key, data)
	if err != nil {
		t.Fatalf("Write(%q): %v", key, err)
	}
	return a
}

func mustRead(t *testing.T, s *blobstore.Store, key string) ([]byte, blobstore.Attributes) {
	t.Helper()
	data, a, err := s.Read(ctx, key)
	if err != nil {
		t.Fatalf("Read(%q): %v", key, err)
	}
	return data, a
}

func testWriteRead(t *testing.T, _ testutil.Backend, s *blobstore.Store) {
	data := []byte("hello, bucket")
	wa := mustWrite(t, s, "a/b/c", data)
	if wa.Size != int64(len(data)) || wa.ETag == "" {
		t.Fatalf("Write attributes = %+v, want size %d and an ETag", wa, len(data))
	}
	got, ra := mustRead(t, s, "a/b/c")
	if !bytes.Equal(got, data) {
		t.Fatalf("Read = %q, want %q", got, data)
	}
	if ra.Size != int64(len(data)) || ra.ETag != wa.ETag {
		t.Fatalf("Read attributes = %+v, want size %d, ETag %s", ra, len(data), wa.ETag)
	}
	ha, err := s.Attributes(ctx, "a/b/c")
	if err != nil || ha.ETag != wa.ETag || ha.Size != wa.Size || ha.ModTime.IsZero() {
		t.Fatalf("Attributes = %+v, %v; want ETag %s, size %d, a ModTime", ha, err, wa.ETag, wa.Size)
	}
	if ok, err := s.Exists(ctx, "a/b/c"); !ok || err != nil {
		t.Fatalf("Exists = %v, %v", ok, err)
	}
	// Overwrite: the new content and a new ETag.
	wa2 := mustWrite(t, s, "a/b/c", []byte("second version"))
	if wa2.ETag == wa.ETag {
		t.Fatalf("ETag unchanged after overwrite with new content: %s", wa.ETag)
	}
	if got, _ := mustRead(t, s, "a/b/c"); string(got) != "second version" {
		t.Fatalf("Read after overwrite = %q", got)
	}
	// Empty object.
	mustWrite(t, s, "empty", nil)
	if got, a := mustRead(t, s, "empty"); len(got) != 0 || a.Size != 0 {
		t.Fatalf("empty object read as %q (size %d)", got, a.Size)
	}
}

func testMissing(t *testing.T, _ testutil.Backend, s *blobstore.Store) {
	if _, _, err := s.Read(ctx, "nope"); !errors.Is(err, blobstore.ErrNotFound) {
		t.Fatalf("Read missing: %v, want ErrNotFound", err)
	}
	if _, err := s.ReadRange(ctx, "nope", 0, 10); !errors.Is(err, blobstore.ErrNotFound) {
		t.Fatalf("ReadRange missing: %v, want ErrNotFound", err)
	}
	if _, err := s.Attributes(ctx, "nope"); !errors.Is(err, blobstore.ErrNotFound) {
		t.Fatalf("Attributes missing: %v, want ErrNotFound", err)
	}
	if ok, err := s.Exists(ctx, "nope"); ok || err != nil {
		t.Fatalf("Exists missing = %v, %v", ok, err)
	}
}

func testWriteIfNotExist(t *testing.T, _ testutil.Backend, s *blobstore.Store) {
	a, err := s.WriteIfNotExist(ctx, "once", []byte("first"))
	if err != nil || a.ETag == "" {
		t.Fatalf("first WriteIfNotExist = %+v, %v", a, err)
	}
	if _, err := s.WriteIfNotExist(ctx, "once", []byte("second")); !errors.Is(err, blobstore.ErrPreconditionFailed) {
		t.Fatalf("second WriteIfNotExist: %v, want ErrPreconditionFailed", err)
	}
	if got, ra := mustRead(t, s, "once"); string(got) != "first" || ra.ETag != a.ETag {
		t.Fatalf("after conflict: %q (ETag %s), want %q (ETag %s)", got, ra.ETag, "first", a.ETag)
	}
}

func testWriteIfNotExistRace(t *testing.T, b testutil.Backend, s *blobstore.Store) {
	rounds := 10
	if b.Server {
		rounds = 3
	}
	for round := range rounds {
		key := "race/" + strconv.Itoa(round)
		var winners atomic.Int32
		var winner atomic.Value
		var wg sync.WaitGroup
		for g := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.WriteIfNotExist(ctx, key, []byte("writer "+strconv.Itoa(g)))
				switch {
				case err == nil:
					winners.Add(1)
					winner.Store("writer " + strconv.Itoa(g))
				case !errors.Is(err, blobstore.ErrPreconditionFailed):
					t.Errorf("writer %d: %v", g, err)
				}
			}()
		}
		wg.Wait()
		if n := winners.Load(); n != 1 {
			t.Fatalf("round %d: %d winners, want exactly 1", round, n)
		}
		if got, _ := mustRead(t, s, key); string(got) != winner.Load().(string) {
			t.Fatalf("round %d: object holds %q, winner was %q", round, got, winner.Load())
		}
	}
}

func testWriteIfMatch(t *testing.T, _ testutil.Backend, s *blobstore.Store) {
	a1 := mustWrite(t, s, "cas", []byte("v1"))
	a2, err := s.WriteIfMatch(ctx, "cas", []byte("v2"), a1.ETag)
	if err != nil {
		t.Fatalf("WriteIfMatch with current ETag: %v", err)
	}
	if a2.ETag == "" || a2.ETag == a1.ETag {
		t.Fatalf("ETag after CAS = %q, was %q", a2.ETag, a1.ETag)
	}
	if _, err := s.WriteIfMatch(ctx, "cas", []byte("v3"), a1.ETag); !errors.Is(err, blobstore.ErrPreconditionFailed) {
		t.Fatalf("WriteIfMatch with stale ETag: %v, want ErrPreconditionFailed", err)
	}
	if got, ra := mustRead(t, s, "cas"); string(got) != "v2" || ra.ETag != a2.ETag {
		t.Fatalf("after stale CAS: %q (ETag %s), want v2 (ETag %s)", got, ra.ETag, a2.ETag)
	}
	if _, err := s.WriteIfMatch(ctx, "cas", []byte("v3"), ""); !errors.Is(err, blobstore.ErrPreconditionFailed) {
		t.Fatalf("WriteIfMatch with empty ETag: %v, want ErrPreconditionFailed", err)
	}
	// The ETag from a read works too.
	_, ra := mustRead(t, s, "cas")
	if _, err := s.WriteIfMatch(ctx, "cas", []byte("v4"), ra.ETag); err != nil {
		t.Fatalf("WriteIfMatch with ETag from Read: %v", err)
	}
}

func testWriteIfMatchMissing(t *testing.T, _ testutil.Backend, s *blobstore.Store) {
	a := mustWrite(t, s, "gone", []byte("x"))
	if err := s.Delete(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	for _, etag := range []string{a.ETag, `"0123456789"`, "123"} {
		if _, err := s.WriteIfMatch(ctx, "gone", []byte("y"), etag); !errors.Is(err, blobstore.ErrPreconditionFailed) {
			t.Fatalf("WriteIfMatch(%s) on a missing key: %v, want ErrPreconditionFailed", etag, err)
		}
	}
	if ok, _ := s.Exists(ctx, "gone"); ok {
		t.Fatal("WriteIfMatch on a missing key created it")
	}
}

// testCASCounter increments a counter from several goroutines with read-modify-write
// loops: compare-and-swap is linearizable only if no increment is lost.
func testCASCounter(t *testing.T, b testutil.Backend, s *blobstore.Store) {
	workers, each := 8, 10
	if b.Server {
		workers, each = 4, 5
	}
	mustWrite(t, s, "counter", []byte("0"))
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if err := casIncrement(s, "counter"); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got, _ := mustRead(t, s, "counter"); string(got) != strconv.Itoa(workers*each) {
		t.Fatalf("counter = %s, want %d: an increment was lost", got, workers*each)
	}
}

// casIncrement adds one to the decimal counter at key with a read-modify-write loop of
// WriteIfMatch, retrying when another writer got there first.
func casIncrement(s *blobstore.Store, key string) error {
	for {
		data, a, err := s.Read(ctx, key)
		if err != nil {
			return err
		}
		n, _ := strconv.Atoi(string(data))
		_, err = s.WriteIfMatch(ctx, key, []byte(strconv.Itoa(n+1)), a.ETag)
		if !errors.Is(err, blobstore.ErrPreconditionFailed) {
			return err
		}
	}
}

func testListAfterWrite(t *testing.T, _ testutil.Backend, s *blobstore.Store) {
	var want []string
	for i := range 12 {
		k := fmt.Sprintf("list/%02d", i)
		mustWrite(t, s, k, []byte(k))
		want = append(want, k)
	}
	mustWrite(t, s, "list-other", []byte("x")) // shares the string prefix "list"
	mustWrite(t, s, "list/sub/deep", []byte("y"))
	want = append(want, "list/sub/deep")
	var got []string
	opts := blobstore.ListOptions{Prefix: "list/", PageSize: 5}
	pages := 0
	for {
		res, err := s.List(ctx, opts)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		if len(res.Objects) > 5 {
			t.Fatalf("page of %d objects, page size 5", len(res.Objects))
		}
		for _, o := range res.Objects {
			got = append(got, o.Key)
			if o.Size != int64(len(o.Key)) && o.Key != "list/sub/deep" {
				t.Errorf("%s: size %d", o.Key, o.Size)
			}
		}
		if res.NextPageToken == "" {
			break
		}
		opts.PageToken = res.NextPageToken
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("listed %v\nwant     %v", got, want)
	}
	if pages < 3 {
		t.Fatalf("%d pages for %d objects of page size 5", pages, len(want))
	}
	all, err := s.ListAll(ctx, "")
	if err != nil || len(all) != len(want)+1 {
		t.Fatalf("ListAll = %d objects, %v; want %d", len(all), err, len(want)+1)
	}
	mustWrite(t, s, "sst/000001.sst", []byte("s"))
	mustWrite(t, s, "blob/abcd", []byte("b"))
	if ssts, err := s.ListSSTFiles(ctx); err != nil || len(ssts) != 1 || ssts[0].Key != "sst/000001.sst" {
		t.Fatalf("ListSSTFiles = %v, %v", ssts, err)
	}
	if blobs, err := s.ListBlobFiles(ctx); err != nil || len(blobs) != 1 || blobs[0].Key != s.BlobPath("abcd") {
		t.Fatalf("ListBlobFiles = %v, %v", blobs, err)
	}
}

func testLargeObject(t *testing.T, _ testutil.Backend, s *blobstore.Store) {
	data := make([]byte, 17<<20+123)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(r.Uint32())
	}
	a := mustWrite(t, s, "large", data)
	if a.Size != int64(len(data)) {
		t.Fatalf("size %d, want %d", a.Size, len(data))
	}
	if got, _ := mustRead(t, s, "large"); !bytes.Equal(got, data) {
		t.Fatal("large object read back differs")
	}
	part, err := s.ReadRange(ctx, "large", 16<<20, 1<<20)
	if err != nil || !bytes.Equal(part, data[16<<20:17<<20]) {
		t.Fatalf("range of large object: %v", err)
	}
	if _, err := s.WriteIfNotExist(ctx, "large-once", data); err != nil {
		t.Fatalf("large WriteIfNotExist: %v", err)
	}
	if _, err := s.WriteIfNotExist(ctx, "large-once", data[:1<<20]); !errors.Is(err, blobstore.ErrPreconditionFailed) {
		t.Fatalf("second large WriteIfNotExist: %v, want ErrPreconditionFailed", err)
	}
}

func testReadRange(t *testing.T, _ testutil.Backend, s *blobstore.Store) {
	data := []byte("0123456789abcdef")
	mustWrite(t, s, "r", data)
	cases := []struct {
		off, n int64
		want   string
		err    error
	}{
		{0, 4, "0123", nil},
		{5, 3, "567", nil},
		{12, 4, "cdef", nil},   // exactly to the end
		{12, 100, "cdef", nil}, // past the end: clipped
		{15, 1, "f", nil},
		{16, 10, "", nil}, // at the end: nothing
		{3, 0, "", nil},
		{17, 1, "", blobstore.ErrInvalidRange},
		{-1, 1, "", blobstore.ErrInvalidRange},
		{0, -1, "", blobstore.ErrInvalidRange},
	}
	for _, c := range cases {
		got, err := s.ReadRange(ctx, "r", c.off, c.n)
		if c.err != nil {
			if !errors.Is(err, c.err) {
				t.Errorf("ReadRange(%d, %d) error %v, want %v", c.off, c.n, err, c.err)
			}
			continue
		}
		if err != nil || string(got) != c.want {
			t.Errorf("ReadRange(%d, %d) = %q, %v; want %q", c.off, c.n, got, err, c.want)
		}
	}
}

// invalidKeys try to leave the bucket directory or hold characters no backend stores
// as given.
var invalidKeys = []string{
	"", "..", "../x", "a/../../b", "a/..", "/abs", "/etc/passwd", "a\x00b", "a\\b", `..\x`,
	"a//b", "./a", "a/./b", "a/", "a\nb", "a?b", "a#b", "a%2e", `a"b`, string([]byte{0xff}),
}

func testInvalidKeys(t *testing.T, b testutil.Backend, s *blobstore.Store) {
	for _, k := range invalidKeys {
		checks := map[string]error{}
		_, _, checks["Read"] = s.Read(ctx, k)
		_, checks["ReadRange"] = s.ReadRange(ctx, k, 0, 1)
		_, checks["Write"] = s.Write(ctx, k, []byte("x"))
		_, checks["WriteIfNotExist"] = s.WriteIfNotExist(ctx, k, []byte("x"))
		_, checks["WriteIfMatch"] = s.WriteIfMatch(ctx, k, []byte("x"), `"e"`)
		checks["Delete"] = s.Delete(ctx, k)
		_, checks["Exists"] = s.Exists(ctx, k)
		_, checks["Attributes"] = s.Attributes(ctx, k)
		for op, err := range checks {
			if !errors.Is(err, blobstore.ErrInvalidKey) {
				t.Errorf("%s(%q): %v, want ErrInvalidKey", op, k, err)
			}
		}
	}
	if _, err := s.List(ctx, blobstore.ListOptions{Prefix: "../"}); !errors.Is(err, blobstore.ErrInvalidKey) {
		t.Errorf("List(../): %v, want ErrInvalidKey", err)
	}
	if b.Name == "file" {
		if _, err := s.Write(ctx, ".isledb-tmp/x", []byte("x")); err == nil {
			// Only reachable with an empty prefix; with a prefix the key is nested.
			if s.Prefix() == "" {
				t.Error("a key in the file store's temporary directory was accepted")
			}
		}
	}
	for _, p := range []string{"..", "../x", "/abs", "a/../..", "a\x00", `a\b`} {
		if _, err := blobstore.NewWithBackendChecked(blobstore.NewMemory("").Backend(), "", p); !errors.Is(err, blobstore.ErrInvalidKey) {
			t.Errorf("prefix %q accepted: %v", p, err)
		}
	}
}

func testDelete(t *testing.T, _ testutil.Backend, s *blobstore.Store) {
	mustWrite(t, s, "d/1", []byte("1"))
	if err := s.Delete(ctx, "d/1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Read(ctx, "d/1"); !errors.Is(err, blobstore.ErrNotFound) {
		t.Fatalf("read after delete: %v", err)
	}
	if err := s.Delete(ctx, "d/1"); err != nil {
		t.Fatalf("deleting a missing key: %v, want success", err)
	}
	var keys []string
	for i := range 20 {
		k := fmt.Sprintf("d/batch/%d", i)
		mustWrite(t, s, k, []byte(k))
		keys = append(keys, k)
	}
	keys = append(keys, "d/never-written")
	if err := s.BatchDelete(ctx, keys); err != nil {
		t.Fatalf("BatchDelete: %v", err)
	}
	if left, err := s.ListAll(ctx, "d/"); err != nil || len(left) != 0 {
		t.Fatalf("after BatchDelete: %v, %v", left, err)
	}
	err := s.BatchDelete(ctx, []string{"d/ok", "../bad"})
	var bde *blobstore.BatchDeleteError
	if !errors.As(err, &bde) || len(bde.Failed) != 1 || !errors.Is(bde.Failed["../bad"], blobstore.ErrInvalidKey) {
		t.Fatalf("BatchDelete with a bad key: %v", err)
	}
}

func testStats(t *testing.T, _ testutil.Backend, s *blobstore.Store) {
	before := s.Stats()
	mustWrite(t, s, "st", []byte("12345"))
	if _, err := s.WriteIfNotExist(ctx, "st2", []byte("1")); err != nil {
		t.Fatal(err)
	}
	mustRead(t, s, "st")
	if _, err := s.ReadRange(ctx, "st", 1, 2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Attributes(ctx, "st"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.List(ctx, blobstore.ListOptions{Prefix: "st"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, "st"); err != nil {
		t.Fatal(err)
	}
	d := s.Stats().Sub(before)
	want := blobstore.Stats{Gets: 1, RangedGets: 1, Heads: 1, Puts: 1, CondPuts: 1, Lists: 1, Deletes: 1, BytesRead: 7, BytesWritten: 6}
	if d != want {
		t.Fatalf("stats delta\n got %v\nwant %v", d, want)
	}
	if d.Requests() != 7 {
		t.Fatalf("Requests() = %d, want 7", d.Requests())
	}
}

// testLostReply: the write lands but its reply is lost; the retry meets a precondition
// failure, which the Store must recognise as its own success.
func testLostReply(t *testing.T, b testutil.Backend, s *blobstore.Store) {
	fs, fb := faultstore.Wrap(s)
	fb.LoseReply(faultstore.PutsTo("lost-"), 1)
	a, err := fs.WriteIfNotExist(ctx, "lost-create", []byte("mine"))
	if err != nil {
		if b.Name == "file" && errors.Is(err, blobstore.ErrPreconditionFailed) {
			if ha, _ := fs.Attributes(ctx, "lost-create"); ha.WriteID == "" {
				t.Skip("this file system keeps no extended attributes, so the file backend has no write ids")
			}
		}
		t.Fatalf("WriteIfNotExist with a lost reply: %v, want success", err)
	}
	if got, ra := mustRead(t, s, "lost-create"); string(got) != "mine" || ra.ETag != a.ETag {
		t.Fatalf("object = %q (ETag %s), want %q (ETag %s)", got, ra.ETag, "mine", a.ETag)
	}
	// A real conflict is still reported as one, lost reply or not.
	fb.LoseReply(faultstore.PutsTo("lost-"), 1)
	if _, err := fs.WriteIfNotExist(ctx, "lost-create", []byte("other")); !errors.Is(err, blobstore.ErrPreconditionFailed) {
		t.Fatalf("WriteIfNotExist on an existing key with lost replies: %v, want ErrPreconditionFailed", err)
	}
	base := mustWrite(t, s, "lost-cas", []byte("v1"))
	fb.LoseReply(faultstore.PutsTo("lost-"), 1)
	if _, err := fs.WriteIfMatch(ctx, "lost-cas", []byte("v2"), base.ETag); err != nil {
		t.Fatalf("WriteIfMatch with a lost reply: %v, want success", err)
	}
	if got, _ := mustRead(t, s, "lost-cas"); string(got) != "v2" {
		t.Fatalf("object = %q, want v2", got)
	}
}

func testTransientRetried(t *testing.T, _ testutil.Backend, s *blobstore.Store) {
	fs, fb := faultstore.Wrap(s)
	before := fs.Stats()
	fb.FailIf(faultstore.OpsOn(faultstore.OpPut, "flaky"), 3, nil)
	if _, err := fs.Write(ctx, "flaky", []byte("x")); err != nil {
		t.Fatalf("Write after 3 transient failures: %v", err)
	}
	fb.FailIf(faultstore.OpsOn(faultstore.OpGet, "flaky"), 2, nil)
	if got, _, err := fs.Read(ctx, "flaky"); err != nil || string(got) != "x" {
		t.Fatalf("Read after 2 transient failures: %q, %v", got, err)
	}
	d := fs.Stats().Sub(before)
	if d.Puts != 4 || d.Gets != 3 || d.Retries != 5 || d.RequestErrors != 5 {
		t.Fatalf("stats %v; want 4 PUTs, 3 GETs, 5 retries, 5 errors", d)
	}
	fb.FailIf(faultstore.OpsOn(faultstore.OpPut, "down"), -1, nil)
	if _, err := fs.Write(ctx, "down", []byte("x")); !errors.Is(err, faultstore.ErrInjected) {
		t.Fatalf("Write that always fails: %v", err)
	}
	fb.FailPermanentlyIf(faultstore.OpsOn(faultstore.OpPut, "perm"), -1)
	before = fs.Stats()
	if _, err := fs.Write(ctx, "perm", []byte("x")); !errors.Is(err, faultstore.ErrInjected) {
		t.Fatalf("Write with a permanent failure: %v", err)
	}
	if d := fs.Stats().Sub(before); d.Puts != 1 {
		t.Fatalf("a permanent failure was retried: %d PUTs", d.Puts)
	}
}

func testNoRetry(t *testing.T, _ testutil.Backend, s *blobstore.Store) {
	before := s.Stats()
	if _, _, err := s.Read(ctx, "absent"); !errors.Is(err, blobstore.ErrNotFound) {
		t.Fatal(err)
	}
	mustWrite(t, s, "present", []byte("x"))
	if _, err := s.WriteIfNotExist(ctx, "present", []byte("y")); !errors.Is(err, blobstore.ErrPreconditionFailed) {
		t.Fatal(err)
	}
	d := s.Stats().Sub(before)
	// One GET, one PUT, one conditional PUT, and the HEAD that checks the write id.
	if d.Gets != 1 || d.Puts != 1 || d.CondPuts != 1 || d.Heads != 1 || d.Retries != 0 {
		t.Fatalf("stats %v: a 404 or 412 was retried", d)
	}
}

func testPrefixIsolation(t *testing.T, b testutil.Backend, s *blobstore.Store) {
	if b.Name == "memory" {
		t.Skip("memory stores never share objects")
	}
	other := b.OpenPrefix(t, s.Prefix()+"-other")
	mustWrite(t, s, "k", []byte("mine"))
	if _, _, err := other.Read(ctx, "k"); !errors.Is(err, blobstore.ErrNotFound) {
		t.Fatalf("another prefix sees the object: %v", err)
	}
	same := b.OpenPrefix(t, s.Prefix())
	if got, _ := mustRead(t, same, "k"); string(got) != "mine" {
		t.Fatalf("a second handle on the prefix reads %q", got)
	}
	if objs, _ := other.ListAll(ctx, ""); len(objs) != 0 {
		t.Fatalf("another prefix lists %v", objs)
	}
}

// testNoTornReads overwrites an object with uniform buffers while readers check that
// every read returns one whole version.
func testNoTornReads(t *testing.T, b testutil.Backend, s *blobstore.Store) {
	size, writes := 256<<10, 40
	if b.Server {
		writes = 10
	}
	mustWrite(t, s, "torn", bytes.Repeat([]byte{0}, size))
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				data, _, err := s.Read(ctx, "torn")
				if err != nil {
					t.Error(err)
					return
				}
				if len(data) != size || bytes.Count(data, data[:1]) != size {
					t.Errorf("torn read: %d bytes, not all equal", len(data))
					return
				}
			}
		}()
	}
	for i := 1; i <= writes; i++ {
		mustWrite(t, s, "torn", bytes.Repeat([]byte{byte(i)}, size))
	}
	close(done)
	wg.Wait()
}
