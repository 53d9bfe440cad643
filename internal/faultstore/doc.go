// Package faultstore wraps a blobstore.Backend to inject failures in tests: fail the i-th
// request, fail requests matching a predicate, add latency, or let a write land and then
// lose its reply (an ambiguous success, as when a connection drops after the server
// committed a PUT).
//
// Rules are checked in the order they were added; the first that matches a request
// decides its fate. Injected errors are transient (they have a Transient() bool method
// returning true) unless the rule says otherwise, so the Store retries them as it would a
// 503 or a reset connection.
//
//	fb := faultstore.New(blobstore.NewMemory("").Backend())
//	store := blobstore.NewWithBackend(fb, "", "db")
//	fb.FailNth(3, nil)                           // the 4th request from now fails once
//	fb.LoseReply(faultstore.PutsTo("manifest/")) // every matching PUT lands, reply lost
package faultstore
