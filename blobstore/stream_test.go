package blobstore_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/isledb/isledb/blobstore"
	"github.com/isledb/isledb/internal/testutil"
)

// testReadTo: ReadTo copies a whole object (empty, small, several MiB) to a writer with
// its attributes, as one GET; a missing object is ErrNotFound with nothing written; an
// error of the writer is returned.
func testReadTo(t *testing.T, _ testutil.Backend, s *blobstore.Store) {
	for _, n := range []int{0, 1000, 3<<20 + 17} {
		data := bytes.Repeat([]byte{byte(n)}, n)
		for i := range data {
			data[i] ^= byte(i * 7)
		}
		key := "readto/obj"
		a := mustWrite(t, s, key, data)
		before := s.Stats()
		var buf bytes.Buffer
		attrs, copied, err := s.ReadTo(ctx, key, &buf)
		if err != nil || copied != int64(n) || !bytes.Equal(buf.Bytes(), data) {
			t.Fatalf("ReadTo(%d bytes) = %d bytes copied, %d in the writer, %v", n, copied, buf.Len(), err)
		}
		if attrs.Size != int64(n) || attrs.ETag != a.ETag {
			t.Fatalf("ReadTo attributes %+v, want size %d and ETag %s", attrs, n, a.ETag)
		}
		if d := s.Stats().Sub(before); d.Gets != 1 || d.Requests() != 1 || d.BytesRead != int64(n) {
			t.Fatalf("ReadTo sent %v, want one GET of %d bytes", d, n)
		}
	}
	var buf bytes.Buffer
	if _, _, err := s.ReadTo(ctx, "readto/nope", &buf); !errors.Is(err, blobstore.ErrNotFound) || buf.Len() != 0 {
		t.Fatalf("ReadTo of a missing object: %v (%d bytes written), want ErrNotFound", err, buf.Len())
	}
	mustWrite(t, s, "readto/obj", []byte("some bytes"))
	boom := errors.New("boom")
	if _, _, err := s.ReadTo(ctx, "readto/obj", failWriter{boom}); !errors.Is(err, boom) {
		t.Fatalf("ReadTo into a failing writer: %v, want its error", err)
	}
}

type failWriter struct{ err error }

func (f failWriter) Write([]byte) (int, error) { return 0, f.err }
