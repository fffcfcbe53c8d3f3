package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stagegate/stagegate/internal/awstest"
)

// TestServeChecksTheArtifactStore: a bad --artifact-store is a usage
// error, and a bucket the server's AWS settings (AWS_ENDPOINT_URL
// included) cannot reach stops the start with the reason.
func TestServeChecksTheArtifactStore(t *testing.T) {
	moto := awstest.URL(t)
	bucket := awstest.Name(t, "serve-artifacts")
	if _, err := s3.NewFromConfig(awstest.Config(t)).CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	awsEnv := []string{"AWS_ENDPOINT_URL=" + moto, "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_REGION=" + awstest.Region}
	cases := []struct {
		name, store string
		code        int
		problem     string
		env         []string
	}{
		{"no bucket", "s3://", exitUsage, "--artifact-store (STAGEGATE_ARTIFACT_STORE) names no bucket", nil},
		{"other scheme", "gs://bucket/x", exitUsage, "--artifact-store (STAGEGATE_ARTIFACT_STORE) must be an s3://BUCKET/PREFIX URL", nil},
		{"a path", "/srv/artifacts", exitUsage, "must be an s3://BUCKET/PREFIX URL", nil},
		{"missing bucket", "s3://" + awstest.Name(t, "missing") + "/ci", exitFailed, "does not exist", nil},
		// In setup mode too, before the setup pages are served.
		{"setup mode", "s3:///x", exitUsage, "names no bucket",
			[]string{"STAGEGATE_APP_ID=", "STAGEGATE_PRIVATE_KEY=", "STAGEGATE_WEBHOOK_SECRET=", "STAGEGATE_PUBLIC_URL=https://ci.example.com"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newServer(t, "stages: [{name: s, actions: [{name: a, run: 'true'}]}]\n")
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, binary, "serve")
			cmd.Env = append(append(append(os.Environ(), s.env...), awsEnv...), "STAGEGATE_ARTIFACT_STORE="+c.store)
			cmd.Env = append(cmd.Env, c.env...)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != c.code || !strings.Contains(string(out), c.problem) {
				t.Fatalf("serve with %q: %v, want exit %d saying %q:\n%s", c.store, err, c.code, c.problem, out)
			}
		})
	}
	t.Run("reachable bucket", func(t *testing.T) {
		s := newServer(t, "stages: [{name: s, actions: [{name: a, run: 'true'}]}]\n")
		s.env = append(append(s.env, awsEnv...), "STAGEGATE_ARTIFACT_STORE=s3://"+bucket+"/ci")
		s.start()
		resp, err := http.Get(s.url + "/readyz")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("readyz: %v", err)
		}
		resp.Body.Close()
	})
}

// TestAnotherReplicaResumesWithArtifactsFromS3: a server killed during
// the stage after the one that stored an artifact is started again on
// an empty data dir, as another replica sharing the database would be:
// the resumed run finds the artifact, fetched from the bucket.
func TestAnotherReplicaResumesWithArtifactsFromS3(t *testing.T) {
	moto := awstest.URL(t)
	bucket := awstest.Name(t, "replica-artifacts")
	if _, err := s3.NewFromConfig(awstest.Config(t)).CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	release := filepath.Join(t.TempDir(), "release")
	s := newServer(t, `stages:
  - name: build
    actions: [{ name: compile, run: 'echo "binary $STAGEGATE_SHA" > app.bin', artifacts: [app.bin] }]
  - name: test
    actions: [{ name: wait, run: 'cat "$STAGEGATE_ARTIFACTS/app.bin"; `+waitForFile(release)+`' }]
`)
	s.env = append(s.env, "AWS_ENDPOINT_URL="+moto, "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing",
		"AWS_REGION="+awstest.Region, "STAGEGATE_ARTIFACT_STORE=s3://"+bucket+"/ci")
	s.start()
	sha := s.push(map[string]string{"a": "1"})
	waitFor(t, func() bool { c, ok := s.check(sha, "stagegate/test"); return ok && c.Status == "in_progress" })
	s.kill()
	writeRelease(t, release)
	// The other replica's disk has none of this one's artifacts.
	s.env = append(s.env, "STAGEGATE_DATA_DIR="+filepath.Join(t.TempDir(), "other-replica"))
	s.start()
	s.waitSucceeded(sha)
	test, _ := s.check(sha, "stagegate/test")
	if !strings.Contains(test.Output.Text, "binary "+sha) {
		t.Errorf("the resumed test stage did not read the artifact:\n%s", test.Output.Text)
	}
}
