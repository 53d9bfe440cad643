package isledb

import "github.com/isledb/isledb/manifest"

// Manifest is the state of the LSM tree: see manifest.Manifest.
type Manifest = manifest.Manifest

// SSTMeta describes one SST file: see manifest.SSTMeta.
type SSTMeta = manifest.SSTMeta

// SortedRun is a run of non-overlapping SSTs: see manifest.SortedRun.
type SortedRun = manifest.SortedRun

// SSTSignature is an SST's signature: see manifest.SSTSignature.
type SSTSignature = manifest.SSTSignature

// FenceToken is a writer's or compactor's claim: see manifest.FenceToken.
type FenceToken = manifest.FenceToken

// KV is a key and its value.
type KV struct {
	Key   []byte
	Value []byte
}

// SSTHashSigner signs the SHA-256 of every SST a writer (or compactor) produces; the
// signature is recorded in the manifest. sstsign.NewEd25519Signer provides one.
// SignHash may be called from several goroutines.
type SSTHashSigner interface {
	Algorithm() string
	KeyID() string
	SignHash(hash []byte) ([]byte, error)
}

// SSTHashVerifier checks an SST's signature before a reader uses it.
// sstsign.NewEd25519Verifier provides one. VerifyHash may be called concurrently.
type SSTHashVerifier interface {
	VerifyHash(hash []byte, sig SSTSignature) error
}
