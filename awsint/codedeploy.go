package awsint

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stagegate/stagegate/pipeline/engine"
)

// codeDeployRun creates one deployment and follows it.
type codeDeployRun struct {
	client *codedeploy.Client
	c      engine.IntegrationCall
	poll   time.Duration
}

// runCodeDeploy deploys a revision to a deployment group: the workspace
// directory source, zipped and uploaded to bucket, or an object already
// in S3. It follows the deployment to a final status and fails with
// CodeDeploy's reasons, the failed targets' script diagnostics among
// them. Outside a deploy stage it checks the group and the source and
// only says what it would do.
func runCodeDeploy(ctx context.Context, cfg aws.Config, c engine.IntegrationCall, poll time.Duration) (engine.IntegrationResult, error) {
	cd := &codeDeployRun{client: codedeploy.NewFromConfig(cfg), c: c, poll: poll}
	res, err := cd.run(ctx, cfg)
	if err != nil {
		return res, fmt.Errorf("aws/codedeploy: %w", err)
	}
	return res, nil
}

func (cd *codeDeployRun) run(ctx context.Context, cfg aws.Config) (engine.IntegrationResult, error) {
	w := cd.c.Action.With
	app, group := str(w["application"]), str(w["deployment_group"])
	g, err := cd.client.GetDeploymentGroup(ctx, &codedeploy.GetDeploymentGroupInput{ApplicationName: &app, DeploymentGroupName: &group})
	if err != nil {
		return engine.IntegrationResult{}, fmt.Errorf("deployment group %s of application %s: %w", group, app, err)
	}
	config := str(w["deployment_config"])
	if config == "" && g.DeploymentGroupInfo != nil {
		config = aws.ToString(g.DeploymentGroupInfo.DeploymentConfigName)
	}
	loc := &cdtypes.S3Location{Bucket: aws.String(str(w["s3_bucket"])), Key: aws.String(str(w["s3_key"])), BundleType: bundleType(str(w["s3_key"]))}
	var bundle *os.File
	if src := str(w["source"]); src != "" {
		if p := computePlatform(g); p != "" && p != cdtypes.ComputePlatformServer {
			return engine.IntegrationResult{}, fmt.Errorf("application %s deploys to %s, whose revision is an AppSpec file, not a directory: give it as s3_bucket and s3_key", app, p)
		}
		var files int
		bundle, files, err = zipSource(cd.c.Workspace, src, cd.c.Log)
		if err != nil {
			return engine.IntegrationResult{}, fmt.Errorf("source %s: %w", src, err)
		}
		defer func() {
			bundle.Close()
			os.Remove(bundle.Name())
		}()
		key := str(w["key_prefix"]) + revisionName(app, cd.c)
		loc = &cdtypes.S3Location{Bucket: aws.String(str(w["bucket"])), Key: &key, BundleType: cdtypes.BundleTypeZip}
		cd.c.Log(fmt.Sprintf("zipped %d files of %s/", files, src))
	}
	where := fmt.Sprintf("s3://%s/%s (%s)", aws.ToString(loc.Bucket), aws.ToString(loc.Key), loc.BundleType)
	if !cd.c.Apply {
		what := "deploy " + where
		if bundle != nil {
			what = "upload it to " + where + " and deploy it"
		}
		cd.c.Log(fmt.Sprintf("would %s to deployment group %s of application %s (configuration %s); only a deploy stage does", what, group, app, config))
		return engine.IntegrationResult{}, nil
	}
	if bundle != nil {
		put, err := s3.NewFromConfig(cfg).PutObject(ctx, &s3.PutObjectInput{Bucket: loc.Bucket, Key: loc.Key, Body: bundle, ContentType: aws.String("application/zip")})
		if err != nil {
			return engine.IntegrationResult{}, fmt.Errorf("upload the revision to %s: %w", where, err)
		}
		// The ETag and version pin the deployment to this very upload,
		// even if the key is written again meanwhile.
		loc.ETag, loc.Version = aws.String(strings.Trim(aws.ToString(put.ETag), `"`)), put.VersionId
		cd.c.Log("uploaded the revision to " + where)
	}
	in := &codedeploy.CreateDeploymentInput{
		ApplicationName: &app, DeploymentGroupName: &group,
		Revision:    &cdtypes.RevisionLocation{RevisionType: cdtypes.RevisionLocationTypeS3, S3Location: loc},
		Description: aws.String(fmt.Sprintf("stagegate run %s, %s/%s", cd.c.RunID, cd.c.Stage.Name, cd.c.Action.Name)),
	}
	if c := str(w["deployment_config"]); c != "" {
		in.DeploymentConfigName = &c
	}
	created, err := cd.client.CreateDeployment(ctx, in)
	if err != nil {
		return engine.IntegrationResult{}, fmt.Errorf("create a deployment of %s to %s: %w", where, group, err)
	}
	id := aws.ToString(created.DeploymentId)
	cd.c.Log(fmt.Sprintf("created deployment %s of %s to deployment group %s of application %s (configuration %s)", id, where, group, app, config))
	outputs := map[string]string{"deployment_id": id}
	if err := cd.follow(ctx, id); err != nil {
		return engine.IntegrationResult{Outputs: outputs}, fmt.Errorf("deployment %s: %w", id, err)
	}
	return engine.IntegrationResult{Outputs: outputs}, nil
}

