package pipeline

import "fmt"

// Shapes of Elastic Beanstalk and Lambda names, as the API references
// give them.
const (
	// https://docs.aws.amazon.com/elasticbeanstalk/latest/api/API_CreateApplication.html
	beanstalkAppPattern = `^[^/]{1,100}$`
	// https://docs.aws.amazon.com/elasticbeanstalk/latest/api/API_CreateEnvironment.html
	beanstalkEnvPattern = `^[A-Za-z0-9][A-Za-z0-9-]{2,38}[A-Za-z0-9]$`
	// https://docs.aws.amazon.com/elasticbeanstalk/latest/api/API_CreateApplicationVersion.html
	versionLabelPattern = `^[^/]{1,100}$`
	// https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html: a
	// name, or an ARN, either maybe with a version or alias after a colon.
	invokeFunctionPattern = `^(arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:)?[A-Za-z0-9_-]{1,64}(:(\$LATEST|[A-Za-z0-9_-]{1,128}))?$`
	qualifierPattern      = `^(\$LATEST|[A-Za-z0-9_-]{1,128})$`
)

// beanstalkAndInvoke are CodePipeline's Elastic Beanstalk deploy action
// and its Invoke action.
func beanstalkAndInvoke() []*Integration {
	bucket := "an S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens)"
	return []*Integration{{
		Name:    "aws/elasticbeanstalk",
		Summary: "create an Elastic Beanstalk application version and move an environment to it",
		Params: []Param{
			{Name: "application", Kind: ParamString, Required: true, Pattern: beanstalkAppPattern, Shape: "an application name (1 to 100 characters, no /)", Description: "Elastic Beanstalk application."},
			{Name: "environment", Kind: ParamString, Required: true, Pattern: beanstalkEnvPattern, Shape: "an environment name (4 to 40 letters, digits and hyphens, not starting or ending with a hyphen)", Description: "Environment moved to the new version."},
			{Name: "source", Kind: ParamString, Path: true, Description: "Directory of the workspace zipped as the source bundle; with bucket."},
			{Name: "zip", Kind: ParamString, Path: true, Description: "Zip file of the workspace uploaded as the source bundle; with bucket."},
			{Name: "bucket", Kind: ParamString, Pattern: bucketPattern, Shape: bucket, Description: "Bucket the bundle of source or zip is uploaded to."},
			{Name: "key_prefix", Kind: ParamString, Pattern: `^[^/]`, Shape: "a key prefix (it must not start with /)", Description: "Key prefix of the uploaded bundle, such as web/."},
			{Name: "s3_bucket", Kind: ParamString, Pattern: bucketPattern, Shape: bucket, Description: "Bucket of an existing bundle; with s3_key."},
			{Name: "s3_key", Kind: ParamString, Description: "Key of an existing bundle in s3_bucket."},
			{Name: "version_label", Kind: ParamString, Pattern: versionLabelPattern, Shape: "a version label (1 to 100 characters, no /)", Description: "Label of the application version; the commit and run by default."},
			{Name: "timeout", Kind: ParamString, Pattern: durationPattern, Shape: "a duration such as 15m or 1h30m", Description: "How long to wait for Ready and Green (15m by default)."},
		},
		OneOf:    []string{"source", "zip", "s3_key"},
		Requires: map[string][]string{"s3_key": {"s3_bucket"}, "s3_bucket": {"s3_key"}, "source": {"bucket"}, "zip": {"bucket"}},
		Explain: func(w map[string]any, deploy bool) string {
			src := fmt.Sprintf("s3://%s/%s", w["s3_bucket"], w["s3_key"])
			switch {
			case w["source"] != nil:
				src = fmt.Sprintf("%s/ zipped to s3://%s/%s", w["source"], w["bucket"], str(w["key_prefix"]))
			case w["zip"] != nil:
				src = fmt.Sprintf("%s uploaded to s3://%s/%s", w["zip"], w["bucket"], str(w["key_prefix"]))
			}
			s := fmt.Sprintf("create a version of application %s from %s, move environment %s to it and wait for Ready and Green",
				w["application"], src, w["environment"])
			if !deploy {
				s += "; outside a deploy stage it only says so"
			}
			return s
		},
	}, {
		Name:    "aws/invoke",
		Summary: "invoke a Lambda function and take the JSON object it returns as outputs",
		Params: []Param{
			{Name: "function", Kind: ParamString, Required: true, Pattern: invokeFunctionPattern, Shape: "a function name or ARN", Description: "Function invoked, synchronously."},
			{Name: "payload", Kind: ParamJSON, Description: "Event given to the function: a mapping, or a string holding JSON."},
			{Name: "qualifier", Kind: ParamString, Pattern: qualifierPattern, Shape: "a version or alias", Description: "Version or alias invoked."},
		},
		Explain: func(w map[string]any, _ bool) string {
			fn := str(w["function"])
			if q := str(w["qualifier"]); q != "" {
				fn += ":" + q
			}
			return fmt.Sprintf("invoke Lambda function %s and wait for its answer (%d bytes of payload); a JSON object it returns becomes outputs. "+
				"It runs in any stage, pull requests included: what the function does is up to it", fn, len(str(w["payload"])))
		},
	}}
}
