package blobstore

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// NewFile returns a Store over the local directory dir (created if missing), with keys
// under prefix. Objects are plain files at dir/prefix/key, so the directory can be copied
// to a bucket as it is.
//
// Writes go to a temporary file that is synced and then renamed (or, for WriteIfNotExist,
// hard-linked) into place, so readers never see part of an object and a write is durable
// when it returns. WriteIfNotExist is atomic across processes (link(2) fails if the name
// exists); WriteIfMatch, Write and Delete serialize per key through a lock file
// (flock(2)), also across processes. Temporary and lock files live in dir/.isledb-tmp.
func NewFile(ctx context.Context, dir, prefix string) (*Store, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := checkFileSegments(strings.TrimSuffix(prefix, "/")); err != nil {
		return nil, fmt.Errorf("blobstore: file store prefix %q: %w", prefix, err)
	}
	b, err := newFileBackend(dir)
	if err != nil {
		return nil, err
	}
	s, err := NewWithBackendChecked(b, filepath.Base(b.root), prefix)
	if err != nil {
		_ = b.Close()
		return nil, err
	}
	return s, nil
}

// fileTmpDir holds temporary files and lock stripes, at the root of the directory. Keys
// whose first segment is this name are refused, so no object can collide with it.
const fileTmpDir = ".isledb-tmp"

// MaxFileSegmentLength is the longest key segment the file backend stores, in bytes: each
// segment of a key (prefix included) is a file or directory name, and common file systems
// hold names of at most 255 bytes (NAME_MAX). A key with a longer segment is refused with
// ErrKeyTooLong before the file system is touched; so is, when the operating system
// reports it (ENAMETOOLONG), a key whose whole path is too long, or a segment a file
// system with a smaller limit refuses.
const MaxFileSegmentLength = 255

// checkFileSegments refuses a key or prefix with a segment longer than MaxFileSegmentLength.
func checkFileSegments(key string) error {
	for seg := range strings.SplitSeq(key, "/") {
		if len(seg) > MaxFileSegmentLength {
			return fmt.Errorf("%w: a segment (%.16q...) is %d bytes, more than the %d a file name holds",
				ErrKeyTooLong, seg, len(seg), MaxFileSegmentLength)
		}
	}
	return nil
}

// nameErr maps the operating system's refusal of a path too long (ENAMETOOLONG) to
// ErrKeyTooLong. The OS error, which only repeats the long path, is dropped.
func nameErr(err error) error {
	if err != nil && errors.Is(err, errNameTooLong) && !errors.Is(err, ErrInvalidKey) {
		return fmt.Errorf("%w: its file path is longer than the operating system accepts", ErrKeyTooLong)
	}
	return err
}

// fileLockStripes is how many lock files serialize conditional writes.
const fileLockStripes = 64

type fileBackend struct {
	root string
	tmp  string
}

var _ Backend = (*fileBackend)(nil)

func newFileBackend(dir string) (*fileBackend, error) {
	if dir == "" {
		return nil, errors.New("blobstore: file store: empty directory")
	}
	if strings.ContainsRune(dir, 0) {
		return nil, fmt.Errorf("%w: directory %q holds a NUL byte", ErrInvalidKey, dir)
	}
	root, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("blobstore: file store %q: %w", dir, err)
	}
	b := &fileBackend{root: root, tmp: filepath.Join(root, fileTmpDir)}
	if err := os.MkdirAll(filepath.Join(b.tmp, "locks"), 0o755); err != nil {
		return nil, fmt.Errorf("blobstore: file store %q: %w", dir, err)
	}
	return b, nil
}

// path maps a validated full key to its file. The key's segments were validated, so the
// result stays under root; the check is kept as a second line of defence.
func (b *fileBackend) path(key string) (string, error) {
	if first, _, _ := strings.Cut(key, "/"); first == fileTmpDir {
		return "", fmt.Errorf("%w: key %q uses the reserved name %s", ErrInvalidKey, key, fileTmpDir)
	}
	if err := checkFileSegments(key); err != nil {
		return "", err
	}
	p := filepath.Join(b.root, filepath.FromSlash(key))
	if !strings.HasPrefix(p, b.root+string(filepath.Separator)) {
		return "", fmt.Errorf("%w: key %q leaves the directory", ErrInvalidKey, key)
	}
	return p, nil
}

