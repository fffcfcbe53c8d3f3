package codebuild_test

import (
	"context"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/stagegate/stagegate/codebuild"
	"github.com/stagegate/stagegate/pipeline"
	"github.com/stagegate/stagegate/pipeline/runner"
)

// Under the App a build needs the action's role: the server's own
// credentials are never used, and nothing is started without a place
// to stage the workspace.
func TestRunRefusesWithoutWhatItNeeds(t *testing.T) {
	load := func(context.Context) (aws.Config, error) { return aws.Config{Region: "us-east-1"}, nil }
	spec := runner.Spec{
		Script: "true", Dir: t.TempDir(), Stdout: io.Discard, Stderr: io.Discard,
		Remote: runner.Remote{Runner: &pipeline.RunnerSpec{Type: pipeline.RunnerCodeBuild, Project: "p"}, RunID: "r", Stage: "s", Action: "a", Attempt: 1},
	}
	spec.Remote.Workspace = spec.Dir
	for _, tc := range []struct {
		name   string
		runner codebuild.Runner
		want   string
	}{
		{"no role under the App", codebuild.Runner{Staging: codebuild.Location{Bucket: "b-1"}, Load: load}, "no AWS credentials for CodeBuild"},
		{"no staging", codebuild.Runner{HostCredentials: true, Load: load}, "no staging bucket"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.runner.Run(t.Context(), spec)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Run: %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseLocation(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want codebuild.Location
		ok   bool
	}{
		{"s3://my-bucket/stagegate/builds/", codebuild.Location{Bucket: "my-bucket", Prefix: "stagegate/builds"}, true},
		{"s3://my-bucket", codebuild.Location{Bucket: "my-bucket"}, true},
		{"https://my-bucket/x", codebuild.Location{}, false},
		{"s3://My_Bucket/x", codebuild.Location{}, false},
		{"s3:///x", codebuild.Location{}, false},
	} {
		got, err := codebuild.ParseLocation(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseLocation(%q) = %+v, %v", tc.in, got, err)
		}
	}
}
