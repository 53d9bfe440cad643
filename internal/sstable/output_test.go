package sstable

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"testing"
)

func TestOutputOrderAndHash(t *testing.T) {
	rng := rand.New(rand.NewPCG(31, 31))
	var dst bytes.Buffer
	o := newOutput(&dst)
	var want bytes.Buffer
	for i := 0; i < 800; i++ {
		p := make([]byte, rng.IntN(3000))
		if i%300 == 0 {
			p = make([]byte, outputChunkSize*2+7) // larger than a chunk
		}
		for j := range p {
			p[j] = byte(rng.Uint32())
		}
		want.Write(p)
		if n, err := o.Write(p); n != len(p) || err != nil {
			t.Fatal(n, err)
		}
	}
	if err := o.Flush(); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dst.Bytes(), want.Bytes()) {
		t.Fatal("bytes out of order")
	}
	if got, w := o.sum.Sum(nil), sha256.Sum256(want.Bytes()); !bytes.Equal(got, w[:]) {
		t.Fatal("hash differs")
	}
}

func TestOutputError(t *testing.T) {
	o := newOutput(&failingWriter{after: outputChunkSize + 10})
	chunk := make([]byte, 1000)
	var err error
	for i := 0; i < 2000 && err == nil; i++ {
		_, err = o.Write(chunk)
	}
	if err == nil {
		err = o.Flush()
	}
	if err == nil || err.Error() != "disk full" {
		t.Fatalf("error %v", err)
	}
	if _, err := o.Write(chunk); err == nil {
		t.Error("Write after an error succeeded")
	}
	if err := o.Flush(); err == nil {
		t.Error("Flush after an error succeeded")
	}
}
