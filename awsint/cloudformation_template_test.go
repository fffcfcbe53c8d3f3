package awsint_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfn "github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stagegate/stagegate/internal/awstest"
)

// A template over CloudFormation's 51,200 inline bytes goes through
// template_bucket: the stack is made from it, and the uploaded copy is
// gone afterwards.
func TestCloudFormationLargeTemplateGoesThroughS3(t *testing.T) {
	ctx := context.Background()
	cfg := awstest.Config(t)
	bucket, stack, queue := awstest.Name(t, "tpl"), awstest.Name(t, "big"), awstest.Name(t, "q")
	s3c := s3.NewFromConfig(cfg)
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	// A real template, padded past the inline limit by comments, which
	// CloudFormation counts too.
	template := queueTemplate + strings.Repeat("# padding past the inline limit of TemplateBody\n", 1300)
	if len(template) <= 51_200 {
		t.Fatalf("the template is %d bytes, not over the inline limit", len(template))
	}
	ws := t.TempDir()
	writeFiles(t, ws, map[string]string{"stack.yml": template})
	r := hostRunner(t)
	r.Poll = 50 * time.Millisecond
	var log []string
	c := call(ws, "aws/cloudformation", map[string]any{"stack": stack, "template": "stack.yml", "template_bucket": bucket,
		"parameters": map[string]string{"QueueName": queue}}, &log)
	c.RunID, c.Apply = "run-1", true
	if _, err := r.Run(ctx, c); err != nil {
		t.Fatalf("%v\n%s", err, strings.Join(log, "\n"))
	}
	if !hasLine(log, "uploaded to s3://"+bucket+"/stagegate/") {
		t.Errorf("the log does not say where the template went:\n%s", strings.Join(log, "\n"))
	}
	client := cfn.NewFromConfig(cfg)
	if st := describe(t, client, stack); st != "CREATE_COMPLETE" {
		t.Fatalf("stack %s, want CREATE_COMPLETE:\n%s", st, strings.Join(log, "\n"))
	}
	res, err := client.DescribeStackResources(ctx, &cfn.DescribeStackResourcesInput{StackName: aws.String(stack)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.StackResources) != 1 || !strings.HasSuffix(aws.ToString(res.StackResources[0].PhysicalResourceId), "/"+queue) {
		t.Errorf("stack resources %+v, want the large template's queue", res.StackResources)
	}
	list, err := s3c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket})
	if err != nil || len(list.Contents) != 0 {
		t.Errorf("objects left in the template bucket: %d, %v", len(list.Contents), err)
	}
}
