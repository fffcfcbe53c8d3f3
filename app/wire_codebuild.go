package app

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/stagegate/stagegate/codebuild"
	"github.com/stagegate/stagegate/pipeline/runner"
)

// newCodeBuild is the runner of `runner: {type: codebuild}` actions when
// a staging location is configured, nil otherwise (such actions then
// fail, saying the runner is not available). Like the integrations, it
// uses only the credentials of the action's aws: role.
func newCodeBuild(cfg Config, opts Options) (*codebuild.Runner, error) {
	if cfg.CodeBuildStaging == "" {
		return nil, nil
	}
	loc, err := codebuild.ParseLocation(cfg.CodeBuildStaging)
	if err != nil {
		return nil, &SettingError{"codebuild-staging", "STAGEGATE_CODEBUILD_STAGING", err.Error()}
	}
	load := opts.AWS
	if load == nil {
		load = func(ctx context.Context) (aws.Config, error) { return config.LoadDefaultConfig(ctx) }
	}
	r := &codebuild.Runner{Staging: loc, Load: load}
	if opts.CodeBuild != nil {
		opts.CodeBuild(r)
	}
	return r, nil
}

// runners are the engine's runners besides the local one, by type.
func (a *App) runners() map[string]runner.Runner {
	if a.codebuild == nil {
		return nil
	}
	return map[string]runner.Runner{"codebuild": a.codebuild}
}
