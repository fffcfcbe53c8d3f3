//go:build unix

package codebuild_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/stagegate/stagegate/internal/awstest"
)

// A secret whose value names a Secrets Manager secret (its ARN, with
// CodeBuild's optional :json-key, or secretsmanager:NAME) goes to the
// build as a SECRETS_MANAGER reference alone: the build reads the secret,
// and nothing is put into Parameter Store.
func TestSecretsManagerSecretsGoAsReferences(t *testing.T) {
	e := setup(t)
	sm := secretsmanager.NewFromConfig(e.cfg)
	name := awstest.Name(t, "npm")
	created, err := sm.CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{Name: &name, SecretString: aws.String(`{"token":"npm-from-secrets-manager"}`)})
	if err != nil {
		t.Fatal(err)
	}
	plainName := awstest.Name(t, "plain")
	if _, err := sm.CreateSecret(t.Context(), &secretsmanager.CreateSecretInput{Name: &plainName, SecretString: aws.String("plain-from-secrets-manager")}); err != nil {
		t.Fatal(err)
	}
	byARN := aws.ToString(created.ARN) + ":token::"
	// The script compares digests: the buildspec is in the request too.
	spec := e.spec(`test "$(printf %s "$NPM_TOKEN$PLAIN" | sha256sum | cut -c1-64)" = `+digest("npm-from-secrets-managerplain-from-secrets-manager")+` && echo refs-resolved`,
		"NPM_TOKEN="+byARN, "PLAIN=secretsmanager:"+plainName, "OTHER=a-plain-secret-value")
	spec.Remote.Secret["NPM_TOKEN"], spec.Remote.Secret["PLAIN"], spec.Remote.Secret["OTHER"] = true, true, true
	res, err := e.runner.Run(t.Context(), spec)
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("result %+v, %v; stdout:\n%s\nstderr:\n%s", res, err, e.stdout, e.stderr)
	}
	if !strings.Contains(e.stdout.String(), "refs-resolved") {
		t.Errorf("the build did not read the secrets:\n%s", e.stdout)
	}
	body := e.fake.Starts()[0].Body
	var req struct {
		Vars []struct{ Name, Value, Type string } `json:"environmentVariablesOverride"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, v := range req.Vars {
		got[v.Name] = v.Type + " " + v.Value
	}
	if got["NPM_TOKEN"] != "SECRETS_MANAGER "+byARN || got["PLAIN"] != "SECRETS_MANAGER "+plainName {
		t.Errorf("the references went as NPM_TOKEN=%q PLAIN=%q", got["NPM_TOKEN"], got["PLAIN"])
	}
	if !strings.HasPrefix(got["OTHER"], "PARAMETER_STORE /stagegate/") {
		t.Errorf("a secret's own value went as %q, want a Parameter Store reference", got["OTHER"])
	}
	if strings.Contains(string(body), "from-secrets-manager") || strings.Contains(string(body), "a-plain-secret-value") {
		t.Errorf("StartBuild carries a secret's value: %s", body)
	}
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
