package s3artifacts_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stagegate/stagegate/internal/awstest"
	"github.com/stagegate/stagegate/pipeline/engine"
	"github.com/stagegate/stagegate/s3artifacts"
)

func TestParseURL(t *testing.T) {
	cases := []struct {
		raw     string
		want    s3artifacts.Location
		problem string
	}{
		{raw: "s3://my-bucket", want: s3artifacts.Location{Bucket: "my-bucket"}},
		{raw: "s3://my-bucket/", want: s3artifacts.Location{Bucket: "my-bucket"}},
		{raw: "s3://my.bucket/ci/artifacts/", want: s3artifacts.Location{Bucket: "my.bucket", Prefix: "ci/artifacts"}},
		{raw: "s3://", problem: "names no bucket"},
		{raw: "s3:///prefix", problem: "names no bucket"},
		{raw: "https://my-bucket.s3.amazonaws.com/x", problem: "must be an s3://BUCKET/PREFIX URL"},
		{raw: "/var/artifacts", problem: "must be an s3://BUCKET/PREFIX URL"},
		{raw: "s3://My_Bucket/x", problem: "not an S3 bucket name"},
		{raw: "s3://ab", problem: "not an S3 bucket name"},
		{raw: "s3://bucket/a/../b", problem: "prefix"},
		{raw: "s3://bucket/a//b", problem: "prefix"},
		{raw: "s3://bucket:9000/x", problem: "no user, port"},
		{raw: "s3://bucket/x?versionId=1", problem: "no user, port, query"},
	}
	for _, c := range cases {
		t.Run(c.raw, func(t *testing.T) {
			got, err := s3artifacts.ParseURL(c.raw)
			if c.problem != "" {
				if err == nil || !strings.Contains(err.Error(), c.problem) {
					t.Fatalf("ParseURL(%q) = %+v, %v; want an error saying %q", c.raw, got, err, c.problem)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("ParseURL(%q) = %+v, %v; want %+v", c.raw, got, err, c.want)
			}
		})
	}
}

// fixture is a bucket on moto and a store in it.
type fixture struct {
	client *s3.Client
	bucket string
	store  *s3artifacts.Store
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	cfg := awstest.Config(t)
	client := s3.NewFromConfig(cfg)
	bucket := awstest.Name(t, "artifacts")
	if _, err := client.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	store, err := s3artifacts.Open(t.Context(), cfg, s3artifacts.Location{Bucket: bucket, Prefix: "ci/stagegate"})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return &fixture{client: client, bucket: bucket, store: store}
}

func (f *fixture) scoped(t *testing.T, fork bool) engine.ArtifactStore {
	t.Helper()
	s, err := f.store.For(fork, "acme/web")
	if err != nil {
		t.Fatalf("For: %v", err)
	}
	return s
}

func (f *fixture) keys(t *testing.T, prefix string) []string {
	t.Helper()
	out, err := f.client.ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: &f.bucket, Prefix: &prefix})
	if err != nil {
		t.Fatalf("ListObjectsV2: %v", err)
	}
	var keys []string
	for _, o := range out.Contents {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

func (f *fixture) replace(t *testing.T, key string, body []byte) {
	t.Helper()
	if _, err := f.client.PutObject(t.Context(), &s3.PutObjectInput{Bucket: &f.bucket, Key: &key, Body: bytes.NewReader(body)}); err != nil {
		t.Fatalf("PutObject %s: %v", key, err)
	}
}

// workDir is an artifact directory holding files (path → content).
func workDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(p, ".sh") {
			mode = 0o755
		}
		if err := os.WriteFile(full, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func readDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	_ = filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, p)
		out[filepath.ToSlash(rel)] = string(b)
		return nil
	})
	return out
}

