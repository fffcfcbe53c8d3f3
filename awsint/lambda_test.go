package awsint_test

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/stagegate/stagegate/internal/awstest"
)

func zipOf(t *testing.T, body string) []byte {
	t.Helper()
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	w, err := z.Create("index.py")
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte(body))
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// newFunction makes a function in moto, with the role moto requires.
func newFunction(t *testing.T, name string) *lambda.Client {
	t.Helper()
	ctx := context.Background()
	cfg := awstest.Config(t)
	role, err := iam.NewFromConfig(cfg).CreateRole(ctx, &iam.CreateRoleInput{
		RoleName:                 aws.String(awstest.Name(t, "fn")),
		AssumeRolePolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	client := lambda.NewFromConfig(cfg)
	if _, err := client.CreateFunction(ctx, &lambda.CreateFunctionInput{
		FunctionName: &name, Role: role.Role.Arn, Runtime: ltypes.RuntimePython312, Handler: aws.String("index.h"),
		Code: &ltypes.FunctionCode{ZipFile: zipOf(t, "v0")},
	}); err != nil {
		t.Fatal(err)
	}
	return client
}

func TestLambdaPublishAndMoveAlias(t *testing.T) {
	ctx := context.Background()
	fn := awstest.Name(t, "api")
	client := newFunction(t, fn)
	r := hostRunner(t)
	ws := t.TempDir()
	with := map[string]any{"function": fn, "zip": "dist/api.zip", "alias": "live"}
	deploy := func(body string, apply bool) map[string]string {
		t.Helper()
		if err := os.MkdirAll(filepath.Join(ws, "dist"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(ws, "dist", "api.zip"), zipOf(t, body), 0o644); err != nil {
			t.Fatal(err)
		}
		var log []string
		c := call(ws, "aws/lambda", with, &log)
		c.Apply, c.RunID = apply, "r1"
		res, err := r.Run(ctx, c)
		if err != nil {
			t.Fatalf("%v\n%s", err, strings.Join(log, "\n"))
		}
		t.Log(strings.Join(log, "\n"))
		return res.Outputs
	}
	alias := func() string {
		a, err := client.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: &fn, Name: aws.String("live")})
		if err != nil {
			return ""
		}
		return aws.ToString(a.FunctionVersion)
	}

	if out := deploy("v1", false); out["version"] != "" || alias() != "" {
		t.Errorf("outside a deploy: outputs %v, alias %q; want nothing changed", out, alias())
	}
	out := deploy("v1", true)
	if out["version"] == "" || alias() != out["version"] || out["previous_version"] != "" {
		t.Fatalf("first deploy: outputs %v, alias at %q", out, alias())
	}
	first := out["version"]
	out = deploy("v2", true)
	if out["version"] == first || alias() != out["version"] || out["previous_version"] != first {
		t.Errorf("second deploy: outputs %v, alias at %q, first version %s", out, alias(), first)
	}
	v, err := client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: &fn, Qualifier: aws.String(out["version"])})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(v.CodeSha256) != out["code_sha256"] {
		t.Errorf("published version's code %s, want %s", aws.ToString(v.CodeSha256), out["code_sha256"])
	}
}

func TestLambdaMissingFunctionLeavesNothing(t *testing.T) {
	r := hostRunner(t)
	ws := t.TempDir()
	writeFiles(t, ws, map[string]string{"a.zip": "not really a zip"})
	var log []string
	c := call(ws, "aws/lambda", map[string]any{"function": awstest.Name(t, "missing"), "zip": "a.zip", "alias": "live"}, &log)
	c.Apply = true
	_, err := r.Run(context.Background(), c)
	if err == nil || !strings.Contains(err.Error(), "aws/lambda: function ") {
		t.Errorf("error %v, want one naming the missing function", err)
	}
}
