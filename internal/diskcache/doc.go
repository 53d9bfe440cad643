// Package diskcache keeps immutable files fetched from the bucket in a local directory, up
// to a byte budget, evicting the least recently used. The reader uses one Cache for whole SST
// files and one for blob values.
//
// # Usage
//
//	c, err := diskcache.Open(dir, diskcache.Options{Capacity: 1 << 30})
//	...
//	data, err := c.GetOrFetch(ctx, name, func(ctx context.Context) ([]byte, error) {
//		return bucket.Get(ctx, "blob/"+name)
//	})
//
// Get returns a Handle (an io.ReaderAt of known size) on the item's file; ReadAll returns
// its bytes; Put stores an item; Create streams one in (a Writer: Write, then Commit or
// Abort), reserving its size first; GetOrFetch and OpenOrFetch do both, with concurrent
// misses on one name sharing a single fetch.
//
// # Names and files
//
// Items are named by the caller: an SST id, a blob's hex digest. Names are validated (see
// ValidateName) and mapped one-to-one to file names in the directory, escaping the bytes
// that are not lower-case letters, digits, '.', '_' or '-'. Items are immutable: a name
// always denotes the same bytes, so Put of a name already held does nothing, and two
// concurrent Puts of one name are harmless.
//
// # Guarantees
//
//   - The bytes of the items held, plus the sizes reserved by Writers in progress, never
//     exceed Options.Capacity after a Put or Create returns (a
//     Handle held open keeps an evicted file's space until it is closed; see Get). A user
//     that keeps Handles open learns of each eviction through Options.OnEvict, to close
//     them and so keep the real disk use within Capacity.
//   - Put writes "~<random>.tmp" and renames it to the item's file, so a process crash never
//     leaves a partial file under an item's name; Open deletes leftover temporary files.
//     Nothing is fsynced: after an operating-system crash or power loss, a file may be
//     empty or short. Open discards empty files, ReadAll drops (as a miss) a file whose
//     size is no longer its item's (shorter, or grown since it was stored or adopted), and
//     callers verify what they read (SST checksums, blob lengths and digests) and Remove an
//     item that fails.
//   - Open adopts the files already in the directory, ordered by modification time (which
//     hits refresh, at most every ten minutes per item), and evicts down to capacity.
//   - All methods are safe for concurrent use. A Get racing with the eviction of its item
//     either succeeds or misses; it never fails because of the race.
//   - A directory must be used by one Cache at a time.
package diskcache
