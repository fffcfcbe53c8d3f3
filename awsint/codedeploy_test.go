package awsint_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stagegate/stagegate/internal/awstest"
)

// codeDeployGroup is an application, a deployment group and a bucket
// for revisions, in moto.
type codeDeployGroup struct {
	client             *codedeploy.Client
	s3                 *s3.Client
	app, group, bucket string
}

func newCodeDeployGroup(t *testing.T) *codeDeployGroup {
	t.Helper()
	ctx := context.Background()
	cfg := awstest.Config(t)
	g := &codeDeployGroup{client: codedeploy.NewFromConfig(cfg), s3: s3.NewFromConfig(cfg),
		app: awstest.Name(t, "app"), group: awstest.Name(t, "fleet"), bucket: awstest.Name(t, "revs")}
	if _, err := g.client.CreateApplication(ctx, &codedeploy.CreateApplicationInput{ApplicationName: &g.app, ComputePlatform: cdtypes.ComputePlatformServer}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.client.CreateDeploymentGroup(ctx, &codedeploy.CreateDeploymentGroupInput{ApplicationName: &g.app, DeploymentGroupName: &g.group,
		ServiceRoleArn: aws.String("arn:aws:iam::123456789012:role/codedeploy"), DeploymentConfigName: aws.String("CodeDeployDefault.OneAtATime")}); err != nil {
		t.Fatal(err)
	}
	if _, err := g.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &g.bucket}); err != nil {
		t.Fatal(err)
	}
	return g
}

// deploy runs the action. moto creates a deployment but never starts
// it (its status stays Created), so an applied run is cancelled once
// the deployment exists: the revision and the deployment are what moto
// can show; following one to its end is on the wire fake.
func (g *codeDeployGroup) deploy(t *testing.T, ws string, with map[string]any, apply bool) (map[string]string, []string, error) {
	t.Helper()
	r := hostRunner(t)
	r.Poll = 20 * time.Millisecond
	with["application"], with["deployment_group"] = g.app, g.group
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var log []string
	c := call(ws, "aws/codedeploy", with, &log)
	c.Apply, c.RunID = apply, "r1"
	inner := c.Log
	c.Log = func(l string) {
		inner(l)
		if strings.HasPrefix(l, "created deployment ") {
			cancel()
		}
	}
	res, err := r.Run(ctx, c)
	t.Logf("log:\n%s", strings.Join(log, "\n"))
	return res.Outputs, log, err
}

func (g *codeDeployGroup) deployments(t *testing.T) []string {
	t.Helper()
	out, err := g.client.ListDeployments(context.Background(), &codedeploy.ListDeploymentsInput{ApplicationName: &g.app, DeploymentGroupName: &g.group})
	if err != nil {
		t.Fatal(err)
	}
	return out.Deployments
}

// motoDeployment reads a deployment from moto without the SDK, which
// refuses moto's answer: moto writes its timestamps as ISO 8601 strings
// where the JSON protocol has epoch seconds. The JSON 1.1 request is
// the SDK's, signature aside (moto routes by the credential scope and
// checks no signature).
func motoDeployment(t *testing.T, id string) (d struct {
	Description string
	Revision    struct {
		S3Location struct{ Bucket, Key, BundleType, ETag string }
	}
}) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, awstest.URL(t)+"/", strings.NewReader(`{"deploymentId": "`+id+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", "CodeDeploy_20141006.GetDeployment")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=testing/20260101/"+awstest.Region+"/codedeploy/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ DeploymentInfo json.RawMessage }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("moto's GetDeployment: %s, %v", resp.Status, err)
	}
	if err := json.Unmarshal(out.DeploymentInfo, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestCodeDeployUploadsTheSource(t *testing.T) {
	g := newCodeDeployGroup(t)
	ctx := context.Background()
	ws := t.TempDir()
	writeFiles(t, ws, map[string]string{
		"bundle/appspec.yml":       "version: 0.0\nos: linux\nhooks:\n  ApplicationStart:\n    - location: scripts/start.sh\n",
		"bundle/scripts/start.sh":  "#!/bin/sh\nexec ./web\n",
		"bundle/public/index.html": "<h1>hi</h1>",
		"secret.txt":               "not for the bundle",
	})
	if err := os.Chmod(filepath.Join(ws, "bundle/scripts/start.sh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../secret.txt", filepath.Join(ws, "bundle", "leak.txt")); err != nil {
		t.Fatal(err)
	}
	with := map[string]any{"source": "bundle", "bucket": g.bucket, "key_prefix": "revisions/"}

	// A pull request: nothing uploaded, no deployment.
	_, log, err := g.deploy(t, ws, with, false)
	if err != nil {
		t.Fatal(err)
	}
	if !hasLine(log, "would upload it to s3://"+g.bucket+"/revisions/", "and deploy it to deployment group "+g.group, "configuration CodeDeployDefault.OneAtATime") {
		t.Errorf("plan does not say what it would do")
	}
	objs, err := g.s3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &g.bucket})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs.Contents) != 0 || len(g.deployments(t)) != 0 {
		t.Fatalf("a plan uploaded %d objects and made deployments %v", len(objs.Contents), g.deployments(t))
	}

	out, log, err := g.deploy(t, ws, with, true)
	if err == nil || !strings.Contains(err.Error(), "context canceled") {
		t.Fatalf("error %v, want the cancellation this test causes", err)
	}
	id := out["deployment_id"]
	if ds := g.deployments(t); id == "" || !slices.Equal(ds, []string{id}) {
		t.Fatalf("deployment_id %q, deployments %v", id, ds)
	}
	if !hasLine(log, "left out bundle/leak.txt") || !hasLine(log, "zipped 3 files of bundle/") {
		t.Errorf("log does not account for the files")
	}
	d := motoDeployment(t, id)
	loc := d.Revision.S3Location
	if loc.Bucket != g.bucket || !strings.HasPrefix(loc.Key, "revisions/"+g.app+"-r1-") || loc.BundleType != "zip" {
		t.Fatalf("revision %+v", loc)
	}
	if !strings.Contains(d.Description, "stagegate run r1") {
		t.Errorf("description %q", d.Description)
	}
	obj, err := g.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &loc.Bucket, Key: &loc.Key})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Body.Close()
	if strings.Trim(aws.ToString(obj.ETag), `"`) != loc.ETag || loc.ETag == "" {
		t.Errorf("revision's ETag %q, object's %q", loc.ETag, aws.ToString(obj.ETag))
	}
	body, err := io.ReadAll(obj.Body)
	if err != nil {
		t.Fatal(err)
	}
	z, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range z.File {
		names = append(names, f.Name)
		if f.Name == "scripts/start.sh" && f.Mode()&0o100 == 0 {
			t.Errorf("start.sh lost its executable bit: %v", f.Mode())
		}
	}
	slices.Sort(names)
	if want := []string{"appspec.yml", "public/index.html", "scripts/start.sh"}; !slices.Equal(names, want) {
		t.Errorf("bundle holds %v, want %v", names, want)
	}
}