func (b *fileBackend) Get(_ context.Context, key string, offset, length int64) ([]byte, Attributes, error) {
	data, attrs, err := b.get(key, offset, length)
	return data, attrs, nameErr(err)
}

func (b *fileBackend) get(key string, offset, length int64) ([]byte, Attributes, error) {
	p, err := b.path(key)
	if err != nil {
		return nil, Attributes{}, err
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, Attributes{}, fileErr(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, Attributes{}, fileErr(err)
	}
	if fi.IsDir() {
		return nil, Attributes{}, ErrNotFound
	}
	size := fi.Size()
	if offset < 0 || offset > size {
		return nil, Attributes{}, fmt.Errorf("%w: offset %d of a %d-byte object", ErrInvalidRange, offset, size)
	}
	n := size - offset
	if length >= 0 && length < n {
		n = length
	}
	buf := make([]byte, n)
	if _, err := f.ReadAt(buf, offset); err != nil && !(errors.Is(err, io.EOF) && n == 0) {
		return nil, Attributes{}, fmt.Errorf("blobstore: read %s: %w", p, err)
	}
	return buf, fileAttrs(fi, ""), nil
}

func (b *fileBackend) Head(_ context.Context, key string) (Attributes, error) {
	attrs, err := b.head(key)
	return attrs, nameErr(err)
}

func (b *fileBackend) head(key string) (Attributes, error) {
	p, err := b.path(key)
	if err != nil {
		return Attributes{}, err
	}
	fi, err := os.Stat(p)
	if err != nil {
		return Attributes{}, fileErr(err)
	}
	if fi.IsDir() {
		return Attributes{}, ErrNotFound
	}
	return fileAttrs(fi, getWriteID(p)), nil
}

// fileAttrs derives attributes from a stat. The ETag joins inode, modification time (set
// explicitly, in nanoseconds, to a value never used before for the key) and size.
func fileAttrs(fi fs.FileInfo, writeID string) Attributes {
	return Attributes{
		Size:    fi.Size(),
		ETag:    fmt.Sprintf(`"%x-%x-%x"`, inode(fi), fi.ModTime().UnixNano(), fi.Size()),
		ModTime: fi.ModTime(),
		WriteID: writeID,
	}
}

func (b *fileBackend) Put(_ context.Context, key string, data []byte, opts PutOptions) (Attributes, error) {
	attrs, err := b.put(key, data, opts)
	return attrs, nameErr(err)
}

func (b *fileBackend) put(key string, data []byte, opts PutOptions) (Attributes, error) {
	p, err := b.path(key)
	if err != nil {
		return Attributes{}, err
	}
	dir := filepath.Dir(p)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Attributes{}, fmt.Errorf("blobstore: write %s: %w", p, err)
	}
	tmp, tmpInfo, err := b.writeTemp(data, opts.WriteID)
	if err != nil {
		return Attributes{}, err
	}
	defer os.Remove(tmp) // a no-op once renamed; removes the extra link after link(2)

	if opts.IfNotExist {
		// link(2) fails with EEXIST if the name exists: an atomic create-if-absent that
		// holds across processes. The mtime set in writeTemp is new, so the ETag is too.
		if err := os.Link(tmp, p); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return Attributes{}, fmt.Errorf("%w: object exists", ErrPreconditionFailed)
			}
			return Attributes{}, fmt.Errorf("blobstore: write %s: %w", p, err)
		}
		return b.finish(dir, tmpInfo, opts.WriteID)
	}

	unlock, err := b.lock(key)
	if err != nil {
		return Attributes{}, err
	}
	defer unlock()
	cur, statErr := os.Stat(p)
	if statErr != nil && !errors.Is(statErr, fs.ErrNotExist) {
		return Attributes{}, fmt.Errorf("blobstore: write %s: %w", p, statErr)
	}
	if opts.IfMatch != "" {
		if statErr != nil {
			return Attributes{}, fmt.Errorf("%w: no object to match", ErrPreconditionFailed)
		}
		if etag := fileAttrs(cur, "").ETag; etag != opts.IfMatch {
			return Attributes{}, fmt.Errorf("%w: ETag is %s, not %s", ErrPreconditionFailed, etag, opts.IfMatch)
		}
	}
	if statErr == nil {
		// Never reuse a modification time for a key: the ETag must change on every write
		// even when the clock is coarse or stepped back.
		if next := cur.ModTime().Add(time.Nanosecond); !next.Before(time.Now()) {
			if err := os.Chtimes(tmp, next, next); err != nil {
				return Attributes{}, fmt.Errorf("blobstore: write %s: %w", p, err)
			}
			if tmpInfo, err = os.Stat(tmp); err != nil {
				return Attributes{}, fmt.Errorf("blobstore: write %s: %w", p, err)
			}
		}
	}
	if err := os.Rename(tmp, p); err != nil {
		return Attributes{}, fmt.Errorf("blobstore: write %s: %w", p, err)
	}
	return b.finish(dir, tmpInfo, opts.WriteID)
}

