package memtable

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/isledb/isledb/internal/base"
)

// fill adds n entries "<tag>-%06d" = value of vlen bytes derived from tag and i.
func fill(m *Memtable, tag string, n, vlen int, seq0 base.SeqNum) {
	for i := range n {
		m.Add(seq0+base.SeqNum(i), base.KindValue, fmt.Appendf(nil, "%s-%06d", tag, i), poolValue(tag, i, vlen), 0)
	}
}

func poolValue(tag string, i, vlen int) []byte {
	v := bytes.Repeat([]byte(tag), vlen/len(tag)+1)[:vlen]
	copy(v, fmt.Sprint(i))
	return v
}

// checkOnly asserts that m holds exactly the n entries fill(m, tag, n, vlen) added.
func checkOnly(t *testing.T, m *Memtable, tag string, n, vlen int) {
	t.Helper()
	it := m.NewIterator()
	i := 0
	for ok := it.First(); ok; ok = it.Next() {
		e := it.Entry()
		if want := fmt.Sprintf("%s-%06d", tag, i); string(e.Key) != want || !bytes.Equal(e.Value, poolValue(tag, i, vlen)) {
			t.Fatalf("entry %d = %q (%d bytes), want %q", i, e.Key, len(e.Value), want)
		}
		i++
	}
	if i != n || m.Len() != n {
		t.Fatalf("iterated %d entries, Len %d, want %d", i, m.Len(), n)
	}
}

// TestPoolReuse: a memtable built on slabs a retired one gave back holds exactly its own
// entries (none of the old ones show through, whatever the slabs held), and takes its
// slabs from the pool rather than allocating.
func TestPoolReuse(t *testing.T) {
	p := NewPool(64 << 20)
	a := p.New()
	fill(a, "old", 20000, 100, 1)
	checkOnly(t, a, "old", 20000, 100)
	held := p.Stats().InUse
	if held < a.Size() {
		t.Fatalf("InUse %d below the memtable's size %d", held, a.Size())
	}
	a.Unref()
	s := p.Stats()
	if s.InUse != 0 || s.Idle != held {
		t.Fatalf("after Unref: %+v, want InUse 0, Idle %d", s, held)
	}
	b := p.New()
	fill(b, "new", 5000, 60, 1) // fewer, shorter: old bytes remain past them in the slabs
	checkOnly(t, b, "new", 5000, 60)
	for _, k := range []string{"old-000000", "old-004999", "old-019999"} {
		if e, ok := b.Get([]byte(k)); ok {
			t.Fatalf("Get(%s) found %q in the new memtable", k, e.Value)
		}
	}
	s = p.Stats()
	if s.Idle+s.InUse != held {
		t.Fatalf("new memtable allocated: InUse %d + Idle %d, want the %d bytes of the first", s.InUse, s.Idle, held)
	}
	b.Unref()
}

// TestPoolIdleBudget: the pool keeps at most its idle budget; the rest is freed.
func TestPoolIdleBudget(t *testing.T) {
	const budget = 3 << 20
	p := NewPool(budget)
	ms := []*Memtable{p.New(), p.New(), p.New()}
	for i, m := range ms {
		fill(m, fmt.Sprint("m", i), 20000, 200, 1)
	}
	for _, m := range ms {
		m.Unref()
	}
	if s := p.Stats(); s.InUse != 0 || s.Idle > budget || s.Idle == 0 {
		t.Fatalf("after 3 memtables of about 5 MiB: %+v, want InUse 0 and 0 < Idle <= %d", s, budget)
	}
}

// TestPoolRef: a reader's reference keeps the memtable's memory until it is dropped.
func TestPoolRef(t *testing.T) {
	p := NewPool(64 << 20)
	m := p.New()
	fill(m, "k", 1000, 50, 1)
	m.Ref()   // a reader
	m.Unref() // the owner retires it
	next := p.New()
	fill(next, "z", 1000, 50, 1) // must not get m's slabs
	checkOnly(t, m, "k", 1000, 50)
	if p.Stats().Idle != 0 {
		t.Fatalf("slabs idle while a reference is held: %+v", p.Stats())
	}
	m.Unref()
	if s := p.Stats(); s.Idle == 0 {
		t.Fatalf("the last Unref gave nothing back: %+v", s)
	}
	checkOnly(t, next, "z", 1000, 50)
	next.Unref()
}

// TestPoolLargeEntries: entries too large for a shared slab are held and freed too.
func TestPoolLargeEntries(t *testing.T) {
	p := NewPool(64 << 20)
	m := p.New()
	big := bytes.Repeat([]byte("b"), kvLargeEntry+1)
	m.Add(1, base.KindValue, []byte("big"), big, 0)
	if s := p.Stats(); s.InUse < int64(len(big)) {
		t.Fatalf("InUse %d, want at least the %d-byte entry", s.InUse, len(big))
	}
	if e, ok := m.Get([]byte("big")); !ok || !bytes.Equal(e.Value, big) {
		t.Fatal("large entry not read back")
	}
	m.Unref()
	if s := p.Stats(); s.InUse != 0 || s.Idle > kvLargeEntry {
		t.Fatalf("after Unref: %+v, want InUse 0 and the large entry not kept", s)
	}
}

// TestPoolClose: Close frees what is idle, and memtables still out are freed, not kept,
// when they retire.
func TestPoolClose(t *testing.T) {
	p := NewPool(64 << 20)
	a, b := p.New(), p.New()
	fill(a, "a", 5000, 100, 1)
	fill(b, "b", 5000, 100, 1)
	a.Unref()
	p.Close()
	if s := p.Stats(); s.Idle != 0 {
		t.Fatalf("after Close: %+v, want nothing idle", s)
	}
	checkOnly(t, b, "b", 5000, 100)
	b.Unref()
	if s := p.Stats(); s.InUse != 0 || s.Idle != 0 {
		t.Fatalf("after the last Unref: %+v, want 0, 0", s)
	}
}
