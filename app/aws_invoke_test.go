package app_test

import (
	"archive/zip"
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/stagegate/stagegate/internal/awstest"
)

// A push runs aws/invoke with the role's credentials from moto's STS;
// the object the function returns reaches a later stage as outputs.
func TestAWSInvokeOutputsReachLaterStages(t *testing.T) {
	ctx := context.Background()
	// A region of its own: moto's queue of results is per region.
	const region = "eu-west-3"
	cfg := awstest.Config(t)
	cfg.Region = region
	fn := awstest.Name(t, "check")
	role, err := iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String(fn),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`)})
	if err != nil {
		t.Fatal(err)
	}
	var code bytes.Buffer
	z := zip.NewWriter(&code)
	w, _ := z.Create("index.py")
	w.Write([]byte("def h(e, c): return {}"))
	z.Close()
	if _, err := lambda.NewFromConfig(cfg).CreateFunction(ctx, &lambda.CreateFunctionInput{FunctionName: &fn, Role: role.Role.Arn,
		Runtime: ltypes.RuntimePython312, Handler: aws.String("index.h"), Code: &ltypes.FunctionCode{ZipFile: code.Bytes()}}); err != nil {
		t.Fatal(err)
	}
	h := newAWSHarness(t, `aws: {role: "arn:aws:iam::123456789012:role/ci", region: `+region+`}
stages:
  - name: check
    actions:
      - name: smoke
        uses: aws/invoke
        with: {function: `+fn+`, payload: {url: "https://example.com"}}
  - name: report
    actions:
      - name: show
        run: echo "smoke said $STAGEGATE_OUTPUT_CHECK_STATUS with $STAGEGATE_OUTPUT_CHECK_LATENCY"
`)
	awstest.LambdaResults(t, region, `{"status": "healthy", "latency": {"p50": 12}}`)
	sha := h.push("main", map[string]string{"README": "x"})
	checks := h.waitChecks(sha, 60*time.Second)
	check, report := checks["stagegate/check"], checks["stagegate/report"]
	if check.Conclusion != "success" || report.Conclusion != "success" {
		t.Fatalf("check %s, report %s:\n%s\n%s", check.Conclusion, report.Conclusion, check.Output.Text, report.Output.Text)
	}
	if !strings.Contains(check.Output.Text, "invoking function "+fn) {
		t.Errorf("the check's log does not show the call:\n%s", check.Output.Text)
	}
	if !strings.Contains(report.Output.Text, `smoke said healthy with {"p50":12}`) {
		t.Errorf("the later stage did not see the outputs:\n%s", report.Output.Text)
	}
}
