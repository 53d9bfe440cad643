package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/testutil"
	"github.com/isledb/isledb/manifest"
)

// fixture is a database in a bucket of one backend, and the CLI pointed at it.
type fixture struct {
	t      *testing.T
	store  *blobstore.Store // the test's own view of the bucket
	env    Env
	url    string
	prefix string
}

// noClose keeps the CLI's Close of a memory store from closing the test's backend.
type noClose struct{ blobstore.Backend }

func (noClose) Close() error { return nil }

func newFixture(t *testing.T, b testutil.Backend) *fixture {
	t.Helper()
	prefix := testutil.UniquePrefix(t)
	f := &fixture{t: t, store: b.OpenPrefix(t, prefix), prefix: prefix}
	f.url = b.URL(t)
	if b.Name == "memory" {
		f.url = "mem://test"
		backend := f.store.Backend()
		f.env.Open = func(_ context.Context, url, prefix string) (*blobstore.Store, error) {
			return blobstore.NewWithBackendChecked(noClose{backend}, "", prefix)
		}
	}
	return f
}

// run runs the CLI with the fixture's -url and -prefix.
func (f *fixture) run(args ...string) (stdout, stderr string, code int) {
	f.t.Helper()
	return f.runCtx(context.Background(), args...)
}

func (f *fixture) runCtx(ctx context.Context, args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	env := f.env
	env.Stdout, env.Stderr = &out, &errb
	env.Getenv = func(string) string { return "" }
	code = Run(ctx, env, append([]string{"-url", f.url, "-prefix", f.prefix}, args...))
	return out.String(), errb.String(), code
}

