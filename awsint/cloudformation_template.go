package awsint

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// maxTemplateURL is the largest template CloudFormation reads from S3
// (TemplateURL): 1 MB
// (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html).
const maxTemplateURL = 1 << 20

// removeTimeout bounds the deletion of an uploaded template, which runs
// however the action ended.
const removeTimeout = time.Minute

// uploadTemplate puts the template into template_bucket under a key of
// this attempt alone and returns its URL, for a template too large to
// pass inline; remove deletes it again once the change set is done with
// it (CloudFormation keeps its own copy from when it creates the change
// set).
func (cf *cloudFormation) uploadTemplate(ctx context.Context, cfg aws.Config) (url string, remove func(), err error) {
	bucket := str(cf.c.Action.With["template_bucket"])
	key := "stagegate/" + changeSetName(cf.c.RunID, cf.c.Stage.Name, cf.c.Action.Name) + ".template"
	client := s3.NewFromConfig(cfg)
	_, err = client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(cf.body)})
	if err != nil {
		return "", nil, fmt.Errorf("upload the template to s3://%s/%s: %w", bucket, key, err)
	}
	cf.c.Log(fmt.Sprintf("template of %d bytes uploaded to s3://%s/%s", len(cf.body), bucket, key))
	remove = func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), removeTimeout)
		defer cancel()
		if _, err := client.DeleteObject(rctx, &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}); err != nil {
			cf.c.Log(fmt.Sprintf("warning: could not delete the uploaded template s3://%s/%s: %v", bucket, key, err))
		}
	}
	// Path-style, which takes any bucket name, dotted ones included.
	host := "s3." + cfg.Region + ".amazonaws.com"
	if strings.HasPrefix(cfg.Region, "cn-") {
		host += ".cn"
	}
	return "https://" + host + "/" + bucket + "/" + key, remove, nil
}
