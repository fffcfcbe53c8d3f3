package app_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/app"
	"github.com/stagegate/stagegate/checks"
	"github.com/stagegate/stagegate/internal/awstest"
	"github.com/stagegate/stagegate/internal/githubtest"
	"github.com/stagegate/stagegate/pipeline/engine"
)

const artifactPipeline = `stages:
  - name: build
    actions:
      - { name: compile, run: 'mkdir -p dist && echo "built from $STAGEGATE_SHA" > dist/app', artifacts: [dist/app] }
  - name: test
    actions:
      - { name: use, run: 'echo "test reads: $(cat "$STAGEGATE_ARTIFACTS/dist/app")"' }
`

// TestArtifactStoreS3KeepsArtifactsForReRuns: with --artifact-store
// s3://…, what a stage stores is in the bucket under the run's trusted
// prefix, and a re-run of the later stage, on a machine that no longer
// has the run's local copy, fetches it from there.
func TestArtifactStoreS3KeepsArtifactsForReRuns(t *testing.T) {
	h := buildHarness(t, map[string]string{".stagegate.yml": artifactPipeline}, zerolog.InfoLevel, nil)
	client, bucket := withS3Artifacts(h)
	h.start()

	sha := h.push("main", map[string]string{"a": "1"})
	first := h.waitChecks(sha, 60*time.Second)
	if c := first["stagegate"]; c.Conclusion != "success" {
		t.Fatalf("run: %s%s", c.Conclusion, describeChecks(first))
	}
	want := "test reads: built from " + sha
	if !strings.Contains(first["stagegate/test"].Output.Text, want) {
		t.Fatalf("test stage log lacks %q:\n%s", want, first["stagegate/test"].Output.Text)
	}
	runID, _ := checks.ParseExternalID(first["stagegate/test"].ExternalID)
	prefix := "stagegate/trusted/acme/web/" + runID + "/build/compile/"
	keys := listKeys(t, client, bucket, "stagegate/")
	for _, k := range []string{prefix + "files/dist/app", prefix + "manifest.json"} {
		if !slices.Contains(keys, k) {
			t.Fatalf("no object %s in the bucket: %q", k, keys)
		}
	}
	body, err := client.GetObject(t.Context(), &s3.GetObjectInput{Bucket: &bucket, Key: aws.String(prefix + "files/dist/app")})
	if err != nil {
		t.Fatal(err)
	}
	if n := aws.ToInt64(body.ContentLength); n != int64(len("built from "+sha+"\n")) {
		t.Errorf("object is %d bytes", n)
	}
	body.Body.Close()

	// This replica loses its copy, as another replica never had it.
	local := filepath.Join(h.cfg.DataDir, "trusted", "artifacts", runID)
	if _, err := os.Stat(filepath.Join(local, "dist", "app")); err != nil {
		t.Fatalf("the run's local copy: %v", err)
	}
	if err := os.RemoveAll(local); err != nil {
		t.Fatal(err)
	}

	test := first["stagegate/test"]
	latest := rerunStage(h, sha, first, "test")
	if c := latest["stagegate"]; c.Conclusion != "success" {
		t.Fatalf("re-run: %s%s", c.Conclusion, describeChecks(latest))
	}
	if !strings.Contains(latest["stagegate/build"].Output.Summary, "reused") {
		t.Errorf("build ran again instead of being reused: %q", latest["stagegate/build"].Output.Summary)
	}
	if got := latest["stagegate/test"].Output.Text; latest["stagegate/test"].ID == test.ID || !strings.Contains(got, want) {
		t.Errorf("the re-run's test stage did not read the artifact from S3:\n%s", got)
	}
	// The fetched copy is the new run's, read-only like a stored one.
	newRun, _ := checks.ParseExternalID(latest["stagegate/test"].ExternalID)
	st, err := os.Stat(filepath.Join(h.cfg.DataDir, "trusted", "artifacts", newRun, "dist", "app"))
	if err != nil || st.Mode().Perm()&0o222 != 0 {
		t.Errorf("the re-run's fetched artifact: %v, %v; want a read-only file", st, err)
	}

	// The re-run keeps what it reused as its own: a re-run of the re-run
	// finds it under the re-run, again without a local copy.
	reused := "stagegate/trusted/acme/web/" + newRun + "/build/" + engine.ReusedArtifacts + "/files/dist/app"
	if keys := listKeys(t, client, bucket, "stagegate/trusted/acme/web/"+newRun+"/"); !slices.Contains(keys, reused) {
		t.Fatalf("no object %s: %q", reused, keys)
	}
	if err := os.RemoveAll(filepath.Join(h.cfg.DataDir, "trusted", "artifacts", newRun)); err != nil {
		t.Fatal(err)
	}
	again := rerunStage(h, sha, latest, "test")
	if c := again["stagegate"]; c.Conclusion != "success" || !strings.Contains(again["stagegate/test"].Output.Text, want) {
		t.Fatalf("re-run of the re-run: %s\n%s%s", c.Conclusion, again["stagegate/test"].Output.Text, describeChecks(again))
	}
}