// must runs the CLI and fails the test unless it exits with want.
func (f *fixture) must(want int, args ...string) string {
	f.t.Helper()
	out, errs, code := f.run(args...)
	if code != want {
		f.t.Fatalf("isledb %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out, errs)
	}
	return out
}

// populate writes three flushes (three L0 SSTs): keys k00..k29 with values v00.., key
// "big" as a blob, and a delete of k05.
func (f *fixture) populate() {
	f.t.Helper()
	w, db := f.writer()
	defer db.Close()
	for batch := 0; batch < 3; batch++ {
		for i := batch * 10; i < batch*10+10; i++ {
			if err := w.Put([]byte(fmt.Sprintf("k%02d", i)), []byte(fmt.Sprintf("v%02d", i))); err != nil {
				f.t.Fatal(err)
			}
		}
		if batch == 1 {
			if err := w.Put([]byte("big"), bytes.Repeat([]byte("B"), 300)); err != nil {
				f.t.Fatal(err)
			}
		}
		if batch == 2 {
			if err := w.Delete([]byte("k05")); err != nil {
				f.t.Fatal(err)
			}
		}
		if err := w.Flush(context.Background()); err != nil {
			f.t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		f.t.Fatal(err)
	}
}

// writer opens a writer (no timed flushes, values of 100 bytes or more as blobs).
func (f *fixture) writer() (*isledb.Writer, *isledb.DB) {
	f.t.Helper()
	ctx := context.Background()
	db, err := isledb.OpenDB(ctx, f.store, isledb.DBOptions{})
	if err != nil {
		f.t.Fatal(err)
	}
	opts := isledb.DefaultWriterOptions()
	opts.FlushInterval = -1
	opts.ValueStorage.BlobThreshold = 100
	w, err := db.OpenWriter(ctx, opts)
	if err != nil {
		f.t.Fatal(err)
	}
	return w, db
}

func (f *fixture) manifest() *manifest.Manifest {
	f.t.Helper()
	m, err := manifest.NewStore(f.store).Replay(context.Background())
	if err != nil {
		f.t.Fatal(err)
	}
	return m
}

func wantContains(t *testing.T, out string, subs ...string) {
	t.Helper()
	for _, s := range subs {
		if !strings.Contains(out, s) {
			t.Errorf("output lacks %q:\n%s", s, out)
		}
	}
}

// TestVerbs drives every read verb, compact and gc on each backend.
func TestVerbs(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		f := newFixture(t, b)
		f.must(ExitNoDatabase, "ls")
		f.populate()
		m := f.manifest()
		if len(m.L0SSTs) != 3 {
			t.Fatalf("%d L0 SSTs, want 3", len(m.L0SSTs))
		}

		out := f.must(ExitOK, "ls")
		for _, s := range m.L0SSTs {
			wantContains(t, out, s.ID)
		}
		wantContains(t, out, "LEVEL", "k00 .. k09", "big .. k19")

		out = f.must(ExitOK, "manifest")
		wantContains(t, out, "L0: 3 SSTs", fmt.Sprintf("epoch %d", m.WriterFence.Epoch), "compactor: none")
		var jm jsonManifest
		if err := json.Unmarshal([]byte(f.must(ExitOK, "manifest", "-json")), &jm); err != nil {
			t.Fatal(err)
		}
		if len(jm.L0) != 3 || jm.MaxSeq != m.MaxSeqNum() || jm.L0[2].MinKey != "k00" || jm.L0[2].MinKeyHex != "6b3030" {
			t.Errorf("manifest -json: %+v", jm)
		}

		if out := f.must(ExitOK, "get", "k07"); out != "v07\n" {
			t.Errorf("get k07: %q", out)
		}
		if out := f.must(ExitOK, "get", "big"); out != strings.Repeat("B", 300)+"\n" {
			t.Errorf("get big: %q", out)
		}
		if out := f.must(ExitOK, "get", "-hex", "k07"); out != "763037\n" {
			t.Errorf("get -hex k07: %q", out)
		}
		f.must(ExitNotFound, "get", "k05") // deleted
		f.must(ExitNotFound, "get", "nope")
		f.must(ExitUsage, "get")

		if out := f.must(ExitOK, "scan", "-from", "k03", "-to", "k07"); out != "k03\tv03\nk04\tv04\nk06\tv06\nk07\tv07\n" {
			t.Errorf("scan -from k03 -to k07: %q", out)
		}
		if out := f.must(ExitOK, "scan", "-prefix", "k1", "-keys", "-limit", "3"); out != "k10\nk11\nk12\n" {
			t.Errorf("scan -prefix k1 -keys -limit 3: %q", out)
		}
		if n := strings.Count(f.must(ExitOK, "scan"), "\n"); n != 30 { // 30 keys + big - k05
			t.Errorf("scan: %d lines, want 30", n)
		}
		f.must(ExitUsage, "scan", "-from", "k9", "-to", "k1")

		newest := m.L0SSTs[0]
		out = f.must(ExitOK, "dump", newest.ID)
		wantContains(t, out, "KEY", "k20", "k05  32   delete")
		out = f.must(ExitOK, "dump", "sst/"+m.L0SSTs[1].ID+".sst")
		wantContains(t, out, "big", "blob ")
		f.must(ExitNotFound, "dump", "1-2-nosuch")

		out = f.must(ExitOK, "tail")
		if n := strings.Count(out, "\n"); n != 32 {
			t.Errorf("tail: %d changes, want 32:\n%s", n, out)
		}
		wantContains(t, out, "\tdel\tk05\n", "1\tput\tk00\tv00\n")
		if out := f.must(ExitOK, "tail", "-from", "3", "-n", "2"); out != "3\tput\tk02\tv02\n4\tput\tk03\tv03\n" {
			t.Errorf("tail -from 3 -n 2: %q", out)
		}

		out = f.must(ExitOK, "verify")
		wantContains(t, out, "3 SSTs", "1 referenced blobs", "0 damaged, 0 orphans")

		// compact: the three L0 SSTs become a sorted run; gc -dry-run shows them pending.
		out = f.must(ExitOK, "compact", "-l0", "2")
		wantContains(t, out, "after:  0 L0 SSTs, 1 sorted runs", "job l0-flush: 3 input SSTs")
		m2 := f.manifest()
		if len(m2.L0SSTs) != 0 || len(m2.SortedRuns) != 1 {
			t.Fatalf("after compact: %d L0, %d runs", len(m2.L0SSTs), len(m2.SortedRuns))
		}
		out = f.must(ExitOK, "gc", "-dry-run")
		wantContains(t, out, "would delete 0 SSTs", "3 SSTs out of the manifest")
		for _, s := range m.L0SSTs {
			wantContains(t, out, s.ID)
		}
		out = f.must(ExitOK, "gc", "-dry-run", "-grace", "1ns")
		wantContains(t, out, "would delete 3 SSTs")
		out = f.must(ExitOK, "gc", "-grace", "1ns")
		wantContains(t, out, "deleted 3 SSTs")
		out = f.must(ExitOK, "gc", "-dry-run")
		wantContains(t, out, "0 SSTs out of the manifest")
		if out := f.must(ExitOK, "get", "k07"); out != "v07\n" {
			t.Errorf("get k07 after compaction: %q", out)
		}
		out = f.must(ExitOK, "verify", "-strict")
		wantContains(t, out, "1 SSTs", "0 damaged, 0 orphans")
	})
}

