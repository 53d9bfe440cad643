package diskcache

import "time"

// entry is one cached item. Guarded by Cache.mu.
type entry struct {
	name string
	file string // file name within the cache directory
	size int64
	// mtime is the modification time the file has on disk as far as the cache knows: the
	// time it was written, or last touched to record a use (see touchInterval).
	mtime      time.Time
	prev, next *entry
}

// lruList is a circular doubly linked list of entries around a sentinel: root.next is the
// most recently used entry, root.prev the least. The zero value must be initialized by init.
type lruList struct {
	root entry
}

func (l *lruList) init() {
	l.root.next = &l.root
	l.root.prev = &l.root
}

// pushFront inserts e as the most recently used entry.
func (l *lruList) pushFront(e *entry) {
	e.prev = &l.root
	e.next = l.root.next
	e.next.prev = e
	l.root.next = e
}

// remove unlinks e.
func (l *lruList) remove(e *entry) {
	e.prev.next = e.next
	e.next.prev = e.prev
	e.prev, e.next = nil, nil
}

// moveToFront marks e as the most recently used entry.
func (l *lruList) moveToFront(e *entry) {
	if l.root.next == e {
		return
	}
	l.remove(e)
	l.pushFront(e)
}

// back returns the least recently used entry, or nil if the list is empty.
func (l *lruList) back() *entry {
	if l.root.prev == &l.root {
		return nil
	}
	return l.root.prev
}
