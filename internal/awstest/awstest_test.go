package awstest_test

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/stagegate/stagegate/internal/awstest"
)

// TestMotoReached shows that Config reaches moto: STS answers with
// moto's account, and a bucket created under a unique name is listed.
func TestMotoReached(t *testing.T) {
	cfg := awstest.Config(t)
	ctx := context.Background()
	id, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatalf("GetCallerIdentity: %v", err)
	}
	if got := aws.ToString(id.Account); got != awstest.Account {
		t.Errorf("account = %q, want moto's %q", got, awstest.Account)
	}
	bucket := awstest.Name(t, "awstest")
	s3c := s3.NewFromConfig(cfg)
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatalf("CreateBucket: %v", err)
	}
	if _, err := s3c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &bucket}); err != nil {
		t.Errorf("HeadBucket %s after creating it: %v", bucket, err)
	}
	if other := awstest.Name(t, "awstest"); other == bucket {
		t.Errorf("Name gave %q twice", other)
	}
}
