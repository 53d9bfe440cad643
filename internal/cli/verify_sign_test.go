package cli

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"testing"

	"github.com/isledb/isledb"
	"github.com/isledb/isledb/internal/testutil"
	"github.com/isledb/isledb/sstsign"
)

// TestVerifySignatures: verify -key checks every SST's signature; unsigned SSTs, or ones
// signed by another key, are damage.
func TestVerifySignatures(t *testing.T) {
	b := testutil.Backends(testutil.Core)[1] // file
	f := newFixture(t, b)
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	other, _, _ := ed25519.GenerateKey(nil)
	ctx := context.Background()
	db, err := isledb.OpenDB(ctx, f.store, isledb.DBOptions{})
	if err != nil {
		t.Fatal(err)
	}
	opts := isledb.DefaultWriterOptions()
	opts.FlushInterval = -1
	opts.Signer = sstsign.NewEd25519Signer(priv, "ops-key")
	w, err := db.OpenWriter(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Put([]byte("a"), []byte("1")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	_ = db.Close()
	f.must(ExitOK, "verify", "-key", "ops-key="+hex.EncodeToString(pub))
	out := f.must(ExitDamage, "verify", "-key", "ops-key="+hex.EncodeToString(other))
	wantContains(t, out, "signature:", "bad signature")
	out = f.must(ExitDamage, "verify", "-key", "another="+hex.EncodeToString(pub))
	wantContains(t, out, "unknown")
	f.must(ExitUsage, "verify", "-key", "ops-key=zz")

	f.populate() // unsigned SSTs
	out = f.must(ExitDamage, "verify", "-key", "ops-key="+hex.EncodeToString(pub))
	wantContains(t, out, "unsigned")
}
