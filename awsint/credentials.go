// Package awsint runs stagegate's AWS integrations (`uses: aws/...`) for
// the engine, and gives actions short-lived AWS credentials for the role
// their pipeline names, in exchange for stagegate's OpenID Connect token.
package awsint

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/stagegate/stagegate/oidc"
	"github.com/stagegate/stagegate/pipeline"
	"github.com/stagegate/stagegate/pipeline/engine"
)

// Broker exchanges stagegate's tokens for AWS credentials.
type Broker struct {
	Issuer *oidc.Issuer
	// Config is what STS is called with: region and endpoint. Its
	// credentials are not used: AssumeRoleWithWebIdentity is anonymous.
	Config aws.Config
	// Duration is how long the credentials last; zero means 15 minutes,
	// STS's least, since they serve one action.
	Duration time.Duration
}

// ActionEnv returns the engine's ActionEnv hook for one run of p: an
// action whose aws: names a role gets AWS_ACCESS_KEY_ID,
// AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN (masked) and AWS_REGION for
// that role, for its attempt alone. An untrusted run (a fork's pull
// request) gets no role: asking for one is an error.
//
// deployAWS, when not nil, gives a deploy stage's role from the trusted
// policy of its environment; when it names one, that role is the one
// assumed, whatever the run's own file says, since the deployed commit
// must not choose the powers of its deploy.
func (b *Broker) ActionEnv(p *pipeline.Pipeline, run oidc.Run, deployAWS func(*pipeline.Stage) *pipeline.AWS) func(context.Context, *pipeline.Stage, *pipeline.Action) (engine.AttemptEnv, error) {
	return func(ctx context.Context, st *pipeline.Stage, a *pipeline.Action) (engine.AttemptEnv, error) {
		cfg := RoleFor(p, st, a, deployAWS)
		if cfg == nil || cfg.Role == "" {
			return engine.AttemptEnv{}, nil
		}
		if !run.Trusted {
			return engine.AttemptEnv{}, errors.New("this run is not trusted (a fork's pull request): it gets no AWS role")
		}
		r := run
		r.Stage, r.Action, r.Environment = st.Name, a.Name, ""
		if st.Deploy() {
			r.Environment = st.Environment
		}
		token, err := b.Issuer.Token(r, oidc.AudienceAWS, 5*time.Minute)
		if err != nil {
			return engine.AttemptEnv{}, err
		}
		stsCfg := b.Config.Copy()
		if cfg.Region != "" {
			stsCfg.Region = cfg.Region
		}
		secrets, err := AssumeRole(ctx, stsCfg, cfg.Role, token, sessionName(r), b.Duration)
		if err != nil {
			return engine.AttemptEnv{}, err
		}
		return engine.AttemptEnv{Secrets: secrets, Plain: map[string]string{"AWS_REGION": stsCfg.Region}}, nil
	}
}

// RoleFor is the role and region an action acts with: its aws: merged
// from the pipeline, stage and action, except in a deploy stage whose
// environment's trusted policy names a role (deployAWS): then that role,
// in the policy's region, or else the file's.
func RoleFor(p *pipeline.Pipeline, st *pipeline.Stage, a *pipeline.Action, deployAWS func(*pipeline.Stage) *pipeline.AWS) *pipeline.AWS {
	cfg := pipeline.EffectiveAWS(p, st, a)
	if !st.Deploy() || deployAWS == nil {
		return cfg
	}
	trusted := deployAWS(st)
	if trusted == nil || trusted.Role == "" {
		return cfg
	}
	out := &pipeline.AWS{Role: trusted.Role, Region: trusted.Region}
	if out.Region == "" && cfg != nil {
		out.Region = cfg.Region
	}
	return out
}

// sessionName names the session after the run and action, so that
// CloudTrail tells which action did what, in the characters STS allows
// (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html).
func sessionName(r oidc.Run) string {
	s := strings.Map(func(c rune) rune {
		if c < 128 && (unicode.IsLetter(c) || unicode.IsDigit(c) || strings.ContainsRune("_+=,.@-", c)) {
			return c
		}
		return '-'
	}, "stagegate-"+r.RunID+"-"+r.Stage+"-"+r.Action)
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}

// AssumeRole exchanges a web identity token for credentials of role, as
// environment variables (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN).
func AssumeRole(ctx context.Context, cfg aws.Config, role, token, session string, d time.Duration) (map[string]string, error) {
	if d == 0 {
		d = 15 * time.Minute
	}
	cfg.Credentials = aws.AnonymousCredentials{}
	out, err := sts.NewFromConfig(cfg).AssumeRoleWithWebIdentity(ctx, &sts.AssumeRoleWithWebIdentityInput{
		RoleArn:          aws.String(role),
		RoleSessionName:  aws.String(session),
		WebIdentityToken: aws.String(token),
		DurationSeconds:  aws.Int32(int32(d / time.Second)),
	})
	if err != nil {
		return nil, fmt.Errorf("assume role %s: %w", role, err)
	}
	c := out.Credentials
	if c == nil || c.AccessKeyId == nil || c.SecretAccessKey == nil || c.SessionToken == nil {
		return nil, fmt.Errorf("assume role %s: STS returned no credentials", role)
	}
	return map[string]string{
		"AWS_ACCESS_KEY_ID":     *c.AccessKeyId,
		"AWS_SECRET_ACCESS_KEY": *c.SecretAccessKey,
		"AWS_SESSION_TOKEN":     *c.SessionToken,
	}, nil
}
