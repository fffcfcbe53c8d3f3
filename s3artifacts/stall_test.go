package s3artifacts_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stagegate/stagegate/pipeline/engine"
	"github.com/stagegate/stagegate/s3artifacts"
)

// stallingS3 is an S3 endpoint, path-style, that lists one action with a
// manifest of one 10-byte file "app", and then stalls: a download gets
// its headers and 3 bytes, an upload is never read nor answered. moto
// cannot stall, so this is a wire-level fake of those few calls.
func stallingS3(t *testing.T) *s3artifacts.Store {
	t.Helper()
	sum := sha256.Sum256([]byte("0123456789"))
	// Ends the stalls when the test does: a handler that has not read
	// its request's body does not see the client leave.
	stop := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2":
			prefix := r.URL.Query().Get("prefix")
			w.Header().Set("Content-Type", "application/xml")
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bucket</Name><Prefix>%s</Prefix><KeyCount>1</KeyCount><MaxKeys>1000</MaxKeys><Delimiter>/</Delimiter><IsTruncated>false</IsTruncated><CommonPrefixes><Prefix>%sa/</Prefix></CommonPrefixes></ListBucketResult>`, prefix, prefix)
		case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/manifest.json"):
			fmt.Fprintf(w, `{"stored_unix_nano":1,"files":[{"path":"app","size":10,"sha256":"%s","mode":420}]}`, hex.EncodeToString(sum[:]))
		case r.Method == http.MethodGet:
			w.Header().Set("Content-Length", "10")
			_, _ = w.Write([]byte("012"))
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-stop:
			}
		default:
			select {
			case <-r.Context().Done():
			case <-stop:
			}
		}
	}))
	t.Cleanup(func() {
		close(stop)
		srv.Close()
	})
	client := s3.New(s3.Options{
		BaseEndpoint: aws.String(srv.URL), UsePathStyle: true, Region: "us-east-1", RetryMaxAttempts: 1,
		Credentials: credentials.NewStaticCredentialsProvider("testing", "testing", ""),
	})
	store := s3artifacts.New(client, s3artifacts.Location{Bucket: "bucket", Prefix: "ci"})
	store.SetIdleTimeout(300 * time.Millisecond)
	return store
}

// TestStalledTransfersEnd: a transfer that stops moving ends with its
// reason instead of holding the run until someone cancels it.
func TestStalledTransfersEnd(t *testing.T) {
	s, err := stallingS3(t).For(false, "acme/web")
	if err != nil {
		t.Fatal(err)
	}
	// Far longer than the idle time: reaching it means the watchdog did not bite.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	out := t.TempDir()
	err = s.Get(ctx, "R1", "build", []string{"app"}, out)
	if err == nil || !strings.Contains(err.Error(), "no data moved for 300ms") {
		t.Errorf("Get from a stalled download: %v", err)
	}
	if entries, _ := os.ReadDir(out); len(entries) != 0 {
		t.Errorf("a stalled download left %v", entries)
	}

	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app"), []byte("0123456789"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = s.Put(ctx, engine.ArtifactKey{Run: "R1", Stage: "build", Action: "a"}, dir, []string{"app"})
	if err == nil || !strings.Contains(err.Error(), "no data moved for 300ms") {
		t.Errorf("Put to a stalled upload: %v", err)
	}
}
