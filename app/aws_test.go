package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"

	"github.com/stagegate/stagegate/app"
	"github.com/stagegate/stagegate/internal/awstest"
	"github.com/stagegate/stagegate/oidc"
)

// newAWSHarness is an App with a public URL, so an OIDC issuer, whose
// AWS calls go to moto.
func newAWSHarness(t *testing.T, pipeline string) *harness {
	t.Helper()
	moto := awstest.Config(t)
	h := newHarness(t, map[string]string{".stagegate.yml": pipeline})
	h.stop()
	h.cfg.PublicURL = "https://stagegate.example.com"
	h.options = func(o *app.Options) {
		o.AWS = func(context.Context) (aws.Config, error) { return moto, nil }
	}
	h.start()
	return h
}

func TestAppServesOIDCDiscovery(t *testing.T) {
	h := newAWSHarness(t, "stages: [{name: s, actions: [{name: a, run: 'true'}]}]\n")
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	getJSON(t, h.srv.URL+oidc.DiscoveryPath, &doc)
	if doc.Issuer != "https://stagegate.example.com" || doc.JWKSURI != "https://stagegate.example.com"+oidc.JWKSPath {
		t.Errorf("discovery %+v", doc)
	}
	var jwks1, jwks2 struct {
		Keys []map[string]string `json:"keys"`
	}
	getJSON(t, h.srv.URL+oidc.JWKSPath, &jwks1)
	fi, err := os.Stat(filepath.Join(h.cfg.DataDir, oidc.KeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("signing key file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	// A restart serves the same key: tokens already handed out verify.
	h.stop()
	h.start()
	getJSON(t, h.srv.URL+oidc.JWKSPath, &jwks2)
	if len(jwks1.Keys) != 1 || len(jwks2.Keys) != 1 || jwks1.Keys[0]["n"] != jwks2.Keys[0]["n"] || jwks1.Keys[0]["kid"] == "" {
		t.Errorf("keys before and after a restart: %v / %v", jwks1.Keys, jwks2.Keys)
	}
}

// A run: action naming a role gets that role's short-lived credentials,
// masked; an action without one gets none.
func TestRoleCredentialsReachTheAction(t *testing.T) {
	h := newAWSHarness(t, `stages:
  - name: build
    actions:
      - name: cloud
        aws: {role: "arn:aws:iam::123456789012:role/ci", region: eu-west-1}
        run: |
          test -n "$AWS_SESSION_TOKEN"
          echo "key=$AWS_ACCESS_KEY_ID region=$AWS_REGION"
      - name: plain
        run: echo "plain=${AWS_ACCESS_KEY_ID:-none}"
`)
	sha := h.push("main", map[string]string{"README": "x"})
	checks := h.waitChecks(sha, 60*time.Second)
	build := checks["stagegate/build"]
	if build.Conclusion != "success" {
		t.Fatalf("build %s: %s\n%s", build.Conclusion, build.Output.Summary, build.Output.Text)
	}
	text := build.Output.Text
	if !strings.Contains(text, "key=*** region=eu-west-1") || !strings.Contains(text, "plain=none") {
		t.Errorf("log does not show masked credentials for cloud and none for plain:\n%s", text)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// A pull request shows the change set its template would make on the
// stage's check, and changes nothing; the role's credentials come from
// moto's STS through the App's OIDC token.
func TestPullRequestShowsChangeSet(t *testing.T) {
	stack := awstest.Name(t, "web")
	h := newAWSHarness(t, "stages: [{name: s, actions: [{name: a, run: 'true'}]}]\n")
	pipeline := `aws: {role: "arn:aws:iam::123456789012:role/plan", region: us-east-1}
stages:
  - name: infra
    actions:
      - name: stack
        uses: aws/cloudformation
        with: {stack: ` + stack + `, template: stack.yml}
`
	template := "Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n"
	sha := h.openPR(41, "infra", "", map[string]string{".stagegate.yml": pipeline, "stack.yml": template})
	checks := h.waitChecks(sha, 60*time.Second)
	infra := checks["stagegate/infra"]
	if infra.Conclusion != "success" {
		t.Fatalf("infra %s: %s\n%s", infra.Conclusion, infra.Output.Summary, infra.Output.Text)
	}
	if !containsAll(infra.Output.Text, "CHANGE", "add", "Queue", "AWS::SQS::Queue", "not executed") {
		t.Errorf("the check does not show the change set:\n%s", infra.Output.Text)
	}
	// The table is in the check's summary, where a reviewer sees it
	// without opening the log.
	if !containsAll(infra.Output.Summary, "#### `stack`", "would make 1 change: 1 to add",
		"| Change | Logical ID | Type | Replacement |", "| add | `Queue` | `AWS::SQS::Queue` |", "Not executed") {
		t.Errorf("the check's summary does not show the change table:\n%s", infra.Output.Summary)
	}
	cfg := awstest.Config(t)
	out, err := cloudformation.NewFromConfig(cfg).DescribeStacks(context.Background(), &cloudformation.DescribeStacksInput{StackName: aws.String(stack)})
	if err == nil && len(out.Stacks) > 0 && out.Stacks[0].StackStatus != "DELETE_COMPLETE" {
		t.Errorf("a pull request left stack %s %s", stack, out.Stacks[0].StackStatus)
	}
}
