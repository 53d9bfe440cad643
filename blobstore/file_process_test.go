package blobstore_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/isledb/isledb/blobstore"
)

const (
	childDirEnv = "ISLEDB_BLOBSTORE_CHILD_DIR"
	childIDEnv  = "ISLEDB_BLOBSTORE_CHILD_ID"
	raceKeys    = 60
	casEach     = 40
)

// TestFileTwoProcesses runs two processes against one directory: they race
// WriteIfNotExist on the same keys (each key must have exactly one winner, across both)
// and increment one counter with WriteIfMatch (no increment may be lost).
func TestFileTwoProcesses(t *testing.T) {
	if os.Getenv(childDirEnv) != "" {
		t.Skip("child")
	}
	dir := t.TempDir()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	s, err := blobstore.NewFile(ctx, dir, "shared")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Write(ctx, "counter", []byte("0")); err != nil {
		t.Fatal(err)
	}
	outs := make([]bytes.Buffer, 2)
	var wg sync.WaitGroup
	for i := range 2 {
		cmd := exec.Command(exe, "-test.run=^TestFileProcessChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), childDirEnv+"="+dir, childIDEnv+"="+strconv.Itoa(i))
		cmd.Stdout = &outs[i]
		cmd.Stderr = &outs[i]
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := cmd.Wait(); err != nil {
				t.Errorf("child %d: %v\n%s", i, err, outs[i].String())
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	winners := map[int][]string{}
	for i := range 2 {
		sc := bufio.NewScanner(&outs[i])
		for sc.Scan() {
			var k int
			var who string
			if n, _ := fmt.Sscanf(sc.Text(), "won %d %s", &k, &who); n == 2 {
				winners[k] = append(winners[k], who)
			}
		}
	}
	for k := range raceKeys {
		if len(winners[k]) != 1 {
			t.Errorf("key %d: winners %v, want exactly one", k, winners[k])
			continue
		}
		data, _, err := s.Read(ctx, fmt.Sprintf("race/%d", k))
		if err != nil || string(data) != winners[k][0] {
			t.Errorf("key %d holds %q (%v), winner %s", k, data, err, winners[k][0])
		}
	}
	data, _, err := s.Read(ctx, "counter")
	if err != nil || string(data) != strconv.Itoa(2*casEach) {
		t.Fatalf("counter = %q (%v), want %d: an increment was lost", data, err, 2*casEach)
	}
	// Nothing but the prefix and the temporary directory at the top of the directory,
	// and no temporary files left behind.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "shared" && e.Name() != ".isledb-tmp" {
			t.Errorf("unexpected entry %s", e.Name())
		}
	}
	tmps, _ := filepath.Glob(filepath.Join(dir, ".isledb-tmp", "w-*"))
	if len(tmps) != 0 {
		t.Errorf("temporary files left behind: %v", tmps)
	}
}

// TestFileProcessChild is the child side of TestFileTwoProcesses.
func TestFileProcessChild(t *testing.T) {
	dir, id := os.Getenv(childDirEnv), os.Getenv(childIDEnv)
	if dir == "" {
		t.Skip("run by TestFileTwoProcesses")
	}
	s, err := blobstore.NewFile(ctx, dir, "shared")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var mu sync.Mutex
	var out strings.Builder
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range raceKeys {
				me := fmt.Sprintf("p%s-g%d", id, g)
				_, err := s.WriteIfNotExist(ctx, fmt.Sprintf("race/%d", k), []byte(me))
				if err == nil {
					mu.Lock()
					fmt.Fprintf(&out, "won %d %s\n", k, me)
					mu.Unlock()
				} else if !errors.Is(err, blobstore.ErrPreconditionFailed) {
					t.Error(err)
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range casEach {
			if err := casIncrement(s, "counter"); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	wg.Wait()
	fmt.Print(out.String())
}