func TestCodeDeployExistingRevision(t *testing.T) {
	tests := []struct {
		key  string
		want cdtypes.BundleType
	}{
		{"web/1.2.3.tar.gz", cdtypes.BundleTypeTarGZip},
		{"web/1.2.3.zip", cdtypes.BundleTypeZip},
		{"web/appspec.yaml", cdtypes.BundleTypeYaml},
	}
	g := newCodeDeployGroup(t)
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			out, _, err := g.deploy(t, t.TempDir(), map[string]any{"s3_bucket": g.bucket, "s3_key": tt.key}, true)
			if err == nil {
				t.Fatal("no error, want the cancellation this test causes")
			}
			loc := motoDeployment(t, out["deployment_id"]).Revision.S3Location
			if loc.Bucket != g.bucket || loc.Key != tt.key || loc.BundleType != string(tt.want) {
				t.Errorf("revision %+v, want %s as %s", loc, tt.key, tt.want)
			}
		})
	}
}

func TestCodeDeployBadInput(t *testing.T) {
	g := newCodeDeployGroup(t)
	ws := t.TempDir()
	writeFiles(t, ws, map[string]string{"noappspec/index.html": "x", "linked/real.yml": "version: 0.0"})
	if err := os.Symlink("real.yml", filepath.Join(ws, "linked", "appspec.yml")); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	writeFiles(t, outside, map[string]string{"appspec.yml": "version: 0.0", "secret.txt": "x"})
	if err := os.Symlink(outside, filepath.Join(ws, "out")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		with map[string]any
		want string
	}{
		{"no appspec", map[string]any{"source": "noappspec", "bucket": g.bucket}, "source noappspec: has no appspec.yml or appspec.yaml"},
		{"appspec a link", map[string]any{"source": "linked", "bucket": g.bucket}, "source linked: has no appspec.yml"},
		{"no such source", map[string]any{"source": "dist", "bucket": g.bucket}, "source dist: has no appspec.yml"},
		// A link out of the workspace is not followed.
		{"source a link out", map[string]any{"source": "out", "bucket": g.bucket}, "source out: has no appspec.yml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := g.deploy(t, ws, tt.with, true)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want %q", err, tt.want)
			}
		})
	}
	objs, err := g.s3.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: &g.bucket})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs.Contents) != 0 || len(g.deployments(t)) != 0 {
		t.Errorf("bad input uploaded %d objects and made deployments %v", len(objs.Contents), g.deployments(t))
	}
	g.group = awstest.Name(t, "nogroup")
	if _, _, err := g.deploy(t, ws, map[string]any{"s3_bucket": g.bucket, "s3_key": "a.zip"}, false); err == nil || !strings.Contains(err.Error(), "deployment group "+g.group+" of application "+g.app) {
		t.Errorf("error %v, want the missing group", err)
	}
}
