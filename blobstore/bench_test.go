package blobstore_test

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"testing"

	"gocloud.dev/blob"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/testutil"
)

// BenchmarkS3 compares the Store with bare gocloud.dev calls on MinIO, in one run:
// whole-object Write and Read, and a 4 KiB ReadRange of a 1 MiB object. The wrapper's
// overhead is the difference between the "store" and "gocloud" rows.
func BenchmarkS3(b *testing.B) {
	ep := os.Getenv(testutil.EnvS3)
	if ep == "" {
		b.Skip(testutil.EnvS3 + " is not set")
	}
	url := "s3://" + testutil.Bucket + "?endpoint=" + ep + "&use_path_style=true&disable_https=true&region=us-east-1"
	prefix := testutil.UniquePrefix(b)
	store, err := blobstore.Open(ctx, url, prefix)
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	testutil.Backends(testutil.Core) // the bucket is created by the first store a test opens
	if _, err := store.Write(ctx, "probe", []byte("x")); err != nil {
		b.Skipf("bucket not ready (run the conformance tests first to create it): %v", err)
	}
	bkt, err := blob.OpenBucket(ctx, url)
	if err != nil {
		b.Fatal(err)
	}
	defer bkt.Close()

	for _, size := range []int{4 << 10, 256 << 10} {
		data := bytes.Repeat([]byte("isledb!!"), size/8)
		sz := strconv.Itoa(size>>10) + "KiB"
		b.Run("Write/"+sz+"/store", func(b *testing.B) {
			b.SetBytes(int64(size))
			for i := 0; b.Loop(); i++ {
				if _, err := store.Write(ctx, "w/"+strconv.Itoa(i%64), data); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("Write/"+sz+"/gocloud", func(b *testing.B) {
			b.SetBytes(int64(size))
			for i := 0; b.Loop(); i++ {
				if err := bkt.WriteAll(ctx, prefix+"/g/"+strconv.Itoa(i%64), data, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
		if _, err := store.Write(ctx, "r/"+sz, data); err != nil {
			b.Fatal(err)
		}
		b.Run("Read/"+sz+"/store", func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, _, err := store.Read(ctx, "r/"+sz); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("Read/"+sz+"/gocloud", func(b *testing.B) {
			b.SetBytes(int64(size))
			for b.Loop() {
				if _, err := bkt.ReadAll(ctx, prefix+"/r/"+sz); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	if _, err := store.Write(ctx, "big", big); err != nil {
		b.Fatal(err)
	}
	b.Run("ReadRange/4KiB/store", func(b *testing.B) {
		b.SetBytes(4 << 10)
		for i := 0; b.Loop(); i++ {
			if _, err := store.ReadRange(ctx, "big", int64(i%200)*4096, 4096); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ReadRange/4KiB/gocloud", func(b *testing.B) {
		b.SetBytes(4 << 10)
		buf := make([]byte, 4096)
		for i := 0; b.Loop(); i++ {
			r, err := bkt.NewRangeReader(ctx, prefix+"/big", int64(i%200)*4096, 4096, nil)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := io.ReadFull(r, buf); err != nil {
				b.Fatal(err)
			}
			r.Close()
		}
	})
}
