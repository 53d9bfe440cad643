package sstable

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/isledb/isledb/internal/base"
)

// sampleSST is a small file with compressed and uncompressed data blocks, a filter, an index
// and properties: the subject of the bit-flip test and the seed of the fuzzers.
func sampleSST(t testing.TB) ([]byte, []Entry) {
	es := goldenEntries()
	data, _ := build(t, es, WriterOptions{BlockSize: 256, Compression: "snappy", CreationTime: fixedTime})
	return data, es
}

// mustBeCorruption fails unless err matches base.ErrCorruption.
func mustBeCorruption(t testing.TB, what string, err error) {
	t.Helper()
	if !errors.Is(err, base.ErrCorruption) {
		t.Fatalf("%s: error %v does not match base.ErrCorruption", what, err)
	}
}

// exercise reads everything through r: a full scan and a Get of every key in want. It
// checks that every answer is either an error matching base.ErrCorruption or exactly what
// want says: damage may stop a read, never falsify one. It returns whether any read failed.
func exercise(t testing.TB, r *Reader, want []Entry) (failed bool) {
	t.Helper()
	it := r.NewIter(ctx, IterOptions{})
	n := 0
	for ok := it.First(); ok; ok = it.Next() {
		if n >= len(want) || !equalEntry(it.Entry(), want[n]) {
			t.Fatalf("scan returned wrong entry %d: %q#%d", n, it.Key(), it.Seq())
		}
		n++
	}
	if err := it.Close(); err != nil {
		mustBeCorruption(t, "scan", err)
		failed = true
	} else if n != len(want) {
		t.Fatalf("scan ended cleanly after %d of %d entries", n, len(want))
	}
	for k, e := range newest(want) {
		got, ok, err := r.Get(ctx, []byte(k))
		if err != nil {
			mustBeCorruption(t, "Get", err)
			failed = true
			continue
		}
		if !ok || !equalEntry(got, e) {
			t.Fatalf("Get(%q) returned wrong data: %+v, %v", k, got, ok)
		}
	}
	return failed
}

// TestEveryBitFlipDetected flips each bit of a sample file in turn and checks that the
// damage is always detected: by Open, by a read that touches it, and in any case by Verify.
func TestEveryBitFlipDetected(t *testing.T) {
	orig, es := sampleSST(t)
	data := make([]byte, len(orig))
	var openFails, readFails int
	for bit := 0; bit < len(orig)*8; bit++ {
		copy(data, orig)
		data[bit/8] ^= 1 << (bit % 8)
		modes := []func() (*Reader, error){func() (*Reader, error) { return OpenBytes(data, ReaderOptions{}) }}
		if bit%5 == 0 {
			modes = append(modes, func() (*Reader, error) {
				return Open(ctx, remote(data), ReaderOptions{TailReadSize: 300})
			})
		}
		for _, open := range modes {
			r, err := open()
			if err != nil {
				mustBeCorruption(t, "Open", err)
				openFails++
				continue
			}
			if exercise(t, r, es) {
				readFails++
			}
			_, err = r.Verify(ctx)
			if err == nil {
				t.Fatalf("flip of bit %d (byte %d) not detected by Verify", bit, bit/8)
			}
			mustBeCorruption(t, "Verify", err)
		}
	}
	t.Logf("%d bits: %d detected at open, %d by reads, all by Verify", len(orig)*8, openFails, readFails)
}

func TestTruncationDetected(t *testing.T) {
	orig, _ := sampleSST(t)
	for n := 0; n < len(orig); n++ {
		if _, err := OpenBytes(orig[:n], ReaderOptions{}); err == nil {
			t.Fatalf("file truncated to %d bytes opened", n)
		} else {
			mustBeCorruption(t, "Open truncated", err)
		}
	}
	// Garbage appended moves the footer: also detected.
	if _, err := OpenBytes(append(append([]byte(nil), orig...), 0), ReaderOptions{}); err == nil {
		t.Fatal("file with a trailing byte opened")
	}
}

