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

// newCodeBuildHarness is an App with an OIDC issuer whose AWS calls go
// to moto and whose CodeBuild is the wire fake, with a project
// web-build and a staging bucket.
func newCodeBuildHarness(t *testing.T, files map[string]string) (*harness, *codebuildfake.Fake, aws.Config) {
	t.Helper()
	moto := awstest.Config(t)
	staging := awstest.Name(t, "staging")
	if _, err := s3.NewFromConfig(moto).CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: &staging}); err != nil {
		t.Fatal(err)
	}
	fake := codebuildfake.New(t, moto)
	fake.Flush = 50 * time.Millisecond
	fake.Project("web-build")
	h := newHarness(t, files)
	h.stop()
	h.cfg.PublicURL = "https://stagegate.example.com"
	h.cfg.CodeBuildStaging = "s3://" + staging + "/stagegate"
	h.options = func(o *app.Options) {
		o.AWS = func(context.Context) (aws.Config, error) { return moto, nil }
		o.CodeBuild = func(r *codebuild.Runner) {
			r.CodeBuildEndpoint, r.LogsEndpoint = fake.URL, fake.URL
			r.Poll = 100 * time.Millisecond
		}
	}
	h.start()
	return h, fake, moto
}

// An artifact of an earlier, local stage reaches the build on CodeBuild
// under $STAGEGATE_ARTIFACTS, outside the workspace the build sends back.
func TestEarlierArtifactsReachTheCodeBuildBuild(t *testing.T) {
	const pipeline = `aws: {role: "arn:aws:iam::123456789012:role/build", region: us-east-1}
stages:
  - name: tools
    actions:
      - name: make
        run: |
          mkdir -p bin && printf '#!/bin/sh\necho "tool says $1"\n' > bin/tool && chmod +x bin/tool
        artifacts: [bin/tool]
  - name: build
    runner: {type: codebuild, project: web-build}
    actions:
      - name: use
        run: |
          "$STAGEGATE_ARTIFACTS/bin/tool" from-codebuild
          ls -A
`
	h, fake, _ := newCodeBuildHarness(t, map[string]string{".stagegate.yml": pipeline})
	sha := h.push("main", map[string]string{"README": "x"})
	checks := h.waitChecks(sha, 90*time.Second)
	build := checks["stagegate/build"]
	if build.Conclusion != "success" {
		t.Fatalf("build %s:%s\n%s", build.Conclusion, describeChecks(checks), build.Output.Text)
	}
	if !strings.Contains(build.Output.Text, "tool says from-codebuild") {
		t.Errorf("the build did not run the earlier stage's artifact:\n%s", build.Output.Text)
	}
	if strings.Contains(build.Output.Text, ".stagegate-artifacts") {
		t.Errorf("the artifacts were left in the build's workspace:\n%s", build.Output.Text)
	}
	if n := len(fake.Starts()); n != 1 {
		t.Errorf("%d builds started, want 1", n)
	}
}
