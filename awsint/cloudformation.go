package awsint

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/stagegate/stagegate/pipeline/engine"
)

func runCloudFormation(ctx context.Context, cfg aws.Config, c engine.IntegrationCall) (engine.IntegrationResult, error) {
	return engine.IntegrationResult{}, errors.New("aws/cloudformation is not built yet")
}
