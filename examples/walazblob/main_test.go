package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/isledb/isledb/internal/testutil"
)

// TestWalAzblob runs the example against Azurite (ISLEDB_TEST_AZURE_ENDPOINT, set by
// scripts/test.sh).
func TestWalAzblob(t *testing.T) {
	ep := os.Getenv(testutil.EnvAzure)
	if ep == "" {
		t.Skip(testutil.EnvAzure + " is not set")
	}
	for _, b := range testutil.Backends(testutil.All) {
		if b.Name == "azure" {
			b.Open(t) // creates the container
		}
	}
	url := "azblob://" + testutil.Bucket + "?protocol=http&domain=" + ep
	var out bytes.Buffer
	const events = 60
	if err := run(context.Background(), url, testutil.UniquePrefix(t), t.TempDir(), events, &out); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	s := out.String()
	for i := range events {
		if n := strings.Count(s, fmt.Sprintf("consumed event %d: ", i)); n != 1 {
			t.Fatalf("event %d consumed %d times:\n%s", i, n, s)
		}
	}
	if !strings.Contains(s, "consumed 60 events (30 before the restart, 30 after)") {
		t.Fatalf("summary missing:\n%s", s)
	}
}