func computePlatform(g *codedeploy.GetDeploymentGroupOutput) cdtypes.ComputePlatform {
	if g == nil || g.DeploymentGroupInfo == nil {
		return ""
	}
	return g.DeploymentGroupInfo.ComputePlatform
}

// bundleType is CodeDeploy's bundle type of an S3 key by its extension,
// which the schema requires to be one of these.
func bundleType(key string) cdtypes.BundleType {
	switch k := strings.ToLower(key); {
	case strings.HasSuffix(k, ".tar.gz"), strings.HasSuffix(k, ".tgz"):
		return cdtypes.BundleTypeTarGZip
	case strings.HasSuffix(k, ".tar"):
		return cdtypes.BundleTypeTar
	case strings.HasSuffix(k, ".yaml"), strings.HasSuffix(k, ".yml"):
		return cdtypes.BundleTypeYaml
	case strings.HasSuffix(k, ".json"):
		return cdtypes.BundleTypeJson
	}
	return cdtypes.BundleTypeZip
}

// revisionName names an uploaded revision after the application and the
// run's attempt, in the characters S3 keys keep readable.
func revisionName(app string, c engine.IntegrationCall) string {
	return strings.Map(func(r rune) rune {
		if r < 128 && (r == '-' || r == '_' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return r
		}
		return '-'
	}, fmt.Sprintf("%s-%s-%s-%s-%d", app, c.RunID, c.Stage.Name, c.Action.Name, time.Now().UnixNano())) + ".zip"
}

// zipSource zips the regular files under src of the workspace into a
// temporary file, keeping their modes (hook scripts must stay
// executable), and returns it rewound with the number of files. The
// workspace is opened as a root, and symbolic links are left out, so
// that no link makes the bundle carry a file from outside it. The
// AppSpec file must be at the top of src, where CodeDeploy looks.
func zipSource(workspace, src string, log func(string)) (*os.File, int, error) {
	root, err := os.OpenRoot(workspace)
	if err != nil {
		return nil, 0, fmt.Errorf("workspace: %w", err)
	}
	defer root.Close()
	src = path.Clean(filepath.ToSlash(src))
	if !hasAppSpec(root, src) {
		return nil, 0, errors.New("has no appspec.yml or appspec.yaml at its top, which CodeDeploy needs")
	}
	return zipDir(root, src, log)
}

func hasAppSpec(root *os.Root, src string) bool {
	for _, name := range []string{"appspec.yml", "appspec.yaml"} {
		if fi, err := root.Lstat(path.Join(src, name)); err == nil && fi.Mode().IsRegular() {
			return true
		}
	}
	return false
}
