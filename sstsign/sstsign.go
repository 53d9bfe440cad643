package sstsign

import (
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"

	"github.com/isledb/isledb/manifest"
)

// AlgorithmEd25519 is the Algorithm of ed25519 signatures.
const AlgorithmEd25519 = "ed25519"

// domain prefixes every signed message. Frozen: changing it invalidates every signature.
const domain = "isledb/sst-sha256/v1\x00"

// digestLen is the length of the digests signed: SHA-256.
const digestLen = 32

var (
	// ErrUnknownKey reports a signature made with a key id the verifier does not hold.
	ErrUnknownKey = errors.New("sstsign: unknown key id")
	// ErrBadSignature reports a signature that does not verify: the SST, its digest or
	// the signature was altered, or it was signed with another key of the same id.
	ErrBadSignature = errors.New("sstsign: bad signature")
	// ErrAlgorithmMismatch reports a signature made with an algorithm the verifier does not
	// implement.
	ErrAlgorithmMismatch = errors.New("sstsign: algorithm mismatch")
	// ErrHashMismatch reports a signature whose recorded Hash is not the digest verified.
	ErrHashMismatch = errors.New("sstsign: signature is for another digest")
	// ErrInvalidKey reports a private or public key of the wrong size.
	ErrInvalidKey = errors.New("sstsign: invalid key")
	// ErrInvalidDigest reports a digest that is not 32 bytes (SHA-256).
	ErrInvalidDigest = errors.New("sstsign: invalid digest")
)

// Ed25519Signer signs SST digests with one ed25519 private key.
type Ed25519Signer struct {
	priv  ed25519.PrivateKey
	keyID string
}

// NewEd25519Signer returns a signer using priv, whose signatures name keyID. A key of the
// wrong size makes SignHash fail with ErrInvalidKey.
func NewEd25519Signer(priv ed25519.PrivateKey, keyID string) *Ed25519Signer {
	return &Ed25519Signer{priv: append(ed25519.PrivateKey(nil), priv...), keyID: keyID}
}

// Algorithm returns "ed25519".
func (s *Ed25519Signer) Algorithm() string { return AlgorithmEd25519 }

// KeyID returns the id of the signer's key.
func (s *Ed25519Signer) KeyID() string { return s.keyID }

// SignHash signs hash, the SHA-256 digest of an SST (32 bytes), and returns the 64-byte
// signature.
func (s *Ed25519Signer) SignHash(hash []byte) ([]byte, error) {
	if len(s.priv) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: private key of %d bytes", ErrInvalidKey, len(s.priv))
	}
	if len(hash) != digestLen {
		return nil, fmt.Errorf("%w: %d bytes, want %d", ErrInvalidDigest, len(hash), digestLen)
	}
	return ed25519.Sign(s.priv, message(hash)), nil
}

// Signer is what Sign needs; Ed25519Signer and isledb.SSTHashSigner implementations
// provide it.
type Signer interface {
	Algorithm() string
	KeyID() string
	SignHash(hash []byte) ([]byte, error)
}

// Sign signs digest with signer and returns the signature to record in the manifest, with
// Hash set to "sha256:<hex digest>" (the form of manifest.SSTMeta.Checksum).
func Sign(signer Signer, digest []byte) (*manifest.SSTSignature, error) {
	sig, err := signer.SignHash(digest)
	if err != nil {
		return nil, err
	}
	return &manifest.SSTSignature{Algorithm: signer.Algorithm(), KeyID: signer.KeyID(),
		Hash: FormatDigest(digest), Signature: sig}, nil
}

// FormatDigest returns "sha256:<lowercase hex>" for a SHA-256 digest.
func FormatDigest(digest []byte) string { return "sha256:" + hex.EncodeToString(digest) }

// Ed25519Verifier verifies signatures made by any of a set of ed25519 keys, by key id.
type Ed25519Verifier struct {
	keys map[string]ed25519.PublicKey
}

// NewEd25519Verifier returns a verifier trusting keys (key id → public key). The map is
// copied. A key of the wrong size fails every verification with ErrInvalidKey.
func NewEd25519Verifier(keys map[string]ed25519.PublicKey) *Ed25519Verifier {
	return &Ed25519Verifier{keys: maps.Clone(keys)}
}

// VerifyHash checks that sig is a valid signature of hash (a SHA-256 digest) by a key the
// verifier holds. It returns nil, or an error wrapping ErrAlgorithmMismatch,
// ErrUnknownKey, ErrHashMismatch (sig.Hash, when set, names another digest),
// ErrInvalidDigest, ErrInvalidKey or ErrBadSignature.
func (v *Ed25519Verifier) VerifyHash(hash []byte, sig manifest.SSTSignature) error {
	if sig.Algorithm != AlgorithmEd25519 {
		return fmt.Errorf("%w: signature is %q, verifier implements %q", ErrAlgorithmMismatch, sig.Algorithm, AlgorithmEd25519)
	}
	pub, ok := v.keys[sig.KeyID]
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownKey, sig.KeyID)
	}
	if len(hash) != digestLen {
		return fmt.Errorf("%w: %d bytes, want %d", ErrInvalidDigest, len(hash), digestLen)
	}
	if sig.Hash != "" && sig.Hash != FormatDigest(hash) {
		return fmt.Errorf("%w: signed %s, verifying %s", ErrHashMismatch, sig.Hash, FormatDigest(hash))
	}
	if len(pub) != ed25519.PublicKeySize {
		return fmt.Errorf("%w: public key %q of %d bytes", ErrInvalidKey, sig.KeyID, len(pub))
	}
	if !ed25519.Verify(pub, message(hash), sig.Signature) {
		return fmt.Errorf("%w: key %q, digest %s", ErrBadSignature, sig.KeyID, FormatDigest(hash))
	}
	return nil
}

// message returns the bytes signed for a digest.
func message(hash []byte) []byte {
	m := make([]byte, 0, len(domain)+len(hash))
	return append(append(m, domain...), hash...)
}
