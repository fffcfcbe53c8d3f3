package app

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/stagegate/stagegate/codebuild"
	"github.com/stagegate/stagegate/pipeline/runner"
)

// newCodeBuild is the runner of `runner: {type: codebuild}` actions when
// a staging location is configured, nil otherwise (such actions then
// fail, saying the runner is not available). Without
// --codebuild-staging, an S3 artifact store lends its bucket: workspaces
// go under its prefix's codebuild/, beside the artifacts builds need.
// Like the integrations, it uses only the credentials of the action's
// aws: role.
func newCodeBuild(cfg Config, opts Options) (*codebuild.Runner, error) {
	staging := cfg.CodeBuildStaging
	if staging == "" && strings.HasPrefix(cfg.ArtifactStore, "s3://") {
		staging = strings.TrimRight(cfg.ArtifactStore, "/") + "/codebuild"
	}
	if staging == "" {
		return nil, nil
	}
	loc, err := codebuild.ParseLocation(staging)
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
