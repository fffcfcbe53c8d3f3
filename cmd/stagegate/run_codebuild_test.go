//go:build unix

package main

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stagegate/stagegate/internal/awstest"
	"github.com/stagegate/stagegate/internal/codebuildfake"
)

// stagegate run runs a runner: codebuild action with the developer's own
// credentials: S3 and SSM on moto, CodeBuild and CloudWatch Logs on the
// wire fake, through the SDK's per-service endpoint variables.
func TestRunOnCodeBuildWithOwnCredentials(t *testing.T) {
	moto := awstest.URL(t)
	cfg := awstest.Config(t)
	bucket := awstest.Name(t, "clicb")
	if _, err := s3.NewFromConfig(cfg).CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	fake := codebuildfake.New(t, cfg)
	fake.Flush = 50 * time.Millisecond
	fake.Project("cli-build")
	dir := workTree(t, `stages:
  - name: build
    actions:
      - name: remote
        runner: {type: codebuild, project: cli-build}
        run: echo "hello from $CODEBUILD_BUILD_ID" && echo made > made.txt
  - name: after
    actions: [{ name: look, run: "cat made.txt" }]
`)
	env := []string{"AWS_ENDPOINT_URL=" + moto, "AWS_ENDPOINT_URL_CODEBUILD=" + fake.URL, "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS=" + fake.URL,
		"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_REGION=" + awstest.Region,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "STAGEGATE_CODEBUILD_STAGING=s3://" + bucket + "/dev"}
	res := stagegate(t, dir, env, "run", "--sandbox=off", "--plain")
	if res.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stdout, "hello from cli-build:") || !strings.Contains(res.stdout, "made") {
		t.Errorf("stdout:\n%s", res.stdout)
	}
	if len(fake.Starts()) != 1 {
		t.Errorf("%d builds started", len(fake.Starts()))
	}
}
