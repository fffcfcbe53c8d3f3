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
	hook := b.ActionEnv(p, oidc.Run{Repository: "acme/web", Ref: "refs/heads/main", SHA: "abc", Event: "push", RunID: "7", Trusted: true}, nil)
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

	env, err := b.ActionEnv(&pipeline.Pipeline{AWS: &pipeline.AWS{Region: "eu-west-1"}}, trusted, nil)(context.Background(), st, a)
	if err != nil || env.Secrets != nil || env.Plain != nil {
		t.Errorf("no role: %v, %v; want nothing (the default chain applies)", env, err)
	}
	fork := trusted
	fork.Trusted, fork.Event = false, "pull_request"
	_, err = b.ActionEnv(&pipeline.Pipeline{AWS: &pipeline.AWS{Role: role}}, fork, nil)(context.Background(), st, a)
	if err == nil || !strings.Contains(err.Error(), "not trusted") {
		t.Errorf("fork run: %v, want a refusal", err)
	}
}

// A deploy stage acts with its environment's trusted role; other stages
// and environments without one keep what the file says.
func TestRoleFor(t *testing.T) {
	const (
		fileRole    = "arn:aws:iam::123456789012:role/admin"
		trustedRole = "arn:aws:iam::123456789012:role/deployer"
	)
	p := &pipeline.Pipeline{AWS: &pipeline.AWS{Region: "eu-west-1"}}
	deploy := &pipeline.Stage{Name: "prod", Environment: "production", AWS: &pipeline.AWS{Role: fileRole}}
	build := &pipeline.Stage{Name: "build", AWS: &pipeline.AWS{Role: fileRole}}
	own := &pipeline.Action{Name: "a", AWS: &pipeline.AWS{Role: fileRole, Region: "us-west-2"}}
	policy := func(region string) func(*pipeline.Stage) *pipeline.AWS {
		return func(st *pipeline.Stage) *pipeline.AWS {
			if st.Environment == "production" {
				return &pipeline.AWS{Role: trustedRole, Region: region}
			}
			return nil
		}
	}
	tests := []struct {
		name   string
		st     *pipeline.Stage
		a      *pipeline.Action
		policy func(*pipeline.Stage) *pipeline.AWS
		want   pipeline.AWS
	}{
		{"deploy takes the trusted role", deploy, &pipeline.Action{}, policy(""), pipeline.AWS{Role: trustedRole, Region: "eu-west-1"}},
		{"over the action's own", deploy, own, policy(""), pipeline.AWS{Role: trustedRole, Region: "us-west-2"}},
		{"and the trusted region", deploy, own, policy("ap-south-1"), pipeline.AWS{Role: trustedRole, Region: "ap-south-1"}},
		{"no policy keeps the file's", deploy, &pipeline.Action{}, nil, pipeline.AWS{Role: fileRole, Region: "eu-west-1"}},
		{"policy without a role", deploy, &pipeline.Action{}, func(*pipeline.Stage) *pipeline.AWS { return &pipeline.AWS{Region: "x"} }, pipeline.AWS{Role: fileRole, Region: "eu-west-1"}},
		{"not a deploy", build, &pipeline.Action{}, policy(""), pipeline.AWS{Role: fileRole, Region: "eu-west-1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := awsint.RoleFor(p, tt.st, tt.a, tt.policy)
			if got == nil || got.Role != tt.want.Role || got.Region != tt.want.Region {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}