// writeTemp writes data to a new synced temporary file, stamps it with a fresh
// nanosecond modification time and the write id, and returns its path and FileInfo.
func (b *fileBackend) writeTemp(data []byte, writeID string) (string, fs.FileInfo, error) {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(b.tmp, "w-"+hex.EncodeToString(rnd[:]))
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", nil, fmt.Errorf("blobstore: write temp file: %w", err)
	}
	_, werr := f.Write(data)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		now := time.Now()
		werr = os.Chtimes(tmp, now, now)
	}
	if werr == nil && writeID != "" {
		setWriteID(tmp, writeID)
	}
	var fi fs.FileInfo
	if werr == nil {
		fi, werr = os.Stat(tmp)
	}
	if werr != nil {
		_ = os.Remove(tmp)
		return "", nil, fmt.Errorf("blobstore: write temp file: %w", werr)
	}
	return tmp, fi, nil
}

// finish makes the new name durable and returns the object's attributes, from the inode
// that was linked or renamed into place: a concurrent delete of the new object cannot make
// a write that landed look failed.
func (b *fileBackend) finish(dir string, fi fs.FileInfo, writeID string) (Attributes, error) {
	if err := syncDir(dir); err != nil {
		return Attributes{}, fmt.Errorf("blobstore: sync %s: %w", dir, err)
	}
	return fileAttrs(fi, writeID), nil
}

// lock takes the stripe lock of key, shared by all processes using the directory.
func (b *fileBackend) lock(key string) (func(), error) {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	name := filepath.Join(b.tmp, "locks", fmt.Sprintf("%02d", h.Sum32()%fileLockStripes))
	return lockFile(name)
}

func (b *fileBackend) Delete(_ context.Context, key string) error {
	return nameErr(b.delete(key))
}

func (b *fileBackend) delete(key string) error {
	p, err := b.path(key)
	if err != nil {
		return err
	}
	unlock, err := b.lock(key)
	if err != nil {
		return err
	}
	defer unlock()
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("blobstore: delete %s: %w", p, err)
	}
	return nil
}

func (b *fileBackend) List(_ context.Context, opts ListOptions) (*ListResult, error) {
	if err := checkFileSegments(opts.Prefix); err != nil {
		return nil, err
	}
	res, err := b.list(opts)
	return res, nameErr(err)
}

func (b *fileBackend) list(opts ListOptions) (*ListResult, error) {
	if opts.PageSize <= 0 {
		opts.PageSize = defaultPageSize
	}
	// Walk only the deepest directory the prefix names.
	start := b.root
	if i := strings.LastIndex(opts.Prefix, "/"); i >= 0 {
		start = filepath.Join(b.root, filepath.FromSlash(opts.Prefix[:i]))
	}
	type entry struct {
		key string
		fi  fs.FileInfo
	}
	var entries []entry
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			if p == b.tmp {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(b.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, opts.Prefix) || key <= opts.PageToken {
			return nil
		}
		fi, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // deleted while listing
		}
		if err != nil {
			return err
		}
		entries = append(entries, entry{key, fi})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("blobstore: list %q: %w", opts.Prefix, err)
	}
	// WalkDir orders names within a directory, not whole keys ("a-b" < "a/c").
	sort.Slice(entries, func(i, j int) bool { return entries[i].key < entries[j].key })
	res := &ListResult{}
	for i, e := range entries {
		if i == opts.PageSize {
			res.NextPageToken = entries[i-1].key
			break
		}
		a := fileAttrs(e.fi, "")
		res.Objects = append(res.Objects, ObjectInfo{Key: e.key, Size: a.Size, ETag: a.ETag, ModTime: a.ModTime})
	}
	return res, nil
}

func (b *fileBackend) Close() error { return nil }

// fileErr maps a missing file to ErrNotFound.
func fileErr(err error) error {
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errNotDir) {
		return fmt.Errorf("%w: %v", ErrNotFound, err)
	}
	return err
}