// rerunStage clicks "Re-run" on a stage's check of the run whose checks
// are before, and waits for the new run's checks to complete.
func rerunStage(h *harness, sha string, before map[string]githubtest.CheckRun, stage string) map[string]githubtest.CheckRun {
	h.t.Helper()
	c := before["stagegate/"+stage]
	body := h.repo.Webhook("check_run.rerequested", func(p map[string]any) {
		githubtest.SetPath(p, "check_run.id", c.ID)
		githubtest.SetPath(p, "check_run.name", c.Name)
		githubtest.SetPath(p, "check_run.head_sha", sha)
		githubtest.SetPath(p, "check_run.external_id", c.ExternalID)
		githubtest.SetPath(p, "check_run.app.id", h.gh.AppID())
		githubtest.SetPath(p, "check_run.check_suite.head_sha", sha)
	})
	if code, text := h.send("check_run", githubtest.NewDeliveryID(), body); code != 202 {
		h.t.Fatalf("check_run webhook: %d %s", code, text)
	}
	// A whole run on a loaded machine: longer than waitFor's deadline.
	deadline := time.Now().Add(90 * time.Second)
	for {
		latest := h.checks(sha)
		if s := latest["stagegate"]; s.ID != before["stagegate"].ID && s.Status == "completed" {
			return latest
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("no re-run of %s:%s", stage, describeChecks(latest))
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// withS3Artifacts gives the harness's App, before it starts, a bucket
// on moto as its artifact store.
func withS3Artifacts(h *harness) (*s3.Client, string) {
	h.t.Helper()
	moto := awstest.Config(h.t)
	client := s3.NewFromConfig(moto)
	bucket := awstest.Name(h.t, "app-artifacts")
	if _, err := client.CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		h.t.Fatalf("CreateBucket: %v", err)
	}
	h.cfg.ArtifactStore = "s3://" + bucket + "/stagegate"
	h.options = func(o *app.Options) {
		o.AWS = func(context.Context) (aws.Config, error) { return moto, nil }
	}
	return client, bucket
}

// TestArtifactStoreS3KeepsForkRunsApart: a fork's run stores under
// untrusted/, and the store the App gives a fork's run cannot fetch a
// trusted run's artifacts, even named by its run id.
func TestArtifactStoreS3KeepsForkRunsApart(t *testing.T) {
	h := newAttackHarness(t, map[string]string{".stagegate.yml": `stages:
  - { name: build, actions: [{ name: compile, run: 'echo real > app.bin', artifacts: [app.bin] }] }
`})
	h.stop()
	client, bucket := withS3Artifacts(h)
	h.start()
	main := h.push("main", map[string]string{"a": "1"})
	mainChecks := h.waitChecks(main, 60*time.Second)
	if c := mainChecks["stagegate/build"]; c.Conclusion != "success" {
		t.Fatalf("main's build: %s", c.Conclusion)
	}
	mainRun, _ := checks.ParseExternalID(mainChecks["stagegate/build"].ExternalID)
	fork := h.forkRun(24, `stages:
  - { name: build, actions: [{ name: compile, run: 'echo evil > app.bin', artifacts: [app.bin] }] }
`)
	forkChecks := h.waitChecks(fork, 60*time.Second)
	if c := forkChecks["stagegate/build"]; c.Conclusion != "success" {
		t.Fatalf("the fork's build: %s%s", c.Conclusion, describeChecks(forkChecks))
	}
	forkRun, _ := checks.ParseExternalID(forkChecks["stagegate/build"].ExternalID)
	trusted := listKeys(t, client, bucket, "stagegate/trusted/")
	untrusted := listKeys(t, client, bucket, "stagegate/untrusted/")
	if want := "stagegate/trusted/acme/web/" + mainRun + "/build/compile/files/app.bin"; !slices.Contains(trusted, want) || len(trusted) != 2 {
		t.Errorf("trusted objects %q, want main's app.bin and its manifest", trusted)
	}
	if want := "stagegate/untrusted/acme/web/" + forkRun + "/build/compile/files/app.bin"; !slices.Contains(untrusted, want) || len(untrusted) != 2 {
		t.Errorf("untrusted objects %q, want the fork's app.bin and its manifest", untrusted)
	}

	ctx := t.Context()
	for _, from := range []string{mainRun, "../../trusted/acme/web/" + mainRun} {
		out := t.TempDir()
		if err := h.app.FetchArtifacts(ctx, true, "acme/web", from, "build", []string{"app.bin"}, out); err == nil {
			b, _ := os.ReadFile(filepath.Join(out, "app.bin"))
			t.Errorf("a fork's run fetched trusted run %s's app.bin: %q", from, b)
		}
	}
	out := t.TempDir()
	if err := h.app.FetchArtifacts(ctx, false, "acme/web", mainRun, "build", []string{"app.bin"}, out); err != nil {
		t.Fatalf("a trusted run fetching main's artifact: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, "app.bin")); string(b) != "real\n" {
		t.Errorf("main's app.bin from S3 = %q", b)
	}
}

func listKeys(t *testing.T, client *s3.Client, bucket, prefix string) []string {
	t.Helper()
	out, err := client.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: &bucket, Prefix: &prefix})
	if err != nil {
		t.Fatalf("ListObjectsV2: %v", err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

// TestArtifactStoreS3ReadsOlderRunsFromDisk: a run made before
// --artifact-store was set has its artifacts on this machine only; a
// re-run after it was set reuses them from there, and keeps them in S3.
func TestArtifactStoreS3ReadsOlderRunsFromDisk(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": artifactPipeline})
	sha := h.push("main", map[string]string{"a": "1"})
	first := h.waitChecks(sha, 60*time.Second)
	if c := first["stagegate"]; c.Conclusion != "success" {
		t.Fatalf("run: %s%s", c.Conclusion, describeChecks(first))
	}
	h.stop()
	client, bucket := withS3Artifacts(h)
	h.start()
	if keys := listKeys(t, client, bucket, ""); len(keys) != 0 {
		t.Fatalf("the bucket holds %q before any run with it", keys)
	}
	latest := rerunStage(h, sha, first, "test")
	if c := latest["stagegate"]; c.Conclusion != "success" || !strings.Contains(latest["stagegate/test"].Output.Text, "test reads: built from "+sha) {
		t.Fatalf("re-run: %s\n%s%s", c.Conclusion, latest["stagegate/test"].Output.Text, describeChecks(latest))
	}
	newRun, _ := checks.ParseExternalID(latest["stagegate/test"].ExternalID)
	want := "stagegate/trusted/acme/web/" + newRun + "/build/" + engine.ReusedArtifacts + "/files/dist/app"
	if keys := listKeys(t, client, bucket, "stagegate/"); !slices.Contains(keys, want) {
		t.Errorf("the reused artifact was not kept in S3: %q", keys)
	}
}
