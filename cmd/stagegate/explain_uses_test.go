//go:build unix

package main

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stagegate/stagegate/internal/awstest"
)

func TestExplainSaysWhatUsesDoes(t *testing.T) {
	dir := workTree(t, `aws: {role: "arn:aws:iam::123456789012:role/deploy", region: eu-west-1}
stages:
  - name: infra
    actions:
      - name: stack
        uses: aws/cloudformation
        with: {stack: web, template: infra/stack.yml}
  - name: site
    if: branch == "main"
    actions:
      - name: upload
        uses: aws/s3
        with: {bucket: www.example.com, source: dist, prefix: v1/, delete: true}
`)
	res := stagegate(t, dir, nil, "explain", "--branch", "main")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	for _, w := range []string{
		"infra/stack (aws/cloudformation): create a change set of stack web from infra/stack.yml and show it, without executing it",
		"as role arn:aws:iam::123456789012:role/deploy",
		"site/upload (aws/s3): upload dist/ to s3://www.example.com/v1/, deleting keys under the prefix the source no longer has",
	} {
		if !strings.Contains(res.stdout, w) {
			t.Errorf("stdout lacks %q:\n%s", w, res.stdout)
		}
	}
	res = stagegate(t, dir, nil, "explain", "--branch", "feature/x")
	if strings.Contains(res.stdout, "site/upload") {
		t.Errorf("explain describes an integration of a stage that would not run:\n%s", res.stdout)
	}
}

// stagegate run runs uses: actions with the developer's own credentials,
// here moto's through the SDK's standard AWS_ENDPOINT_URL.
func TestRunUsesWithOwnCredentials(t *testing.T) {
	moto := awstest.URL(t)
	bucket := awstest.Name(t, "cli")
	if _, err := s3.NewFromConfig(awstest.Config(t)).CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	dir := workTree(t, `stages:
  - name: build
    actions: [{ name: site, run: "mkdir -p dist && echo hi > dist/index.html" }]
  - name: publish
    actions:
      - name: upload
        uses: aws/s3
        with: {bucket: `+bucket+`, source: dist, prefix: web/}
  - name: check
    actions: [{ name: count, run: "echo uploaded=$STAGEGATE_OUTPUT_PUBLISH_UPLOADED" }]
`)
	env := []string{"AWS_ENDPOINT_URL=" + moto, "AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_REGION=" + awstest.Region,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"}
	res := stagegate(t, dir, env, "run", "--sandbox=off")
	if res.code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stdout, "uploaded=1") || !strings.Contains(res.stdout, "s3://"+bucket+"/web/index.html") {
		t.Errorf("stdout:\n%s", res.stdout)
	}
	if _, err := s3.NewFromConfig(awstest.Config(t)).HeadObject(context.Background(), &s3.HeadObjectInput{Bucket: &bucket, Key: aws.String("web/index.html")}); err != nil {
		t.Errorf("object not uploaded: %v", err)
	}
}
