//go:build unix

package codebuildfake_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cb "github.com/aws/aws-sdk-go-v2/service/codebuild"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"
	"github.com/aws/smithy-go"

	"github.com/stagegate/stagegate/internal/awstest"
	"github.com/stagegate/stagegate/internal/codebuildfake"
)

// The fake refuses what CodeBuild refuses
// (https://docs.aws.amazon.com/codebuild/latest/APIReference/API_StartBuild.html,
// https://docs.aws.amazon.com/codebuild/latest/APIReference/API_EnvironmentVariable.html).
func TestFakeRejectsWhatCodeBuildRejects(t *testing.T) {
	cfg := awstest.Config(t)
	f := codebuildfake.New(t, cfg)
	f.Project("p")
	client := cb.NewFromConfig(cfg, func(o *cb.Options) { o.BaseEndpoint = aws.String(f.URL) })
	for _, tc := range []struct {
		name string
		in   cb.StartBuildInput
		code string
	}{
		{"unknown project", cb.StartBuildInput{ProjectName: aws.String("nope")}, "ResourceNotFoundException"},
		{"reserved variable", cb.StartBuildInput{ProjectName: aws.String("p"), EnvironmentVariablesOverride: []cbtypes.EnvironmentVariable{
			{Name: aws.String("CODEBUILD_X"), Value: aws.String("1"), Type: cbtypes.EnvironmentVariableTypePlaintext}}}, "InvalidInputException"},
		{"empty value", cb.StartBuildInput{ProjectName: aws.String("p"), EnvironmentVariablesOverride: []cbtypes.EnvironmentVariable{
			{Name: aws.String("X"), Value: aws.String(""), Type: cbtypes.EnvironmentVariableTypePlaintext}}}, "InvalidInputException"},
		{"timeout out of range", cb.StartBuildInput{ProjectName: aws.String("p"), TimeoutInMinutesOverride: aws.Int32(2)}, "InvalidInputException"},
		{"S3 source without a key", cb.StartBuildInput{ProjectName: aws.String("p"), SourceTypeOverride: cbtypes.SourceTypeS3, SourceLocationOverride: aws.String("bucket")}, "InvalidInputException"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := client.StartBuild(t.Context(), &tc.in)
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != tc.code {
				t.Errorf("StartBuild: %v, want %s", err, tc.code)
			}
		})
	}
	logs := cloudwatchlogs.NewFromConfig(cfg, func(o *cloudwatchlogs.Options) { o.BaseEndpoint = aws.String(f.URL) })
	_, err := logs.GetLogEvents(t.Context(), &cloudwatchlogs.GetLogEventsInput{LogGroupName: aws.String("/aws/codebuild/p"), LogStreamName: aws.String("none")})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ResourceNotFoundException" {
		t.Errorf("GetLogEvents of a missing stream: %v", err)
	}
}