func TestPutGetRoundTrip(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	s := f.scoped(t, false)
	bin := workDir(t, map[string]string{"dist/app": "binary", "dist/run.sh": "#!/bin/sh\n", "empty": ""})
	if err := s.Put(ctx, engine.ArtifactKey{Run: "R1", Stage: "build", Action: "compile"}, bin, []string{"dist/app", "dist/run.sh", "empty"}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	// A second action of the stage, stored later, stores dist/app again:
	// the later one wins, as in the run's local directory.
	docs := workDir(t, map[string]string{"dist/app": "rebuilt", "doc/index.html": "<h1>"})
	if err := s.Put(ctx, engine.ArtifactKey{Run: "R1", Stage: "build", Action: "docs"}, docs, []string{"dist/app", "doc/index.html"}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	keys := f.keys(t, "ci/stagegate/")
	for _, want := range []string{
		"ci/stagegate/trusted/acme/web/R1/build/compile/files/dist/app",
		"ci/stagegate/trusted/acme/web/R1/build/compile/files/empty",
		"ci/stagegate/trusted/acme/web/R1/build/compile/manifest.json",
		"ci/stagegate/trusted/acme/web/R1/build/docs/files/doc/index.html",
	} {
		if !slices.Contains(keys, want) {
			t.Errorf("no object %s in %q", want, keys)
		}
	}

	out := t.TempDir()
	want := []string{"dist/app", "dist/run.sh", "doc/index.html", "empty"}
	// Twice: a resumed run fetches again over its read-only copies.
	for range 2 {
		if err := s.Get(ctx, "R1", "build", want, out); err != nil {
			t.Fatalf("Get: %v", err)
		}
	}
	got := readDir(t, out)
	if got["dist/app"] != "rebuilt" || got["dist/run.sh"] != "#!/bin/sh\n" || got["doc/index.html"] != "<h1>" || got["empty"] != "" || len(got) != 4 {
		t.Errorf("fetched %q", got)
	}
	for p, mode := range map[string]os.FileMode{"dist/run.sh": 0o555, "dist/app": 0o444} {
		if st, err := os.Stat(filepath.Join(out, p)); err != nil || st.Mode().Perm() != mode {
			t.Errorf("%s: mode %v (%v), want %v: stored artifacts are read-only", p, st.Mode(), err, mode)
		}
	}
	// What the stage did not store is an error, not a silent gap.
	if err := s.Get(ctx, "R1", "build", []string{"dist/other"}, t.TempDir()); err == nil || !strings.Contains(err.Error(), "is not in s3://") {
		t.Errorf("Get of a file never stored: %v", err)
	}
}

func TestDownloadsAreBoundedAndVerified(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	s := f.scoped(t, false)
	dir := workDir(t, map[string]string{"app": "0123456789"})
	if err := s.Put(ctx, engine.ArtifactKey{Run: "R1", Stage: "build", Action: "a"}, dir, []string{"app"}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	file := "ci/stagegate/trusted/acme/web/R1/build/a/files/app"
	manifest := "ci/stagegate/trusted/acme/web/R1/build/a/manifest.json"
	cases := []struct {
		name, key, body, problem string
	}{
		{"grown", file, strings.Repeat("x", 1<<20), "is 1048576 bytes; the manifest says 10"},
		{"shrunk", file, "0123", "is 4 bytes; the manifest says 10"},
		{"same size, other content", file, "9876543210", "has SHA-256"},
		{"manifest climbing out", manifest, `{"files":[{"path":"../../../../untrusted/x","size":1,"sha256":"` + strings.Repeat("0", 64) + `"}]}`, "which no upload wrote"},
		{"manifest claiming a huge file", manifest, `{"files":[{"path":"app","size":99999999999999,"sha256":"` + strings.Repeat("0", 64) + `"}]}`, "which no upload wrote"},
		{"manifest not JSON", manifest, "\x00\x01", "manifest"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := s.Put(ctx, engine.ArtifactKey{Run: "R1", Stage: "build", Action: "a"}, dir, []string{"app"}); err != nil {
				t.Fatalf("Put: %v", err)
			}
			f.replace(t, c.key, []byte(c.body))
			out := t.TempDir()
			err := s.Get(ctx, "R1", "build", []string{"app"}, out)
			if err == nil || !strings.Contains(err.Error(), c.problem) {
				t.Fatalf("Get after the object was replaced: %v; want an error saying %q", err, c.problem)
			}
			// Nothing half-written or unverified is left for a stage to use.
			if entries, _ := os.ReadDir(out); len(entries) != 0 {
				t.Errorf("Get left %v", entries)
			}
		})
	}
}

func TestUploadIsBounded(t *testing.T) {
	f := newFixture(t)
	f.store.SetMaxFile(8)
	s := f.scoped(t, false)
	dir := workDir(t, map[string]string{"big": "0123456789"})
	err := s.Put(t.Context(), engine.ArtifactKey{Run: "R1", Stage: "build", Action: "a"}, dir, []string{"big"})
	if err == nil || !strings.Contains(err.Error(), "more than the 8") {
		t.Fatalf("Put of a file over the bound: %v", err)
	}
	if keys := f.keys(t, "ci/"); len(keys) != 0 {
		t.Errorf("objects left: %q", keys)
	}
}

func TestUploadRefusesLinksAndFIFOs(t *testing.T) {
	f := newFixture(t)
	s := f.scoped(t, false)
	dir := workDir(t, map[string]string{"ok": "ok"})
	secret := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(secret, []byte("s3cr3t"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(secret, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"link", "../secret", "/etc/passwd"} {
		if err := s.Put(t.Context(), engine.ArtifactKey{Run: "R1", Stage: "build", Action: "a"}, dir, []string{p}); err == nil {
			t.Errorf("Put of %q succeeded", p)
		}
	}
	if keys := f.keys(t, "ci/"); len(keys) != 0 {
		t.Errorf("objects left: %q", keys)
	}
}

// TestForkRunCannotReachTrustedArtifacts: a fork's run names a trusted
// run's artifacts, directly and with ../ in every part it controls, and
// reads nothing of them and writes nothing beside them.
func TestForkRunCannotReachTrustedArtifacts(t *testing.T) {
	f := newFixture(t)
	ctx := t.Context()
	trusted, fork := f.scoped(t, false), f.scoped(t, true)
	dir := workDir(t, map[string]string{"app": "trusted build"})
	if err := trusted.Put(ctx, engine.ArtifactKey{Run: "T1", Stage: "build", Action: "compile"}, dir, []string{"app"}); err != nil {
		t.Fatalf("Put: %v", err)
	}
	before := f.keys(t, "ci/stagegate/trusted/")

	gets := []struct{ run, stage, path string }{
		{"T1", "build", "app"},
		{"../../../trusted/acme/web/T1", "build", "app"},
		{"..", "..", "trusted/acme/web/T1/build/compile/files/app"},
		{"T1", "build", "../../../../../trusted/acme/web/T1/build/compile/files/app"},
		{"T1", "../../../../trusted/acme/web/T1/build", "app"},
	}
	for _, g := range gets {
		out := t.TempDir()
		if err := fork.Get(ctx, g.run, g.stage, []string{g.path}, out); err == nil {
			t.Errorf("fork Get(%q, %q, %q) succeeded: %q", g.run, g.stage, g.path, readDir(t, out))
		} else if got := readDir(t, out); len(got) != 0 {
			t.Errorf("fork Get(%q, %q, %q) failed (%v) but left %q", g.run, g.stage, g.path, err, got)
		}
	}
	evil := workDir(t, map[string]string{"app": "evil"})
	puts := []engine.ArtifactKey{
		{Run: "../../../trusted/acme/web/T1", Stage: "build", Action: "compile"},
		{Run: "..", Stage: "..", Action: ".."},
		{Run: "T1/../../../../trusted/acme/web/T1", Stage: "build", Action: "compile"},
	}
	for _, k := range puts {
		if err := fork.Put(ctx, k, evil, []string{"app"}); err == nil {
			t.Errorf("fork Put(%+v) succeeded", k)
		}
	}
	// The fork's own run of the same id lands under untrusted/, apart.
	if err := fork.Put(ctx, engine.ArtifactKey{Run: "T1", Stage: "build", Action: "compile"}, evil, []string{"app"}); err != nil {
		t.Fatalf("fork Put of its own run: %v", err)
	}
	if after := f.keys(t, "ci/stagegate/trusted/"); !slices.Equal(before, after) {
		t.Errorf("trusted objects changed: %q, then %q", before, after)
	}
	out := t.TempDir()
	if err := trusted.Get(ctx, "T1", "build", []string{"app"}, out); err != nil || readDir(t, out)["app"] != "trusted build" {
		t.Errorf("trusted Get after the attack: %v, %q", err, readDir(t, out))
	}
	for _, repo := range []string{"../trusted", "acme/web/../../trusted", "acme", "acme/..", "./web"} {
		if _, err := f.store.For(true, repo); err == nil {
			t.Errorf("For(fork, %q) succeeded", repo)
		}
	}
}

func TestOpenSaysWhatIsWrong(t *testing.T) {
	cfg := awstest.Config(t)
	_, err := s3artifacts.Open(t.Context(), cfg, s3artifacts.Location{Bucket: awstest.Name(t, "missing")})
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("Open of a missing bucket: %v", err)
	}
	// Without a region, the bucket's own is asked for.
	f := newFixture(t)
	cfg.Region = ""
	if _, err := s3artifacts.Open(context.Background(), cfg, s3artifacts.Location{Bucket: f.bucket}); err != nil {
		t.Errorf("Open without a region: %v", err)
	}
}