func TestUnsupportedVersion(t *testing.T) {
	orig, _ := sampleSST(t)
	data := append([]byte(nil), orig...)
	f := data[len(data)-footerLen:]
	f[48] = 2
	resealFooter(f) // so that only the version is wrong

	_, err := OpenBytes(data, ReaderOptions{})
	if !errors.Is(err, ErrUnsupportedVersion) || !errors.Is(err, base.ErrCorruption) {
		t.Fatalf("Open of a version 2 file: %v", err)
	}
}

// resealFooter recomputes a footer's checksum after a test edited it.
func resealFooter(f []byte) {
	var ft footer
	le := func(o int) uint64 {
		var v uint64
		for i := 7; i >= 0; i-- {
			v = v<<8 | uint64(f[o+i])
		}
		return v
	}
	ft.filter = blockHandle{le(0), le(8)}
	ft.index = blockHandle{le(16), le(24)}
	ft.props = blockHandle{le(32), le(40)}
	ft.version = uint32(f[48]) | uint32(f[49])<<8 | uint32(f[50])<<16 | uint32(f[51])<<24
	copy(f, ft.encode())
}

// fuzzSeeds returns valid files for the fuzzers' corpora.
func fuzzSeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	orig, _ := sampleSST(t)
	seeds = append(seeds, orig)
	for _, g := range goldenFiles {
		if b, err := os.ReadFile(filepath.Join("testdata", g.name)); err == nil {
			seeds = append(seeds, b)
		}
	}
	for _, c := range []string{"none", "zstd", "lz4"} {
		b, _ := build(t, goldenEntries()[:10], WriterOptions{BlockSize: 64, Compression: c, BloomBitsPerKey: NoBloomFilter})
		seeds = append(seeds, b)
	}
	empty, _ := build(t, nil, WriterOptions{})
	return append(seeds, empty)
}

// FuzzOpen opens arbitrary bytes as an SST and reads all of it. Whatever the input, the
// package must not panic, every error must be a corruption error, and whenever Verify
// accepts the file, the scan and the lookups must agree with each other.
func FuzzOpen(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, open := range []func() (*Reader, error){
			func() (*Reader, error) { return OpenBytes(data, ReaderOptions{}) },
			func() (*Reader, error) {
				return Open(ctx, remote(data), ReaderOptions{TailReadSize: 128, Cache: NewLRUCache(1 << 20)})
			},
		} {
			r, err := open()
			if err != nil {
				mustBeCorruption(t, "Open", err)
				continue
			}
			var scanned []Entry
			it := r.NewIter(ctx, IterOptions{})
			for ok := it.First(); ok; ok = it.Next() {
				e := it.Entry()
				e.Key = append([]byte(nil), e.Key...)
				scanned = append(scanned, e)
			}
			scanErr := it.Close()
			if scanErr != nil {
				mustBeCorruption(t, "scan", scanErr)
			}
			_, verr := r.Verify(ctx)
			if verr != nil {
				mustBeCorruption(t, "Verify", verr)
				continue
			}
			if scanErr != nil {
				t.Fatalf("Verify accepted a file whose scan failed: %v", scanErr)
			}
			if uint64(len(scanned)) != r.Properties().EntryCount {
				t.Fatalf("scanned %d entries, properties say %d", len(scanned), r.Properties().EntryCount)
			}
			for k, e := range newest(scanned) {
				got, ok, err := r.Get(ctx, []byte(k))
				if err != nil || !ok || !equalEntry(got, e) {
					t.Fatalf("Get(%q) = %+v %v %v, scan found %+v", k, got, ok, err, e)
				}
			}
		}
	})
}

