package codebuild

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cb "github.com/aws/aws-sdk-go-v2/service/codebuild"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/stagegate/stagegate/pipeline/runner"
)

// resultName is the build's artifact: the workspace as the build left
// it, zipped, next to the source.
const resultName = "result.zip"

// maxOutputs bounds the outputs a build sends back, as the engine bounds
// a local action's output file.
const maxOutputs = 1 << 20

// startInput is the StartBuild request. Secrets are in it only as names
// of Parameter Store parameters (type PARAMETER_STORE) or Secrets Manager
// references (SECRETS_MANAGER), never as values.
func (b *build) startInput(ctx context.Context, src string, params map[string]string) (*cb.StartBuildInput, error) {
	rs := b.spec.Remote.Runner
	dir, err := filepath.Rel(b.spec.Remote.Workspace, b.spec.Dir)
	if err != nil || !filepath.IsLocal(dir) && dir != "." {
		return nil, fmt.Errorf("the action's dir %s is not inside the workspace", b.spec.Dir)
	}
	var vars []cbtypes.EnvironmentVariable
	var empty []string
	plain := b.plainEnv()
	for _, k := range slices.Sorted(maps.Keys(plain)) {
		if plain[k] == "" {
			// CodeBuild has refused empty values; the buildspec sets them.
			empty = append(empty, k)
			continue
		}
		vars = append(vars, cbtypes.EnvironmentVariable{Name: aws.String(k), Value: aws.String(plain[k]), Type: cbtypes.EnvironmentVariableTypePlaintext})
	}
	spec, err := makeBuildspec(b.spec.Script, filepath.ToSlash(dir), b.artifactsName(), empty)
	if err != nil {
		return nil, err
	}
	for _, k := range slices.Sorted(maps.Keys(params)) {
		vars = append(vars, cbtypes.EnvironmentVariable{Name: aws.String(k), Value: aws.String(params[k]), Type: cbtypes.EnvironmentVariableTypeParameterStore})
	}
	refs := b.secretRefs()
	for _, k := range slices.Sorted(maps.Keys(refs)) {
		vars = append(vars, cbtypes.EnvironmentVariable{Name: aws.String(k), Value: aws.String(refs[k]), Type: cbtypes.EnvironmentVariableTypeSecretsManager})
	}
	in := &cb.StartBuildInput{
		ProjectName:                  aws.String(rs.Project),
		SourceTypeOverride:           cbtypes.SourceTypeS3,
		SourceLocationOverride:       aws.String(b.r.Staging.Bucket + "/" + src),
		BuildspecOverride:            aws.String(spec),
		EnvironmentVariablesOverride: vars,
		ArtifactsOverride: &cbtypes.ProjectArtifacts{
			Type:          cbtypes.ArtifactsTypeS3,
			Location:      aws.String(b.r.Staging.Bucket),
			Path:          aws.String(b.key),
			Name:          aws.String(resultName),
			Packaging:     cbtypes.ArtifactPackagingZip,
			NamespaceType: cbtypes.ArtifactNamespaceNone,
		},
		// The same request sent again by the SDK's retries starts one
		// build, not two.
		IdempotencyToken: aws.String(path.Base(b.key)),
	}
	if rs.Image != "" {
		in.ImageOverride = aws.String(rs.Image)
	}
	if rs.ComputeType != "" {
		in.ComputeTypeOverride = cbtypes.ComputeType(rs.ComputeType)
	}
	if rs.Privileged {
		in.PrivilegedModeOverride = aws.Bool(true)
	}
	// CodeBuild ends the build itself a little after the action's
	// timeout, should this process not live to stop it; StartBuild
	// takes 5 to 2160 minutes.
	if dl, ok := ctx.Deadline(); ok {
		m := math.Ceil(time.Until(dl).Minutes()) + 1
		in.TimeoutInMinutesOverride = aws.Int32(int32(min(max(m, 5), 2160)))
	}
	return in, nil
}

var safeParam = regexp.MustCompile(`[^A-Za-z0-9_.\-/]`)

// putSecrets puts each secret of the action into Parameter Store as a
// SecureString under a name of this attempt alone, and returns the names
// by variable. The build's service role reads them; deleteSecrets removes
// them when the build has ended.
func (b *build) putSecrets(ctx context.Context) (map[string]string, error) {
	params := map[string]string{}
	refs := b.secretRefs()
	for _, k := range slices.Sorted(maps.Keys(b.spec.Remote.Secret)) {
		v := b.env[k]
		if _, isRef := refs[k]; isRef || !b.shippedSecret(k) {
			continue
		}
		// Parameter names take letters, digits and _.-/ only
		// (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html).
		name := "/" + path.Join("stagegate", safeParam.ReplaceAllString(b.key, "-"), safeName.ReplaceAllString(k, "-"))
		_, err := b.c.ssm.PutParameter(ctx, &ssm.PutParameterInput{
			Name: aws.String(name), Value: aws.String(v), Type: ssmtypes.ParameterTypeSecureString,
			Description: aws.String("stagegate: a secret of one CodeBuild build, deleted when it ends"),
		})
		if err != nil {
			return params, fmt.Errorf("put secret %s into Parameter Store: %w", k, err)
		}
		params[k] = name
	}
	return params, nil
}

