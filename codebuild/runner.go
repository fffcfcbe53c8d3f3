// Package codebuild runs an action's run: script as a build of an AWS
// CodeBuild project: it ships the workspace to S3, starts the build with a
// buildspec made from the action, streams the build's CloudWatch Logs into
// the action's output, and brings back its outputs and the workspace as
// the build left it. It is the engine's runner for `runner: {type:
// codebuild}`; the engine does not know it is remote.
package codebuild

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cb "github.com/aws/aws-sdk-go-v2/service/codebuild"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/stagegate/stagegate/awsint"
	"github.com/stagegate/stagegate/pipeline/runner"
)

// DefaultPoll is how often a build's state and new log events are asked
// for: a log line reaches the check about one poll after CloudWatch has it.
const DefaultPoll = time.Second

// cleanupTimeout bounds the deletion of an attempt's staging objects and
// of its parameters, once the build has ended.
const cleanupTimeout = time.Minute

// Location is an S3 bucket and key prefix.
type Location struct {
	Bucket, Prefix string
}

var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// ParseLocation reads s3://bucket/prefix.
func ParseLocation(s string) (Location, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "s3" || !bucketName.MatchString(u.Host) || u.RawQuery != "" || u.Fragment != "" {
		return Location{}, fmt.Errorf("%q is not s3://bucket/prefix with an S3 bucket name", s)
	}
	return Location{Bucket: u.Host, Prefix: strings.Trim(u.Path, "/")}, nil
}

func (l Location) String() string { return "s3://" + path.Join(l.Bucket, l.Prefix) }

// Runner runs actions on CodeBuild. It implements runner.Runner.
type Runner struct {
	// Staging is where workspaces are shipped and results come back.
	// The CodeBuild project's service role must be able to read and
	// write it.
	Staging Location
	// HostCredentials lets an action without a role use the SDK's
	// default chain, as `stagegate run` does with the developer's own
	// credentials. The App leaves it unset: only a role's credentials
	// (from the OIDC exchange) are used.
	HostCredentials bool
	// Load returns the base SDK configuration; nil means
	// config.LoadDefaultConfig, which honours AWS_ENDPOINT_URL and the
	// per-service AWS_ENDPOINT_URL_CODEBUILD and _CLOUDWATCH_LOGS.
	Load func(ctx context.Context) (aws.Config, error)
	// Endpoints override the CodeBuild and CloudWatch Logs endpoints,
	// for tests and private endpoints; empty means the SDK's.
	CodeBuildEndpoint, LogsEndpoint string
	// Poll is how often the build and its logs are asked for; zero
	// means DefaultPoll.
	Poll time.Duration
	// Limits bound the result archive a build sends back.
	Limits Limits
}

// hostVars are the variables of an action's environment that name
// this machine's paths or credentials; the build gets its own.
var hostVars = map[string]bool{
	"PATH": true, "HOME": true, "TMPDIR": true,
	"STAGEGATE_WORKSPACE": true, "STAGEGATE_OUTPUT": true, "STAGEGATE_ARTIFACTS": true,
	// The build runs as the project's service role.
	"AWS_ACCESS_KEY_ID": true, "AWS_SECRET_ACCESS_KEY": true, "AWS_SESSION_TOKEN": true,
}

// clients are the SDK clients of one build.
type clients struct {
	s3   *s3.Client
	cb   *cb.Client
	logs *cloudwatchlogs.Client
	ssm  *ssm.Client
}

// Run implements runner.Runner.
func (r *Runner) Run(ctx context.Context, spec runner.Spec) (runner.Result, error) {
	start := time.Now()
	rm := spec.Remote
	if rm.Runner == nil || rm.Runner.Project == "" || rm.Workspace == "" {
		return runner.Result{}, errors.New("codebuild runner: the action names no project or workspace")
	}
	if r.Staging.Bucket == "" {
		return runner.Result{}, errors.New("codebuild runner: no staging bucket is configured (--codebuild-staging s3://bucket/prefix)")
	}
	env := map[string]string{}
	for _, kv := range spec.Env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	cfg, err := r.config(ctx, spec, env)
	if err != nil {
		return runner.Result{}, err
	}
	c := clients{
		s3:  s3.NewFromConfig(cfg),
		ssm: ssm.NewFromConfig(cfg),
		cb: cb.NewFromConfig(cfg, func(o *cb.Options) {
			if r.CodeBuildEndpoint != "" {
				o.BaseEndpoint = aws.String(r.CodeBuildEndpoint)
			}
		}),
		logs: cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) {
			if r.LogsEndpoint != "" {
				o.BaseEndpoint = aws.String(r.LogsEndpoint)
			}
		}),
	}
	key, err := r.stagingKey(spec)
	if err != nil {
		return runner.Result{}, err
	}
	b := &build{r: r, c: c, spec: spec, env: env, key: key}
	res, err := b.run(ctx)
	res.Duration = time.Since(start)
	return res, err
}

