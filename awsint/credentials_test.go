package awsint_test

import (
	"context"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/stagegate/stagegate/awsint"
	"github.com/stagegate/stagegate/internal/awstest"
	"github.com/stagegate/stagegate/oidc"
	"github.com/stagegate/stagegate/pipeline"
)

func broker(t *testing.T) *awsint.Broker {
	t.Helper()
	key, err := oidc.LoadOrCreateKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	iss, err := oidc.New("https://stagegate.example.com", key)
	if err != nil {
		t.Fatal(err)
	}
	return &awsint.Broker{Issuer: iss, Config: awstest.Config(t)}
}

func TestBrokerAssumesTheActionsRole(t *testing.T) {
	b := broker(t)
	role := "arn:aws:iam::" + awstest.Account + ":role/" + awstest.Name(t, "deploy")
	p := &pipeline.Pipeline{AWS: &pipeline.AWS{Role: role, Region: "eu-west-1"}}
	st := &pipeline.Stage{Name: "prod", Environment: "production"}
	a := &pipeline.Action{Name: "ship", Run: "true"}
	hook := b.ActionEnv(p, oidc.Run{Repository: "acme/web", Ref: "refs/heads/main", SHA: "abc", Event: "push", RunID: "7", Trusted: true})
	got, err := hook(context.Background(), st, a)
	if err != nil {
		t.Fatal(err)
	}
	env := got.Secrets
	for _, k := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"} {
		if env[k] == "" {
			t.Errorf("%s missing from %v", k, env)
		}
	}
	if got.Plain["AWS_REGION"] != "eu-west-1" || env["AWS_REGION"] != "" {
		t.Errorf("AWS_REGION %q plain, %q secret; want eu-west-1, not masked", got.Plain["AWS_REGION"], env["AWS_REGION"])
	}
	// The credentials are the role's session: STS says who they are.
	cfg := awstest.Config(t)
	cfg.Credentials = credentials.NewStaticCredentialsProvider(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env["AWS_SESSION_TOKEN"])
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(context.Background(), &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if arn := aws.ToString(id.Arn); !strings.Contains(arn, ":assumed-role/") || !strings.HasSuffix(arn, "/stagegate-7-prod-ship") {
		t.Errorf("caller %s, want the role's session named after the action", arn)
	}
}

func TestBrokerRefuses(t *testing.T) {
	b := broker(t)
	role := "arn:aws:iam::" + awstest.Account + ":role/ci"
	st := &pipeline.Stage{Name: "test"}
	a := &pipeline.Action{Name: "unit", Run: "true"}
	trusted := oidc.Run{Repository: "acme/web", Ref: "refs/heads/main", Event: "push", RunID: "1", Trusted: true}

	env, err := b.ActionEnv(&pipeline.Pipeline{AWS: &pipeline.AWS{Region: "eu-west-1"}}, trusted)(context.Background(), st, a)
	if err != nil || env.Secrets != nil || env.Plain != nil {
		t.Errorf("no role: %v, %v; want nothing (the default chain applies)", env, err)
	}
	fork := trusted
	fork.Trusted, fork.Event = false, "pull_request"
	_, err = b.ActionEnv(&pipeline.Pipeline{AWS: &pipeline.AWS{Role: role}}, fork)(context.Background(), st, a)
	if err == nil || !strings.Contains(err.Error(), "not trusted") {
		t.Errorf("fork run: %v, want a refusal", err)
	}
}