// deleteSecrets removes the parameters, ten at a time (DeleteParameters'
// most).
func (b *build) deleteSecrets(ctx context.Context, params map[string]string) {
	names := slices.Sorted(maps.Values(params))
	for chunk := range slices.Chunk(names, 10) {
		if _, err := b.c.ssm.DeleteParameters(ctx, &ssm.DeleteParametersInput{Names: chunk}); err != nil {
			fmt.Fprintf(b.spec.Stderr, "warning: could not delete the build's secrets from Parameter Store (%s): %v\n", strings.Join(chunk, ", "), err)
		}
	}
}

func (b *build) deleteObjects(ctx context.Context, keys ...string) {
	var ids []s3types.ObjectIdentifier
	for _, k := range keys {
		ids = append(ids, s3types.ObjectIdentifier{Key: aws.String(k)})
	}
	_, err := b.c.s3.DeleteObjects(ctx, &s3.DeleteObjectsInput{Bucket: aws.String(b.r.Staging.Bucket), Delete: &s3types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
	if err != nil {
		fmt.Fprintf(b.spec.Stderr, "warning: could not delete the build's staging objects: %v\n", err)
	}
}

// finish maps the ended build to a result; a successful one's outputs and
// workspace are brought back.
func (b *build) finish(ctx context.Context, bd cbtypes.Build) (runner.Result, error) {
	id := aws.ToString(bd.Id)
	switch bd.BuildStatus {
	case cbtypes.StatusTypeSucceeded:
	case cbtypes.StatusTypeTimedOut:
		return runner.Result{ExitCode: 1, Reason: fmt.Sprintf("CodeBuild build %s timed out%s", id, failedPhase(bd))}, nil
	case cbtypes.StatusTypeStopped:
		return runner.Result{ExitCode: 1, Reason: fmt.Sprintf("CodeBuild build %s was stopped outside stagegate", id)}, nil
	default: // FAILED, FAULT
		return runner.Result{ExitCode: 1, Reason: fmt.Sprintf("CodeBuild build %s %s%s", id, bd.BuildStatus, failedPhase(bd))}, nil
	}
	if err := b.writeOutputs(bd); err != nil {
		return runner.Result{ExitCode: 1, Reason: err.Error()}, nil
	}
	if err := b.bringBack(ctx); err != nil {
		return runner.Result{ExitCode: 1, Reason: err.Error()}, nil
	}
	return runner.Result{ExitCode: 0}, nil
}

// failedPhase names the first phase that did not succeed and why.
func failedPhase(bd cbtypes.Build) string {
	for _, p := range bd.Phases {
		switch p.PhaseStatus {
		case cbtypes.StatusTypeSucceeded, cbtypes.StatusTypeInProgress, "":
			continue
		}
		var why []string
		for _, c := range p.Contexts {
			if s := strings.TrimSpace(strings.Trim(aws.ToString(c.StatusCode)+": "+aws.ToString(c.Message), ": ")); s != "" {
				why = append(why, s)
			}
		}
		s := fmt.Sprintf(" in phase %s", p.PhaseType)
		if len(why) > 0 {
			s += ": " + strings.Join(why, "; ")
		}
		return s
	}
	return ""
}

// writeOutputs writes the exported output file to the engine's.
func (b *build) writeOutputs(bd cbtypes.Build) error {
	for _, v := range bd.ExportedEnvironmentVariables {
		if aws.ToString(v.Name) != outputsVar {
			continue
		}
		enc := aws.ToString(v.Value)
		if base64.StdEncoding.DecodedLen(len(enc)) > maxOutputs {
			return fmt.Errorf("the build's outputs are larger than %d bytes", maxOutputs)
		}
		data, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			return fmt.Errorf("the build's outputs are not base64: %w", err)
		}
		if len(data) == 0 {
			return nil
		}
		if err := os.WriteFile(b.spec.Remote.OutputFile, data, 0o600); err != nil {
			return fmt.Errorf("write the build's outputs: %w", err)
		}
	}
	return nil
}

// bringBack downloads the result archive and unpacks it over the
// workspace.
func (b *build) bringBack(ctx context.Context) error {
	key := path.Join(b.key, resultName)
	obj, err := b.c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b.r.Staging.Bucket), Key: aws.String(key)})
	if err != nil {
		return fmt.Errorf("download the build's workspace s3://%s/%s: %w", b.r.Staging.Bucket, key, err)
	}
	defer obj.Body.Close()
	f, err := os.CreateTemp("", "stagegate-result-*.zip")
	if err != nil {
		return fmt.Errorf("result archive: %w", err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	limit := b.r.Limits.bytes()
	n, err := io.Copy(f, io.LimitReader(obj.Body, limit+1))
	if err != nil {
		return fmt.Errorf("download the build's workspace: %w", err)
	}
	if n > limit {
		return fmt.Errorf("%w: the archive is larger than %d bytes", errHostile, limit)
	}
	if err := unzipInto(f, n, b.spec.Remote.Workspace, b.r.Limits); err != nil {
		return fmt.Errorf("bring back the build's workspace: %w", err)
	}
	return nil
}
