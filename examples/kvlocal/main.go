// Command kvlocal shows the local typed store, package kv: typed puts and gets, a prefix
// scan, a delete, and the data still there after the store is closed and opened again.
//
//	go run ./examples/kvlocal -dir ./kvlocal-data
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/isledb/isledb/kv"
)

func main() {
	dir := flag.String("dir", "kvlocal-data", "the store's directory")
	flag.Parse()
	if err := run(*dir, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(dir string, out io.Writer) error {
	s, err := kv.Open(kv.DefaultOptions(dir))
	if err != nil {
		return err
	}
	_ = s.PutString([]byte("user:1:name"), "Ada")
	_ = s.PutInt64([]byte("user:1:visits"), 41)
	_ = s.PutBool([]byte("user:2:admin"), true)
	if err := s.PutFloat64([]byte("pi"), 3.14159); err != nil { // every Put is on disk once it returns
		return err
	}
	n, _ := s.GetInt64([]byte("user:1:visits"))
	_ = s.PutInt64([]byte("user:1:visits"), n+1)
	if _, err := s.GetString([]byte("pi")); errors.Is(err, kv.ErrTypeMismatch) {
		fmt.Fprintln(out, "pi is not a string:", err)
	}
	_ = s.Delete([]byte("user:2:admin"))
	if err := s.Close(); err != nil {
		return err
	}

	s, err = kv.Open(kv.DefaultOptions(dir)) // reopened: everything is still there
	if err != nil {
		return err
	}
	defer s.Close()
	err = s.ScanPrefix([]byte("user:"), func(key []byte, v kv.Value) bool {
		fmt.Fprintf(out, "%s = %v\n", key, v)
		return true
	})
	fmt.Fprintln(out, s.Stats().String())
	return err
}
