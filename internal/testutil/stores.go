package testutil

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"cloud.google.com/go/storage"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"gocloud.dev/blob"

	"github.com/isledb/isledb/blobstore"
)

// Bucket is the bucket (container) the server backends use.
const Bucket = "isledb-test"

// The environment variables that name the test servers.
const (
	EnvS3    = "ISLEDB_TEST_S3_ENDPOINT"
	EnvAzure = "ISLEDB_TEST_AZURE_ENDPOINT"
	EnvGCS   = "ISLEDB_TEST_GCS_ENDPOINT"
)

// Backend is one kind of object store tests can open.
type Backend struct {
	// Name is "memory", "file", "s3", "azure" or "gcs".
	Name string
	// Server reports whether the backend is a real server (it is slower).
	Server bool
	// URL opens the backend (empty for memory and file). SetupEnv must be true.
	url string
}

// Set selects which backends Backends returns.
type Set int

const (
	// Core is memory, file and S3 (MinIO): what every engine test runs against.
	Core Set = iota
	// All adds Azure (Azurite) and GCS (fake-gcs-server): for the blob store's conformance.
	All
)

// Backends lists the backends of set that are available: memory and file always, a
// server when its variable is set.
func Backends(set Set) []Backend {
	out := []Backend{{Name: "memory"}, {Name: "file"}}
	if ep := os.Getenv(EnvS3); ep != "" {
		out = append(out, Backend{Name: "s3", Server: true,
			url: "s3://" + Bucket + "?endpoint=" + ep + "&use_path_style=true&disable_https=true&region=us-east-1"})
	}
	if set == All {
		if ep := os.Getenv(EnvAzure); ep != "" {
			out = append(out, Backend{Name: "azure", Server: true,
				url: "azblob://" + Bucket + "?protocol=http&domain=" + ep})
		}
		if ep := os.Getenv(EnvGCS); ep != "" {
			out = append(out, Backend{Name: "gcs", Server: true, url: "gs://" + Bucket})
		}
	}
	return out
}

// ForEach runs f as a subtest per backend of set. A server backend whose variable is
// unset still gets a subtest, which skips naming the variable, so a run without the
// servers says what it left out instead of dropping it without a word.
func ForEach(t *testing.T, set Set, f func(t *testing.T, b Backend)) {
	t.Helper()
	for _, b := range Backends(set) {
		t.Run(b.Name, func(t *testing.T) { f(t, b) })
	}
	for _, m := range missingServers(set) {
		t.Run(m.name, func(t *testing.T) {
			t.Skipf("%s is not set: no %s server to test against (scripts/test.sh starts one)", m.env, m.name)
		})
	}
}

// missingServers lists the server backends of set whose variable is unset.
func missingServers(set Set) []struct{ name, env string } {
	servers := []struct{ name, env string }{{"s3", EnvS3}}
	if set == All {
		servers = append(servers, struct{ name, env string }{"azure", EnvAzure}, struct{ name, env string }{"gcs", EnvGCS})
	}
	var out []struct{ name, env string }
	for _, s := range servers {
		if os.Getenv(s.env) == "" {
			out = append(out, s)
		}
	}
	return out
}

// Open returns a new, empty store of backend b, closed when the test ends. Stores of the
// same test share nothing.
func (b Backend) Open(t testing.TB) *blobstore.Store {
	t.Helper()
	return b.OpenPrefix(t, UniquePrefix(t))
}

// OpenPrefix opens the backend with the given prefix. For the file backend, all stores of
// one test share one directory, so two stores with one prefix see the same objects; the
// same holds for the servers. Memory stores never share.
func (b Backend) OpenPrefix(t testing.TB, prefix string) *blobstore.Store {
	t.Helper()
	ctx := context.Background()
	var s *blobstore.Store
	var err error
	switch b.Name {
	case "memory":
		s = blobstore.NewMemory(prefix)
	case "file":
		s, err = blobstore.NewFile(ctx, TestDir(t), prefix)
	default:
		ensureBucket(t, b.Name)
		s, err = blobstore.Open(ctx, b.url, prefix)
	}
	if err != nil {
		t.Fatalf("open %s store: %v", b.Name, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// URL returns a bucket URL that blobstore.Open turns into a store of backend b seeing the
// same objects as b's stores of this test (with the same prefix): the test's directory for
// file, the server's bucket for a server. Memory stores have none: "".
func (b Backend) URL(t testing.TB) string {
	t.Helper()
	switch b.Name {
	case "memory":
		return ""
	case "file":
		return "file://" + TestDir(t)
	}
	ensureBucket(t, b.Name)
	return b.url
}

var testDirs sync.Map // test name → directory

// TestDir returns one temporary directory per test, shared by its file stores.
func TestDir(t testing.TB) string {
	t.Helper()
	if d, ok := testDirs.Load(t.Name()); ok {
		return d.(string)
	}
	d := t.TempDir()
	actual, _ := testDirs.LoadOrStore(t.Name(), d)
	t.Cleanup(func() { testDirs.Delete(t.Name()) })
	return actual.(string)
}

// UniquePrefix returns a fresh prefix naming the test.
func UniquePrefix(t testing.TB) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, t.Name())
	if len(name) > 80 {
		name = name[:80]
	}
	return "t/" + name + "-" + hex.EncodeToString(b[:])
}

var bucketOnce sync.Map // backend name → *bucketInit

type bucketInit struct {
	once sync.Once
	err  error
}

// ensureBucket creates the shared bucket on the server once per process.
func ensureBucket(t testing.TB, name string) {
	t.Helper()
	v, _ := bucketOnce.LoadOrStore(name, &bucketInit{})
	bi := v.(*bucketInit)
	bi.once.Do(func() { bi.err = createBucket(name) })
	if bi.err != nil {
		t.Fatalf("create %s bucket: %v", name, bi.err)
	}
}

func createBucket(name string) error {
	ctx := context.Background()
	b := Backend{}
	for _, c := range Backends(All) {
		if c.Name == name {
			b = c
		}
	}
	bkt, err := blob.OpenBucket(ctx, b.url)
	if err != nil {
		return err
	}
	defer bkt.Close()
	switch name {
	case "s3":
		var c *s3.Client
		if !bkt.As(&c) {
			return errors.New("no S3 client")
		}
		_, err = c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(Bucket)})
		if err != nil && (strings.Contains(err.Error(), "BucketAlreadyOwnedByYou") || strings.Contains(err.Error(), "BucketAlreadyExists")) {
			err = nil
		}
	case "azure":
		var c *container.Client
		if !bkt.As(&c) {
			return errors.New("no Azure container client")
		}
		_, err = c.Create(ctx, nil)
		var re *azcore.ResponseError
		if errors.As(err, &re) && re.StatusCode == 409 {
			err = nil
		}
	case "gcs":
		var c *storage.Client
		if !bkt.As(&c) {
			return errors.New("no GCS client")
		}
		err = c.Bucket(Bucket).Create(ctx, "test", nil)
		if err != nil && (strings.Contains(err.Error(), "409") || strings.Contains(err.Error(), "already")) {
			err = nil
		}
	default:
		return fmt.Errorf("unknown backend %q", name)
	}
	return err
}