// FuzzBitFlip damages a valid file at up to two places and checks that reads either fail
// with a corruption error or return exactly the original data, and that Verify notices.
func FuzzBitFlip(f *testing.F) {
	orig, es := sampleSST(f)
	f.Add(uint32(0), uint8(1), uint32(0), uint8(0))
	f.Add(uint32(len(orig)-1), uint8(0x80), uint32(500), uint8(0x10))
	f.Add(uint32(len(orig)-30), uint8(0xff), uint32(len(orig)-200), uint8(1))
	f.Fuzz(func(t *testing.T, off1 uint32, mask1 uint8, off2 uint32, mask2 uint8) {
		data := append([]byte(nil), orig...)
		data[int(off1)%len(data)] ^= mask1
		data[int(off2)%len(data)] ^= mask2
		changed := !bytes.Equal(data, orig)
		r, err := OpenBytes(data, ReaderOptions{})
		if err != nil {
			mustBeCorruption(t, "Open", err)
			return
		}
		exercise(t, r, es)
		_, err = r.Verify(ctx)
		if changed && err == nil {
			t.Fatalf("damage at %d/%#x and %d/%#x not detected", off1, mask1, off2, mask2)
		}
		if !changed && err != nil {
			t.Fatalf("Verify rejected an intact file: %v", err)
		}
	})
}

// FuzzBlock decodes arbitrary block contents with both block readers and checks that they
// agree and never panic.
func FuzzBlock(f *testing.F) {
	var b blockBuilder
	b.restartInterval = 2
	for i, k := range []string{"a", "ab", "abc", "abd", "b", "b", "c"} {
		b.add([]byte(k), makeTrailer(base.SeqNum(10-i), base.KindValue, i%3 == 0), int64(i+1), []byte(k+"v"))
	}
	f.Add(append([]byte(nil), b.finish()...), []byte("abc"))
	f.Add([]byte{0, 0, 0, 0}, []byte(""))
	f.Fuzz(func(t *testing.T, data, key []byte) {
		var it blockIter
		if it.init(data, "fuzz", 0) != nil {
			return
		}
		n := 0
		for ok := it.first(); ok && n < 100000; ok = it.nextEntry() {
			n++
		}
		var sit blockIter
		if sit.init(data, "fuzz", 0) != nil {
			t.Fatal("second init failed")
		}
		sok := sit.seekGE(key)
		e, found, _, problem := blockGet(data, key)
		if problem != "" || sit.err != nil {
			return // damage: both may notice at different points
		}
		if found != (sok && bytes.Equal(sit.key, key)) {
			t.Fatalf("blockGet found=%v, seekGE at %q (ok=%v)", found, sit.key, sok)
		}
		if found && (e.trailer != sit.trailer || !bytes.Equal(e.value, sit.value) || e.expiry != sit.expiry) {
			t.Fatalf("blockGet and seekGE disagree")
		}
	})
}

// FuzzMetaDecoders feeds arbitrary bytes to the decoders of properties, filter and index
// contents, footers and compressed payloads.
func FuzzMetaDecoders(f *testing.F) {
	p := Properties{EntryCount: 3, MinKey: []byte("a"), MaxKey: []byte("z"), Compression: "zstd", CreationTime: fixedTime}
	f.Add(p.encode(nil), uint8(0))
	f.Add(buildBloom([]uint64{1, 2, 3}, 10), uint8(1))
	orig, _ := sampleSST(f)
	f.Add(orig[len(orig)-footerLen:], uint8(2))
	payload, _ := compressBlock(CompressionZstd, nil, bytes.Repeat([]byte("abcd"), 100))
	f.Add(payload, uint8(3))
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		switch which % 8 {
		case 0:
			if p, err := decodeProperties(data); err == nil {
				// Whatever decodes must survive a round trip of the known tags.
				if _, err := decodeProperties(p.encode(nil)); err != nil {
					t.Fatalf("re-encoded properties do not decode: %v", err)
				}
			}
		case 1:
			if fl, err := decodeBloom(data); err == nil {
				fl.mayContain(hash64(data))
			}
		case 2:
			if len(data) >= footerLen {
				fb := append([]byte(nil), data[:footerLen]...)
				resealFooter(fb)
				copy(fb[56:], footerMagic)
				decodeFooter(fb, int64(len(data))+footerLen, "fuzz")
			}
		case 3:
			decodeIndex(data, "fuzz", 0, uint64(len(data)))
		default:
			c := Compression(which%8 - 4)
			if out, err := decompressBlock(c, data); err == nil && c != CompressionNone {
				n, _ := binary.Uvarint(data)
				if uint64(len(out)) != n {
					t.Fatalf("decoded %d bytes, header said %d", len(out), n)
				}
			}
		}
	})
}
