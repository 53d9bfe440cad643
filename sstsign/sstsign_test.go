package sstsign_test

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/isledb/isledb/manifest"
	"github.com/isledb/isledb/sstsign"
)

// The interfaces of the root package (seed API), restated to check conformance.
type sstHashSigner interface {
	Algorithm() string
	KeyID() string
	SignHash(hash []byte) ([]byte, error)
}

type sstHashVerifier interface {
	VerifyHash(hash []byte, sig manifest.SSTSignature) error
}

var (
	_ sstHashSigner   = (*sstsign.Ed25519Signer)(nil)
	_ sstHashVerifier = (*sstsign.Ed25519Verifier)(nil)
	_ sstsign.Signer  = (*sstsign.Ed25519Signer)(nil)
)

func key(seed byte) (ed25519.PublicKey, ed25519.PrivateKey) {
	priv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
	return priv.Public().(ed25519.PublicKey), priv
}

func TestSignVerify(t *testing.T) {
	pub1, priv1 := key(1)
	pub2, priv2 := key(2)
	s1 := sstsign.NewEd25519Signer(priv1, "k1")
	if s1.Algorithm() != "ed25519" || s1.KeyID() != "k1" {
		t.Fatal("signer identity")
	}
	digest := sha256.Sum256([]byte("an sst"))
	sig, err := sstsign.Sign(s1, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	if sig.Hash != "sha256:"+hex.EncodeToString(digest[:]) || len(sig.Signature) != ed25519.SignatureSize {
		t.Fatalf("signature %+v", sig)
	}
	v := sstsign.NewEd25519Verifier(map[string]ed25519.PublicKey{"k1": pub1, "k2": pub2})
	if err := v.VerifyHash(digest[:], *sig); err != nil {
		t.Fatal(err)
	}
	// Deterministic.
	again, _ := s1.SignHash(digest[:])
	if !bytes.Equal(again, sig.Signature) {
		t.Fatal("signatures differ")
	}
	other := sha256.Sum256([]byte("another sst"))
	s2 := sstsign.NewEd25519Signer(priv2, "k2")
	sig2, _ := sstsign.Sign(s2, digest[:])

	cases := []struct {
		name   string
		digest []byte
		sig    manifest.SSTSignature
		want   error
	}{
		{"other key", digest[:], *sig2, nil},
		{"unknown key", digest[:], with(*sig, func(s *manifest.SSTSignature) { s.KeyID = "k9" }), sstsign.ErrUnknownKey},
		{"algorithm", digest[:], with(*sig, func(s *manifest.SSTSignature) { s.Algorithm = "rsa" }), sstsign.ErrAlgorithmMismatch},
		{"other digest", other[:], *sig, sstsign.ErrHashMismatch},
		{"other digest, no hash recorded", other[:], with(*sig, func(s *manifest.SSTSignature) { s.Hash = "" }), sstsign.ErrBadSignature},
		{"flipped bit", digest[:], with(*sig, func(s *manifest.SSTSignature) { s.Signature[5] ^= 1 }), sstsign.ErrBadSignature},
		{"truncated", digest[:], with(*sig, func(s *manifest.SSTSignature) { s.Signature = s.Signature[:10] }), sstsign.ErrBadSignature},
		{"wrong key for id", digest[:], with(*sig2, func(s *manifest.SSTSignature) { s.KeyID = "k1" }), sstsign.ErrBadSignature},
		{"short digest", digest[:16], *sig, sstsign.ErrInvalidDigest},
	}
	for _, c := range cases {
		err := v.VerifyHash(c.digest, c.sig)
		if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

func with(s manifest.SSTSignature, f func(*manifest.SSTSignature)) manifest.SSTSignature {
	s.Signature = bytes.Clone(s.Signature)
	f(&s)
	return s
}

func TestDomainSeparation(t *testing.T) {
	pub, priv := key(3)
	digest := sha256.Sum256([]byte("x"))
	sig, err := sstsign.NewEd25519Signer(priv, "k").SignHash(digest[:])
	if err != nil {
		t.Fatal(err)
	}
	if ed25519.Verify(pub, digest[:], sig) {
		t.Fatal("the bare digest verifies: no domain separation")
	}
	// A signature of the bare digest, made elsewhere with the same key, is refused.
	raw := ed25519.Sign(priv, digest[:])
	v := sstsign.NewEd25519Verifier(map[string]ed25519.PublicKey{"k": pub})
	if err := v.VerifyHash(digest[:], manifest.SSTSignature{Algorithm: "ed25519", KeyID: "k", Signature: raw}); !errors.Is(err, sstsign.ErrBadSignature) {
		t.Fatalf("bare-digest signature: %v", err)
	}
}

func TestBadKeys(t *testing.T) {
	digest := sha256.Sum256(nil)
	if _, err := sstsign.NewEd25519Signer(ed25519.PrivateKey{1, 2}, "k").SignHash(digest[:]); !errors.Is(err, sstsign.ErrInvalidKey) {
		t.Fatalf("short private key: %v", err)
	}
	_, priv := key(4)
	if _, err := sstsign.NewEd25519Signer(priv, "k").SignHash([]byte("short")); !errors.Is(err, sstsign.ErrInvalidDigest) {
		t.Fatalf("short digest: %v", err)
	}
	sig, _ := sstsign.Sign(sstsign.NewEd25519Signer(priv, "k"), digest[:])
	v := sstsign.NewEd25519Verifier(map[string]ed25519.PublicKey{"k": {1, 2, 3}})
	if err := v.VerifyHash(digest[:], *sig); !errors.Is(err, sstsign.ErrInvalidKey) {
		t.Fatalf("short public key: %v", err)
	}
	// The verifier copied its map.
	keys := map[string]ed25519.PublicKey{}
	v = sstsign.NewEd25519Verifier(keys)
	keys["k"] = priv.Public().(ed25519.PublicKey)
	if err := v.VerifyHash(digest[:], *sig); !errors.Is(err, sstsign.ErrUnknownKey) {
		t.Fatalf("verifier shares the caller's map: %v", err)
	}
}

func BenchmarkSign(b *testing.B) {
	_, priv := key(5)
	s := sstsign.NewEd25519Signer(priv, "k")
	digest := sha256.Sum256(nil)
	for b.Loop() {
		if _, err := s.SignHash(digest[:]); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	pub, priv := key(6)
	digest := sha256.Sum256(nil)
	sig, _ := sstsign.Sign(sstsign.NewEd25519Signer(priv, "k"), digest[:])
	v := sstsign.NewEd25519Verifier(map[string]ed25519.PublicKey{"k": pub})
	for b.Loop() {
		if err := v.VerifyHash(digest[:], *sig); err != nil {
			b.Fatal(err)
		}
	}
}
