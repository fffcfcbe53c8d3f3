package pipeline

import "fmt"

// Shapes of ECS and CodeDeploy names, as their API references give them.
const (
	// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateCluster.html
	clusterPattern = `^(arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:cluster/)?[A-Za-z0-9_-]{1,255}$`
	// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html;
	// an ARN names the cluster too, or not in the old format.
	servicePattern = `^(arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:service/([A-Za-z0-9_-]{1,255}/)?)?[A-Za-z0-9_-]{1,255}$`
	// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html
	containerPattern = `^[A-Za-z0-9_-]{1,255}$`
	// An image reference as Docker writes one: an optional registry host
	// and port, a lower-case repository path, then a tag, a digest or
	// both.
	imagePattern = `^((?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?/)?` +
		`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*` +
		`(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?$`
	// https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_CreateDeployment.html
	// (1 to 100 characters; no further rule is documented)
	codeDeployNamePattern = `^[^\x00-\x1f\x7f]{1,100}$`
	// An S3 key whose extension gives CodeDeploy's bundle type.
	// https://docs.aws.amazon.com/codedeploy/latest/APIReference/API_S3Location.html
	bundleKeyPattern = `^[^/].*\.(zip|tar|tgz|tar\.gz|yaml|yml|json)$`
)

const bucketShape = "an S3 bucket name (3 to 63 lower-case letters, digits, dots and hyphens)"

// deployIntegrations are aws/ecs and aws/codedeploy.
func deployIntegrations() []*Integration {
	return []*Integration{
		{
			Name:    "aws/ecs",
			Summary: "move an ECS service to a new image or task definition and wait until it is stable",
			Params: []Param{
				{Name: "cluster", Kind: ParamString, Pattern: clusterPattern, Shape: "a cluster name or ARN", Description: "Cluster of the service; default is the account's default cluster."},
				{Name: "service", Kind: ParamString, Required: true, Pattern: servicePattern, Shape: "a service name or ARN", Description: "Service to update."},
				{Name: "container", Kind: ParamString, Pattern: containerPattern, Shape: "a container name (letters, digits, - and _)", Description: "Container of the service's task definition whose image is replaced; with image."},
				{Name: "image", Kind: ParamString, Pattern: imagePattern, Shape: "an image reference such as 123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1.2 or nginx@sha256:...", Description: "New image of the container."},
				{Name: "task_definition", Kind: ParamString, Path: true, Description: "JSON file in the workspace holding a whole task definition (RegisterTaskDefinition's input) to register instead."},
				{Name: "timeout", Kind: ParamDuration, Description: "How long to wait for the service to be stable before putting the previous task definition back; default 10m."},
			},
			OneOf:    []string{"image", "task_definition"},
			Requires: map[string][]string{"image": {"container"}, "container": {"image"}},
			Explain: func(w map[string]any, deploy bool) string {
				s := fmt.Sprintf("register a revision of service %s's task definition", w["service"])
				if f := str(w["task_definition"]); f != "" {
					s = "register the task definition of " + f
				} else {
					s += fmt.Sprintf(" with container %s's image %s", w["container"], w["image"])
				}
				timeout := str(w["timeout"])
				if timeout == "" {
					timeout = "10m"
				}
				s += fmt.Sprintf(", move service %s to it and wait up to %s for it to be stable, else put the previous one back", w["service"], timeout)
				if !deploy {
					s += "; outside a deploy stage it only shows the task definition's changes"
				}
				return s
			},
		},
		{
			Name:    "aws/codedeploy",
			Summary: "create a CodeDeploy deployment and follow it to the end",
			Params: []Param{
				{Name: "application", Kind: ParamString, Required: true, Pattern: codeDeployNamePattern, Shape: "an application name (1 to 100 characters)", Description: "CodeDeploy application."},
				{Name: "deployment_group", Kind: ParamString, Required: true, Pattern: codeDeployNamePattern, Shape: "a deployment group name (1 to 100 characters)", Description: "Deployment group of the application."},
				{Name: "source", Kind: ParamString, Path: true, Description: "Directory of the workspace holding appspec.yml, zipped and uploaded to bucket as the revision."},
				{Name: "bucket", Kind: ParamString, Pattern: bucketPattern, Shape: bucketShape, Description: "Bucket the zipped source is uploaded to; with source."},
				{Name: "key_prefix", Kind: ParamString, Pattern: `^[^/]`, Shape: "a key prefix (it must not start with /)", Description: "Key prefix of the uploaded revision, such as revisions/."},
				{Name: "s3_bucket", Kind: ParamString, Pattern: bucketPattern, Shape: bucketShape, Description: "Bucket of an existing revision; with s3_key."},
				{Name: "s3_key", Kind: ParamString, Pattern: bundleKeyPattern, Shape: "an S3 key ending in .zip, .tar, .tgz, .tar.gz, .yaml or .json (the bundle type)", Description: "Key of an existing revision in s3_bucket."},
				{Name: "deployment_config", Kind: ParamString, Pattern: codeDeployNamePattern, Shape: "a deployment configuration name", Description: "Deployment configuration, such as CodeDeployDefault.OneAtATime; default is the group's."},
			},
			OneOf: []string{"source", "s3_key"},
			Requires: map[string][]string{
				"source": {"bucket"}, "bucket": {"source"}, "key_prefix": {"source"},
				"s3_key": {"s3_bucket"}, "s3_bucket": {"s3_key"},
			},
			Explain: func(w map[string]any, deploy bool) string {
				rev := fmt.Sprintf("s3://%s/%s", w["s3_bucket"], w["s3_key"])
				if src := str(w["source"]); src != "" {
					rev = fmt.Sprintf("%s/ zipped to s3://%s/%s", src, w["bucket"], str(w["key_prefix"]))
				}
				s := fmt.Sprintf("deploy %s to deployment group %s of application %s and follow the deployment to the end", rev, w["deployment_group"], w["application"])
				if !deploy {
					s += "; outside a deploy stage it only says so"
				}
				return s
			},
		},
	}
}
