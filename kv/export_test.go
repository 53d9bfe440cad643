package kv

import "context"

// RunCompactionCycle runs one background compaction cycle now (tests drive compaction
// with it instead of waiting for CompactionInterval).
func (s *Store) RunCompactionCycle() error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.leave()
	return translate("compaction cycle", s.c.RunCompaction(context.Background()))
}