// TestTailFollow follows the change feed while a writer adds keys.
func TestTailFollow(t *testing.T) {
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		f := newFixture(t, b)
		f.populate()
		next := f.manifest().MaxSeqNum() + 1
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		var wg sync.WaitGroup
		var out, errs string
		var code int
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, errs, code = f.runCtx(ctx, "tail", "-follow", "-from", fmt.Sprint(next), "-n", "2", "-poll", "10ms")
		}()
		w, db := f.writer()
		defer db.Close()
		for _, k := range []string{"new1", "new2"} {
			if err := w.Put([]byte(k), []byte("x"+k)); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		wg.Wait()
		if code != ExitOK {
			t.Fatalf("tail -follow: exit %d: %s", code, errs)
		}
		want := fmt.Sprintf("%d\tput\tnew1\txnew1\n%d\tput\tnew2\txnew2\n", next, next+1)
		if out != want {
			t.Errorf("tail -follow: %q, want %q", out, want)
		}
	})
}

// TestVerifyDamage damages a bucket in each way verify must notice.
func TestVerifyDamage(t *testing.T) {
	ctx := context.Background()
	flip := func(t *testing.T, s *blobstore.Store, key string, at func(n int) int) {
		t.Helper()
		data, _, err := s.Read(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		data[at(len(data))] ^= 0x40
		if _, err := s.Write(ctx, key, data); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name   string
		damage func(t *testing.T, f *fixture, m *manifest.Manifest)
		code   int
		want   []string
		strict int // the exit status with -strict
	}{
		{"flipped SST byte", func(t *testing.T, f *fixture, m *manifest.Manifest) {
			flip(t, f.store, f.store.SSTPath(m.L0SSTs[2].ID), func(n int) int { return 40 })
		}, ExitDamage, []string{"DAMAGE sst "}, ExitDamage},
		{"flipped SST footer byte", func(t *testing.T, f *fixture, m *manifest.Manifest) {
			flip(t, f.store, f.store.SSTPath(m.L0SSTs[0].ID), func(n int) int { return n - 3 })
		}, ExitDamage, []string{"DAMAGE sst "}, ExitDamage},
		{"missing SST", func(t *testing.T, f *fixture, m *manifest.Manifest) {
			if err := f.store.Delete(ctx, f.store.SSTPath(m.L0SSTs[1].ID)); err != nil {
				t.Fatal(err)
			}
		}, ExitDamage, []string{"missing from the bucket"}, ExitDamage},
		{"missing blob", func(t *testing.T, f *fixture, m *manifest.Manifest) {
			blobs, err := f.store.ListBlobFiles(ctx)
			if err != nil || len(blobs) != 1 {
				t.Fatalf("blobs %v, %v", blobs, err)
			}
			if err := f.store.Delete(ctx, blobs[0].Key); err != nil {
				t.Fatal(err)
			}
		}, ExitDamage, []string{"missing (referenced by sst", "key big"}, ExitDamage},
		{"damaged blob", func(t *testing.T, f *fixture, m *manifest.Manifest) {
			blobs, _ := f.store.ListBlobFiles(ctx)
			flip(t, f.store, blobs[0].Key, func(int) int { return 7 })
		}, ExitDamage, []string{"does not match its content"}, ExitDamage},
		{"orphan SST", func(t *testing.T, f *fixture, m *manifest.Manifest) {
			data, _, err := f.store.Read(ctx, f.store.SSTPath(m.L0SSTs[0].ID))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.store.Write(ctx, f.store.SSTPath("999-999-orphan"), data); err != nil {
				t.Fatal(err)
			}
		}, ExitOK, []string{"ORPHAN sst 999-999-orphan", "0 damaged, 1 orphans"}, ExitDamage},
		{"orphan blob", func(t *testing.T, f *fixture, m *manifest.Manifest) {
			if _, err := f.store.Write(ctx, f.store.BlobPath(strings.Repeat("ab", 32)), []byte("stray")); err != nil {
				t.Fatal(err)
			}
		}, ExitOK, []string{"ORPHAN blob abab", "0 damaged, 1 orphans"}, ExitDamage},
		{"bad manifest log entry", func(t *testing.T, f *fixture, m *manifest.Manifest) {
			flip(t, f.store, manifest.LogEntryKey(manifest.Seq(m.LogSeq)), func(n int) int { return n - 2 })
		}, ExitDamage, []string{"DAMAGE manifest/log/"}, ExitDamage},
	}
	testutil.ForEach(t, testutil.Core, func(t *testing.T, b testutil.Backend) {
		for _, tc := range cases {
			t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
				f := newFixture(t, b)
				f.populate()
				m := f.manifest()
				tc.damage(t, f, m)
				out := f.must(tc.code, "verify")
				for _, w := range tc.want {
					wantContains(t, out, w)
				}
				f.must(tc.strict, "verify", "-strict", "-q")
			})
		}
	})
}

