// Package sstsign signs and verifies the SHA-256 digests of SST files with ed25519, so that
// readers can tell an SST written by a trusted writer from one that was planted or altered
// in the bucket.
//
// A writer signs each SST's digest with an Ed25519Signer; the signature is recorded in the
// manifest (manifest.SSTSignature) next to the SST's checksum. A reader or compactor holds
// an Ed25519Verifier with the public keys it trusts, by key id, and verifies the digest of
// every SST it fetches:
//
//	signer := sstsign.NewEd25519Signer(priv, "key-2026")
//	sig, err := sstsign.Sign(signer, digest) // a manifest.SSTSignature
//	...
//	verifier := sstsign.NewEd25519Verifier(map[string]ed25519.PublicKey{"key-2026": pub})
//	err = verifier.VerifyHash(digest, *sig) // nil, or wraps ErrUnknownKey, ErrBadSignature, ...
//
// Keys rotate by id: sign with the new key, keep the old public key in verifiers until no
// SST signed with it remains.
//
// What is signed is not the bare digest but the digest behind a fixed domain-separation
// prefix, "isledb/sst-sha256/v1\x00" followed by the 32 digest bytes, so that a signature
// made for an SST can never be passed off as a signature over anything else made with the
// same key (and the reverse). Signing is deterministic (ed25519): the same key and digest
// give the same signature.
//
// Signers and verifiers are immutable and safe for concurrent use.
package sstsign
