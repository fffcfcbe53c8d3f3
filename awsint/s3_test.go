package awsint_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stagegate/stagegate/awsint"
	"github.com/stagegate/stagegate/internal/awstest"
	"github.com/stagegate/stagegate/pipeline"
	"github.com/stagegate/stagegate/pipeline/engine"
)

// hostRunner is stagegate run's: the host's credentials, here moto's.
func hostRunner(t *testing.T) *awsint.Runner {
	t.Helper()
	cfg := awstest.Config(t)
	r := awsint.NewRunner()
	r.HostCredentials = true
	r.Load = func(context.Context) (aws.Config, error) { return cfg, nil }
	return r
}

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func call(ws, uses string, with map[string]any, log *[]string) engine.IntegrationCall {
	return engine.IntegrationCall{
		Stage:     &pipeline.Stage{Name: "site"},
		Action:    &pipeline.Action{Name: "upload", Uses: uses, With: with},
		Workspace: ws, Dir: ws,
		Env: map[string]string{},
		Log: func(l string) { *log = append(*log, l) },
	}
}

func TestS3Upload(t *testing.T) {
	ctx := context.Background()
	r := hostRunner(t)
	client := s3.NewFromConfig(awstest.Config(t))
	bucket := awstest.Name(t, "site")
	if _, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"v1/old.html", "other/keep.txt"} {
		if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: aws.String(key), Body: strings.NewReader("old")}); err != nil {
			t.Fatal(err)
		}
	}
	ws := t.TempDir()
	writeFiles(t, ws, map[string]string{
		"dist/index.html":   "<h1>hi</h1>",
		"dist/app.wasm":     "\x00asm",
		"dist/assets/a.css": "body{}",
		"secret.txt":        "not for upload",
	})
	// A link out of the source is not followed.
	if err := os.Symlink(filepath.Join(ws, "secret.txt"), filepath.Join(ws, "dist", "leak.txt")); err != nil {
		t.Fatal(err)
	}
	var log []string
	res, err := r.Run(ctx, call(ws, "aws/s3", map[string]any{
		"bucket": bucket, "source": "dist", "prefix": "v1/", "delete": true,
		"content_types": map[string]string{"*.wasm": "application/wasm"},
		"cache_control": "max-age=60",
	}, &log))
	if err != nil {
		t.Fatalf("%v\n%s", err, strings.Join(log, "\n"))
	}
	if res.Outputs["uploaded"] != "3" || res.Outputs["deleted"] != "1" {
		t.Errorf("outputs %v, want 3 uploaded and 1 deleted", res.Outputs)
	}
	want := map[string]string{
		"v1/index.html":   "text/html; charset=utf-8",
		"v1/app.wasm":     "application/wasm",
		"v1/assets/a.css": "text/css; charset=utf-8",
	}
	for key, ct := range want {
		head, err := client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String(key)})
		if err != nil {
			t.Errorf("%s: %v", key, err)
			continue
		}
		if aws.ToString(head.ContentType) != ct || aws.ToString(head.CacheControl) != "max-age=60" {
			t.Errorf("%s: content type %q cache control %q", key, aws.ToString(head.ContentType), aws.ToString(head.CacheControl))
		}
	}
	list, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range list.Contents {
		keys = append(keys, *o.Key)
	}
	if strings.Join(keys, " ") != "other/keep.txt v1/app.wasm v1/assets/a.css v1/index.html" {
		t.Errorf("bucket holds %v: the stale key under the prefix should be gone, the link not followed, other keys kept", keys)
	}
	obj, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: aws.String("v1/index.html")})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(obj.Body)
	obj.Body.Close()
	if string(body) != "<h1>hi</h1>" {
		t.Errorf("index.html holds %q", body)
	}
}

func TestCredentialsRules(t *testing.T) {
	ws := t.TempDir()
	writeFiles(t, ws, map[string]string{"dist/a": "a"})
	with := map[string]any{"bucket": "nowhere", "source": "dist"}
	tests := []struct {
		name      string
		host      bool
		untrusted bool
		want      string
	}{
		{"app without a role", false, false, "no AWS credentials: name a role"},
		{"fork run", true, true, "not trusted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := hostRunner(t)
			r.HostCredentials = tt.host
			var log []string
			c := call(ws, "aws/s3", with, &log)
			c.Untrusted = tt.untrusted
			_, err := r.Run(context.Background(), c)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
}