// TestUsageErrors: wrong URLs, empty buckets, unknown verbs and flags.
func TestUsageErrors(t *testing.T) {
	run := func(env Env, args ...string) (string, int) {
		var out, errb bytes.Buffer
		env.Stdout, env.Stderr = &out, &errb
		env.Getenv = func(string) string { return "" }
		code := Run(context.Background(), env, args)
		return errb.String(), code
	}
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{nil, ExitUsage, "usage: isledb"},
		{[]string{"help"}, ExitOK, "verbs:"},
		{[]string{"frobnicate"}, ExitUsage, `unknown verb "frobnicate"`},
		{[]string{"-bogus", "ls"}, ExitUsage, "flag provided but not defined: -bogus"},
		{[]string{"-url", "file://" + dir, "ls", "-bogus"}, ExitUsage, "flag provided but not defined: -bogus"},
		{[]string{"ls", "-url", "file://" + dir}, ExitUsage, "go before the verb"},
		{[]string{"ls"}, ExitUsage, "no bucket: give -url"},
		{[]string{"-url", "ftp://host/x", "ls"}, ExitUsage, "unsupported bucket URL scheme"},
		{[]string{"-url", "file://" + dir, "ls"}, ExitNoDatabase, "no database in bucket"},
		{[]string{"-url", "file://" + dir, "verify"}, ExitNoDatabase, "no database in bucket"},
		{[]string{"-url", "file://" + dir, "get", "k"}, ExitNoDatabase, "no database in bucket"},
		{[]string{"-url", "file://" + dir, "get"}, ExitUsage, "want 1 argument"},
		{[]string{"-url", "mem://", "gc", "-grace", "-1s"}, ExitUsage, "want a positive duration"},
		{[]string{"-url", "file://" + dir, "scan", "-h"}, ExitOK, "usage: isledb [-url URL] [-prefix PREFIX] scan"},
	} {
		errs, code := run(Env{}, tc.args...)
		if code != tc.code || !strings.Contains(errs, tc.want) {
			t.Errorf("isledb %s: exit %d, stderr:\n%s\nwant exit %d and %q", strings.Join(tc.args, " "), code, errs, tc.code, tc.want)
		}
	}
	// ISLEDB_URL stands in for -url.
	var out, errb bytes.Buffer
	code := Run(context.Background(), Env{Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
		if k == "ISLEDB_URL" {
			return "file://" + dir
		}
		return ""
	}}, []string{"ls"})
	if code != ExitNoDatabase {
		t.Errorf("ISLEDB_URL: exit %d: %s", code, errb.String())
	}
}
