package awsint

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/stagegate/stagegate/pipeline/engine"
)

// integration runs one `uses:` name with an SDK configuration ready.
// poll is how often it asks AWS how a long operation goes.
type integration func(ctx context.Context, cfg aws.Config, c engine.IntegrationCall, poll time.Duration) (engine.IntegrationResult, error)

// Runner runs the AWS integrations; it is the engine's Integrations.
type Runner struct {
	// HostCredentials lets an action without a role use the SDK's
	// default chain (environment, shared config, instance role), as
	// `stagegate run` does with the developer's own credentials. The App
	// leaves it unset, so that only a role's credentials are used.
	HostCredentials bool
	// Load returns the base SDK configuration: region, endpoint, retries
	// and the default credentials chain. Nil means config.LoadDefaultConfig,
	// which honours the SDK's standard settings, AWS_ENDPOINT_URL included.
	Load func(ctx context.Context) (aws.Config, error)
	// Poll is how often a stack's state is asked for; zero means 5s.
	Poll time.Duration

	byName map[string]integration
}

// NewRunner returns a Runner of every integration this package has.
func NewRunner() *Runner {
	return &Runner{byName: map[string]integration{
		"aws/s3":               runS3,
		"aws/cloudformation":   runCloudFormation,
		"aws/lambda":           runLambda,
		"aws/ecs":              runECS,
		"aws/codedeploy":       runCodeDeploy,
		"aws/invoke":           runInvoke,
		"aws/elasticbeanstalk": runElasticBeanstalk,
	}}
}

// Run implements engine.Integrations.
func (r *Runner) Run(ctx context.Context, c engine.IntegrationCall) (engine.IntegrationResult, error) {
	run, ok := r.byName[c.Action.Uses]
	if !ok {
		return engine.IntegrationResult{}, fmt.Errorf("integration %s is not built yet", c.Action.Uses)
	}
	cfg, err := r.config(ctx, c)
	if err != nil {
		return engine.IntegrationResult{}, err
	}
	poll := r.Poll
	if poll <= 0 {
		poll = 5 * time.Second
	}
	return run(ctx, cfg, c, poll)
}

// config is the SDK configuration of a call: the role's credentials the
// engine put in its environment, or else the host's, where allowed.
func (r *Runner) config(ctx context.Context, c engine.IntegrationCall) (aws.Config, error) {
	load := r.Load
	if load == nil {
		load = func(ctx context.Context) (aws.Config, error) { return config.LoadDefaultConfig(ctx) }
	}
	cfg, err := load(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("AWS configuration: %w", err)
	}
	switch {
	case UseRoleCredentials(&cfg, c.Env):
	case c.Untrusted:
		return aws.Config{}, errors.New("this run is not trusted (a fork's pull request): it gets no AWS credentials")
	case !r.HostCredentials:
		return aws.Config{}, errors.New(`no AWS credentials: name a role with aws: {role: arn:aws:iam::<account>:role/<name>}`)
	case c.AWS != nil && c.AWS.Region != "":
		// A role's region came with its credentials, chosen by the
		// broker (a deploy's from the trusted policy); else the file's.
		cfg.Region = c.AWS.Region
	}
	if cfg.Region == "" {
		return aws.Config{}, errors.New("no AWS region: set aws: {region: ...} or AWS_REGION")
	}
	return cfg, nil
}

// UseRoleCredentials gives cfg the role's short-lived credentials, and
// their region, that the engine put in an action's environment
// (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN,
// AWS_REGION); it reports whether there were any.
func UseRoleCredentials(cfg *aws.Config, env map[string]string) bool {
	id, secret, token := env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env["AWS_SESSION_TOKEN"]
	if id == "" || secret == "" || token == "" {
		return false
	}
	cfg.Credentials = aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id, secret, token))
	if region := env["AWS_REGION"]; region != "" {
		cfg.Region = region
	}
	return true
}

// throttled tells an error AWS gave because the account asks too often,
// after the SDK's own retries. An integration that polls a long
// operation asks again at its next poll rather than give up on it.
func throttled(err error) bool {
	return err != nil && retry.IsErrorThrottles(retry.DefaultThrottles).IsErrorThrottle(err) == aws.TrueTernary
}
