package blobstore

import (
	"fmt"
	"sync/atomic"
)

// Stats counts the requests a Store sent and the bytes it moved. Every attempt counts,
// retries included. Use Sub to measure one operation.
type Stats struct {
	Gets          int64 // whole-object GETs
	RangedGets    int64 // GETs of a byte range
	Heads         int64 // attribute requests
	Puts          int64 // unconditional writes
	CondPuts      int64 // conditional writes (put-if-absent, if-match)
	Lists         int64 // list pages
	Deletes       int64 // deletes (each key of a BatchDelete counts once)
	BytesRead     int64 // payload bytes received by GETs
	BytesWritten  int64 // payload bytes sent by PUTs
	Retries       int64 // attempts that were retries of a failed attempt
	RequestErrors int64 // attempts that failed (not-found and precondition failures excluded)
}

// Requests is the total number of requests of every kind.
func (s Stats) Requests() int64 {
	return s.Gets + s.RangedGets + s.Heads + s.Puts + s.CondPuts + s.Lists + s.Deletes
}

// Sub returns s minus o, field by field: the requests made between two snapshots.
func (s Stats) Sub(o Stats) Stats {
	return Stats{
		Gets: s.Gets - o.Gets, RangedGets: s.RangedGets - o.RangedGets, Heads: s.Heads - o.Heads,
		Puts: s.Puts - o.Puts, CondPuts: s.CondPuts - o.CondPuts, Lists: s.Lists - o.Lists,
		Deletes: s.Deletes - o.Deletes, BytesRead: s.BytesRead - o.BytesRead,
		BytesWritten: s.BytesWritten - o.BytesWritten, Retries: s.Retries - o.Retries,
		RequestErrors: s.RequestErrors - o.RequestErrors,
	}
}

// String formats the counts on one line.
func (s Stats) String() string {
	return fmt.Sprintf("GET %d, ranged GET %d, HEAD %d, PUT %d, conditional PUT %d, LIST %d, DELETE %d; read %d B, written %d B; retries %d, errors %d",
		s.Gets, s.RangedGets, s.Heads, s.Puts, s.CondPuts, s.Lists, s.Deletes,
		s.BytesRead, s.BytesWritten, s.Retries, s.RequestErrors)
}

// counters is the live, atomically updated form of Stats.
type counters struct {
	gets, rangedGets, heads, puts, condPuts, lists, deletes atomic.Int64
	bytesRead, bytesWritten, retries, requestErrors         atomic.Int64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Gets: c.gets.Load(), RangedGets: c.rangedGets.Load(), Heads: c.heads.Load(),
		Puts: c.puts.Load(), CondPuts: c.condPuts.Load(), Lists: c.lists.Load(),
		Deletes: c.deletes.Load(), BytesRead: c.bytesRead.Load(),
		BytesWritten: c.bytesWritten.Load(), Retries: c.retries.Load(),
		RequestErrors: c.requestErrors.Load(),
	}
}
