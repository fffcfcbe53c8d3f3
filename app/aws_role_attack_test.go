package app_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/stagegate/stagegate/internal/awstest"
)

// showKey prints the action's access key id with a dash after each
// character, which the log's masking does not hide, so that the test can
// ask moto's STS whose key it is.
const showKey = `echo "key=$(printf %s "$AWS_ACCESS_KEY_ID" | sed 's/./&-/g')"`

// roleOfKey is the role whose session the access key id printed by
// showKey in text belongs to, as moto's STS says.
func roleOfKey(t *testing.T, text string) string {
	t.Helper()
	m := regexp.MustCompile(`key=([A-Za-z0-9-]+)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no key in the log:\n%s", text)
	}
	cfg := awstest.Config(t)
	cfg.Credentials = credentials.NewStaticCredentialsProvider(strings.ReplaceAll(m[1], "-", ""), "x", "y")
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(id.Arn)
}

// The reviewed file names the role production deploys with (its deploy
// stage's aws:) and staging's (its environments: entry). A branch
// allowed to deploy there rewrites its deploy stage's role to a more
// powerful one: it must get a token for the reviewed role, not its own.
// A stage that does not deploy keeps its file's role: the token's sub
// ("...:ref:refs/heads/evil") is what limits it.
func TestAttackBranchCannotChooseItsDeployRole(t *testing.T) {
	const reviewed = `environments:
  staging: { aws: { role: "arn:aws:iam::123456789012:role/stager", region: us-east-1 } }
stages:
  - name: deploy
    environment: production
    aws: {role: "arn:aws:iam::123456789012:role/deployer", region: us-east-1}
    actions:
      - name: ship
        run: |
          ` + showKey + `
`
	h := newAWSHarness(t, reviewed)
	evil := `stages:
  - name: check
    aws: {role: "arn:aws:iam::123456789012:role/branch-ci", region: us-east-1}
    actions:
      - name: look
        run: |
          ` + showKey + `
  - name: deploy
    environment: production
    aws: {role: "arn:aws:iam::123456789012:role/admin", region: us-east-1}
    actions:
      - name: ship
        run: |
          ` + showKey + `
`
	evil += `  - name: stage
    environment: staging
    aws: {role: "arn:aws:iam::123456789012:role/admin", region: us-east-1}
    actions:
      - name: ship
        run: |
          ` + showKey + "\n"
	sha := h.push("evil", map[string]string{".stagegate.yml": evil})
	checks := h.waitChecks(sha, 60*time.Second)
	deploy, check := checks["stagegate/deploy"], checks["stagegate/check"]
	if deploy.Conclusion != "success" || check.Conclusion != "success" {
		t.Fatalf("deploy %s, check %s:\n%s\n%s", deploy.Conclusion, check.Conclusion, deploy.Output.Summary, deploy.Output.Text)
	}
	if arn := roleOfKey(t, deploy.Output.Text); !strings.Contains(arn, ":assumed-role/deployer/") {
		t.Errorf("the branch's deploy got a session of %s, want the reviewed role deployer", arn)
	}
	if st := checks["stagegate/stage"]; st.Conclusion != "success" {
		t.Errorf("staging deploy %s: %s", st.Conclusion, st.Output.Summary)
	} else if arn := roleOfKey(t, st.Output.Text); !strings.Contains(arn, ":assumed-role/stager/") {
		t.Errorf("the branch's staging deploy got %s, want the role of environments.staging, stager", arn)
	}
	if arn := roleOfKey(t, check.Output.Text); !strings.Contains(arn, ":assumed-role/branch-ci/") {
		t.Errorf("a stage that does not deploy got %s, want its own file's role branch-ci", arn)
	}
}
