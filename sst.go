package isledb

import (
	"encoding/hex"
	"fmt"

	"github.com/isledb/isledb/internal/sstable"
	"github.com/isledb/isledb/manifest"
)

// sstWriterOptions maps the public block, filter and compression options (of a writer or
// a compactor) to the SST writer's; a negative BloomBitsPerKey means no filter.
func sstWriterOptions(blockSize, bloomBitsPerKey int, compression string) sstable.WriterOptions {
	o := sstable.WriterOptions{BlockSize: blockSize, BloomBitsPerKey: bloomBitsPerKey, Compression: compression}
	if bloomBitsPerKey < 0 {
		o.BloomBitsPerKey = sstable.NoBloomFilter
	}
	return o
}

// signSST signs an SST's SHA-256 (sum) for the manifest.
func signSST(s SSTHashSigner, sum []byte) (*manifest.SSTSignature, error) {
	sig, err := s.SignHash(sum)
	if err != nil {
		return nil, err
	}
	return &manifest.SSTSignature{Algorithm: s.Algorithm(), KeyID: s.KeyID(), Hash: sstable.ChecksumPrefix + hex.EncodeToString(sum), Signature: sig}, nil
}

// signatureVerifier adapts v to the check readers and compactors run on every SST before
// use: unsigned SSTs are refused. Nil when v is nil (no check).
func signatureVerifier(v SSTHashVerifier) func(hash []byte, sig *manifest.SSTSignature) error {
	if v == nil {
		return nil
	}
	return func(hash []byte, sig *manifest.SSTSignature) error {
		if sig == nil {
			return fmt.Errorf("%w: the SST is not signed", ErrCorruption)
		}
		return v.VerifyHash(hash, *sig)
	}
}
