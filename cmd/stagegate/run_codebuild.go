package main

import (
	"os"

	"github.com/spf13/pflag"

	"github.com/stagegate/stagegate/codebuild"
	"github.com/stagegate/stagegate/pipeline/runner"
)

// codeBuildRunners is the CodeBuild runner of `stagegate run`, with the
// developer's own AWS credentials (the SDK's default chain, which honours
// AWS_ENDPOINT_URL_CODEBUILD and the like), when a staging location is
// given by flag or by STAGEGATE_CODEBUILD_STAGING.
func codeBuildRunners(flags *pflag.FlagSet, staging string) (map[string]runner.Runner, error) {
	if !flags.Changed("codebuild-staging") {
		staging = os.Getenv("STAGEGATE_CODEBUILD_STAGING")
	}
	if staging == "" {
		return nil, nil
	}
	loc, err := codebuild.ParseLocation(staging)
	if err != nil {
		return nil, usageError(err)
	}
	return map[string]runner.Runner{"codebuild": &codebuild.Runner{Staging: loc, HostCredentials: true}}, nil
}
