// Package cloud is the App's side of AWS: the OpenID Connect issuer and
// the integrations that act with the credentials it obtains.
package cloud

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/awsint"
	"github.com/stagegate/stagegate/oidc"
	"github.com/stagegate/stagegate/pipeline"
	"github.com/stagegate/stagegate/pipeline/engine"
)

// Cloud is the App's side of AWS: the OpenID Connect issuer whose tokens
// AWS exchanges for a role's credentials, and the integrations, which
// act only with those credentials, never the host's.
type Cloud struct {
	issuer *oidc.Issuer // nil without a public URL
	broker *awsint.Broker
	// Runner runs the `uses: aws/...` actions.
	Runner *awsint.Runner
}

// New loads or makes the signing key in dataDir, beside the App's
// credentials; without a publicURL there is no issuer.
func New(ctx context.Context, publicURL, dataDir string, load func(context.Context) (aws.Config, error)) (*Cloud, error) {
	if load == nil {
		load = func(ctx context.Context) (aws.Config, error) { return config.LoadDefaultConfig(ctx) }
	}
	c := &Cloud{Runner: awsint.NewRunner()}
	c.Runner.Load = load
	if publicURL == "" {
		return c, nil
	}
	key, err := oidc.LoadOrCreateKey(dataDir)
	if err != nil {
		return nil, err
	}
	if c.issuer, err = oidc.New(publicURL, key); err != nil {
		return nil, err
	}
	base, err := load(ctx)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration: %w", err)
	}
	if base.Region == "" {
		// STS answers in every region; a role's own region replaces it.
		base.Region = "us-east-1"
	}
	c.broker = &awsint.Broker{Issuer: c.issuer, Config: base}
	return c, nil
}

// Routes serves the issuer's documents in front of next.
func (c *Cloud) Routes(next http.Handler) http.Handler {
	if c.issuer == nil {
		return next
	}
	mux := http.NewServeMux()
	docs := c.issuer.Handler()
	mux.Handle("GET "+oidc.DiscoveryPath, docs)
	mux.Handle("GET "+oidc.JWKSPath, docs)
	mux.Handle("/", next)
	return mux
}

// ActionEnv is the engine's hook giving an action with an aws: role that
// role's credentials for the run; deployAWS gives a deploy stage's role
// from its environment's trusted policy.
func (c *Cloud) ActionEnv(p *pipeline.Pipeline, run store.Run, deployAWS func(*pipeline.Stage) *pipeline.AWS) func(context.Context, *pipeline.Stage, *pipeline.Action) (engine.AttemptEnv, error) {
	if c.broker == nil {
		return func(_ context.Context, st *pipeline.Stage, a *pipeline.Action) (engine.AttemptEnv, error) {
			if cfg := awsint.RoleFor(p, st, a, deployAWS); cfg != nil && cfg.Role != "" {
				return engine.AttemptEnv{}, errors.New("an AWS role needs stagegate's OpenID Connect issuer: set --public-url")
			}
			return engine.AttemptEnv{}, nil
		}
	}
	ref := "refs/heads/" + run.Branch
	switch {
	case run.Tag != "":
		ref = "refs/tags/" + run.Tag
	case run.PR != 0:
		ref = fmt.Sprintf("refs/pull/%d/merge", run.PR)
	}
	return c.broker.ActionEnv(p, oidc.Run{
		Repository: run.Repo, Ref: ref, SHA: run.SHA, Event: run.Event, RunID: run.ID, Trusted: !run.Fork,
	}, deployAWS)
}