// stagingKey is the key prefix of one attempt's objects: run, stage,
// action and attempt, and a random part so that a re-run of the same
// run id never reads another's result.
func (r *Runner) stagingKey(spec runner.Spec) (string, error) {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("random key: %w", err)
	}
	rm := spec.Remote
	part := func(s string) string { return safeName.ReplaceAllString(s, "-") }
	return path.Join(r.Staging.Prefix, part(rm.RunID), part(rm.Stage), part(rm.Action),
		fmt.Sprintf("%d-%s", rm.Attempt, hex.EncodeToString(b))), nil
}

var safeName = regexp.MustCompile(`[^A-Za-z0-9_.-]`)

// config is the SDK configuration of an attempt: the role's credentials
// the engine put in its environment, else the host's where allowed.
func (r *Runner) config(ctx context.Context, spec runner.Spec, env map[string]string) (aws.Config, error) {
	load := r.Load
	if load == nil {
		load = func(ctx context.Context) (aws.Config, error) { return config.LoadDefaultConfig(ctx) }
	}
	cfg, err := load(ctx)
	if err != nil {
		return aws.Config{}, fmt.Errorf("AWS configuration: %w", err)
	}
	switch {
	case awsint.UseRoleCredentials(&cfg, env):
	case !r.HostCredentials:
		return aws.Config{}, errors.New(`no AWS credentials for CodeBuild: name a role with aws: {role: arn:aws:iam::<account>:role/<name>} (a fork's pull request gets none)`)
	}
	if a := spec.Remote.AWS; a != nil && a.Region != "" {
		cfg.Region = a.Region
	}
	if cfg.Region == "" {
		return aws.Config{}, errors.New("no AWS region: set aws: {region: ...} or AWS_REGION")
	}
	return cfg, nil
}

// build is one attempt's build.
type build struct {
	r    *Runner
	c    clients
	spec runner.Spec
	env  map[string]string
	key  string
}

func (b *build) run(ctx context.Context) (runner.Result, error) {
	src := path.Join(b.key, "source.zip")
	if err := b.upload(ctx, src); err != nil {
		return runner.Result{}, err
	}
	// The objects and parameters go however the build ends: cleaning up
	// must not stop because the run was cancelled, nor hang.
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		b.deleteObjects(cctx, src, path.Join(b.key, resultName))
	}()
	params, err := b.putSecrets(ctx)
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		b.deleteSecrets(cctx, params)
	}()
	if err != nil {
		return runner.Result{}, err
	}
	in, err := b.startInput(ctx, src, params)
	if err != nil {
		return runner.Result{}, err
	}
	out, err := b.c.cb.StartBuild(ctx, in)
	if err != nil {
		return runner.Result{}, fmt.Errorf("start a build of %s: %w", b.spec.Remote.Runner.Project, err)
	}
	if out.Build == nil || out.Build.Id == nil {
		return runner.Result{}, errors.New("CodeBuild started a build without an id")
	}
	fmt.Fprintf(b.spec.Stderr, "CodeBuild build %s started\n", *out.Build.Id)
	final, killed, err := b.follow(ctx, *out.Build.Id)
	if err != nil || killed {
		return runner.Result{Killed: killed, ExitCode: -1}, err
	}
	return b.finish(ctx, final)
}

// artifactsName is the directory of the source archive that holds the
// earlier stages' artifacts; the buildspec moves it out of the source
// before the script runs, so that it is not part of the workspace that
// comes back. The attempt's random part keeps it from meeting a name of
// the workspace.
func (b *build) artifactsName() string { return ".stagegate-artifacts-" + path.Base(b.key) }

// upload zips the workspace, and the earlier stages' artifacts beside it,
// to the staging bucket.
func (b *build) upload(ctx context.Context, key string) error {
	f, err := os.CreateTemp("", "stagegate-source-*.zip")
	if err != nil {
		return fmt.Errorf("source archive: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	ws := b.spec.Remote.Workspace
	if _, err := os.Lstat(filepath.Join(ws, b.artifactsName())); err == nil {
		return fmt.Errorf("the workspace holds %s, the name of the artifacts shipped beside it", b.artifactsName())
	}
	if err := zipTrees(f, b.r.Limits, tree{dir: ws}, tree{dir: b.spec.Remote.Artifacts, prefix: b.artifactsName()}); err != nil {
		return fmt.Errorf("ship the workspace and artifacts: %w", err)
	}
	size, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("source archive: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("source archive: %w", err)
	}
	_, err = b.c.s3.PutObject(ctx, &s3.PutObjectInput{
		Bucket: aws.String(b.r.Staging.Bucket), Key: aws.String(key),
		Body: f, ContentLength: aws.Int64(size),
	})
	if err != nil {
		return fmt.Errorf("upload the workspace to s3://%s/%s: %w", b.r.Staging.Bucket, key, err)
	}
	return nil
}

// plainEnv is the action's environment the build gets in plain text:
// everything but this machine's paths and credentials, the secrets, and
// names CodeBuild refuses (reserved CODEBUILD_ ones, or not a shell
// name), which would fail the whole StartBuild.
func (b *build) plainEnv() map[string]string {
	out := maps.Clone(b.env)
	for k := range out {
		if hostVars[k] || b.spec.Remote.Secret[k] || strings.HasPrefix(k, "CODEBUILD_") || !envName.MatchString(k) {
			delete(out, k)
		}
	}
	return out
}

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
