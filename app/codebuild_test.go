//go:build unix

package app_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stagegate/stagegate/app"
	"github.com/stagegate/stagegate/codebuild"
	"github.com/stagegate/stagegate/internal/awstest"
	"github.com/stagegate/stagegate/internal/codebuildfake"
)

const codeBuildPipeline = `aws: {role: "arn:aws:iam::123456789012:role/build", region: us-east-1}
secrets: [NPM_TOKEN]
stages:
  - name: build
    runner: {type: codebuild, project: web-build}
    actions:
      - name: compile
        run: |
          echo "compiling $(cat README)"
          echo "token=$NPM_TOKEN"
          test "$(cat README)" != fail
          echo built-remotely > app.bin
        artifacts: [app.bin]
  - name: ship
    actions:
      - name: here
        run: echo "local sees $(cat app.bin)"
`

// A push whose build stage runs on CodeBuild (the wire fake, with moto's
// S3, SSM and STS) shows the build's log on the stage's check, and a
// later local stage sees what the build left in the workspace; a failing
// build fails the check with its failed phase.
func TestCodeBuildStageReportsOnItsCheck(t *testing.T) {
	const token = "npm_s3cr3t-token-value"
	t.Setenv("STAGEGATE_SECRET_NPM_TOKEN", token)
	moto := awstest.Config(t)
	bucket := awstest.Name(t, "cbapp")
	if _, err := s3.NewFromConfig(moto).CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	fake := codebuildfake.New(t, moto)
	fake.Flush = 50 * time.Millisecond
	fake.Project("web-build")
	h := newHarness(t, map[string]string{".stagegate.yml": codeBuildPipeline, "README": "ok"})
	h.stop()
	h.cfg.PublicURL = "https://stagegate.example.com"
	h.cfg.CodeBuildStaging = "s3://" + bucket + "/stagegate"
	h.options = func(o *app.Options) {
		o.AWS = func(context.Context) (aws.Config, error) { return moto, nil }
		o.CodeBuild = func(r *codebuild.Runner) {
			r.CodeBuildEndpoint, r.LogsEndpoint = fake.URL, fake.URL
			r.Poll = 100 * time.Millisecond
		}
	}
	h.start()

	sha := h.push("main", map[string]string{"README": "the-app"})
	checks := h.waitChecks(sha, 90*time.Second)
	build, ship := checks["stagegate/build"], checks["stagegate/ship"]
	if build.Conclusion != "success" || ship.Conclusion != "success" {
		t.Fatalf("build %s, ship %s:\n%s\n%s", build.Conclusion, ship.Conclusion, build.Output.Text, ship.Output.Text)
	}
	if !containsAll(build.Output.Text, "compiling the-app", "Entering phase BUILD") {
		t.Errorf("the build's check lacks its CodeBuild log:\n%s", build.Output.Text)
	}
	if !strings.Contains(ship.Output.Text, "local sees built-remotely") {
		t.Errorf("the next stage did not see the build's workspace:\n%s", ship.Output.Text)
	}
	if !strings.Contains(build.Output.Text, "token=***") || strings.Contains(build.Output.Text, token) {
		t.Errorf("the build's log does not show the secret masked:\n%s", build.Output.Text)
	}
	starts := fake.Starts()
	if len(starts) != 1 {
		t.Fatalf("%d builds started, want 1", len(starts))
	}
	if body := string(starts[0].Body); strings.Contains(body, token) || !strings.Contains(body, "PARAMETER_STORE") {
		t.Errorf("StartBuild carries the secret, or not as a Parameter Store reference: %s", body)
	}

	sha = h.push("main", map[string]string{"README": "fail"})
	checks = h.waitChecks(sha, 90*time.Second)
	build = checks["stagegate/build"]
	if build.Conclusion != "failure" {
		t.Fatalf("failing build concluded %s:\n%s", build.Conclusion, build.Output.Text)
	}
	if !containsAll(build.Output.Text+build.Output.Summary, "compiling fail", "FAILED in phase BUILD") {
		t.Errorf("the failed build's check:\n%s\n%s", build.Output.Summary, build.Output.Text)
	}
}
