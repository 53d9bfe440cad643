package benchkit

// ScanTally is what every engine's Scan does per pair, so that the scan workload asks the
// same work of each: it counts the pair, adds its key and value lengths, and reads the
// first and last byte of each (the bytes are touched, not copied). Only the key of the
// n-th pair (where a following scan resumes) is copied, by Last. An adapter iterates
// with its engine's own iterator, calls Add per pair and Last on the n-th.
type ScanTally struct {
	// Count and Bytes are the pairs and key plus value bytes seen.
	Count, Bytes int
	// Touch folds the touched bytes together so that the reads are not optimised away.
	Touch byte
	// LastKey is the copy Last made (nil until then).
	LastKey []byte
}

// Add tallies one pair. key and value need only be valid during the call.
func (t *ScanTally) Add(key, value []byte) {
	t.Count++
	t.Bytes += len(key) + len(value)
	if len(key) > 0 {
		t.Touch ^= key[0] ^ key[len(key)-1]
	}
	if len(value) > 0 {
		t.Touch ^= value[0] ^ value[len(value)-1]
	}
}

// Last copies key as the last key read: an adapter calls it for the n-th pair of an
// n-pair scan (the one where the next scan resumes), and may call it for the final pair
// of a scan that ended earlier if its iterator still holds that key.
func (t *ScanTally) Last(key []byte) { t.LastKey = append(t.LastKey[:0], key...) }
