package wal

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
)

func TestSentinelTexts(t *testing.T) {
	for _, err := range []error{ErrIO, ErrCorruption, ErrCRCMismatch, ErrConfig, ErrSegmentNotFound,
		ErrStreamNotFound, ErrInvalidFilename, ErrInvalidStreamName, ErrNotFound, ErrEntryTooLarge,
		ErrClosed, ErrLocked, ErrCheckpointNotFound, ErrCheckpointCorrupted, ErrShardCountMismatch,
		ErrInvalidCheckpointID, ErrNoCheckpoints, ErrInvalidShard} {
		if !strings.HasPrefix(err.Error(), "wal: ") {
			t.Errorf("%q does not start with \"wal: \"", err)
		}
	}
}

func TestTypedErrors(t *testing.T) {
	cases := []struct {
		err  error
		is   []error
		isnt []error
	}{
		{&IOError{Op: "fsync", Path: "p", Err: fs.ErrPermission}, []error{ErrIO, fs.ErrPermission}, []error{ErrCorruption}},
		{&CorruptionError{Path: "p", Offset: 7, Reason: "x"}, []error{ErrCorruption}, []error{ErrCRCMismatch, ErrIO}},
		{&CRCMismatchError{Path: "p", Offset: 7, Expected: 1, Actual: 2}, []error{ErrCRCMismatch, ErrCorruption}, []error{ErrIO}},
		{&ConfigError{Problems: []string{"a", "b"}}, []error{ErrConfig}, []error{ErrCorruption}},
		{&InvalidStreamNameError{Name: "..", Reason: "r"}, []error{ErrInvalidStreamName}, []error{ErrConfig}},
		{&CheckpointCorruptedError{Path: "p", Offset: 3, Reason: "r"}, []error{ErrCheckpointCorrupted, ErrCorruption}, []error{ErrIO}},
		{&ShardCountMismatchError{Expected: 4, Found: 8}, []error{ErrShardCountMismatch}, []error{ErrCorruption}},
	}
	for _, c := range cases {
		wrapped := errors.Join(errors.New("context"), c.err)
		for _, target := range c.is {
			if !errors.Is(wrapped, target) {
				t.Errorf("%v: errors.Is(%v) = false", c.err, target)
			}
		}
		for _, target := range c.isnt {
			if errors.Is(wrapped, target) {
				t.Errorf("%v: errors.Is(%v) = true", c.err, target)
			}
		}
		if !strings.HasPrefix(c.err.Error(), "wal: ") {
			t.Errorf("%q does not start with \"wal: \"", c.err)
		}
	}
	var crc *CRCMismatchError
	if err := error(&CRCMismatchError{Offset: 42, Expected: 1, Actual: 2}); !errors.As(err, &crc) || crc.Offset != 42 {
		t.Fatal("errors.As(*CRCMismatchError) failed")
	}
}
