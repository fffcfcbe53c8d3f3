package awsint

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	ltypes "github.com/aws/aws-sdk-go-v2/service/lambda/types"

	"github.com/stagegate/stagegate/pipeline/engine"
)

// maxLambdaZip is the largest zip UpdateFunctionCode takes directly;
// larger code goes through S3.
// https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html
const maxLambdaZip = 50 << 20

// runLambda updates a function's code, waits for the update, publishes a
// version and moves the alias to it. The alias moves last, once the
// version exists, so a failed update leaves it where it was, and moves
// back when the version does not become Active. Outside a deploy stage
// it only says what it would do.
func runLambda(ctx context.Context, cfg aws.Config, c engine.IntegrationCall, poll time.Duration) (engine.IntegrationResult, error) {
	res, err := lambdaDeploy(ctx, cfg, c, poll)
	if err != nil {
		return res, fmt.Errorf("aws/lambda: %w", err)
	}
	return res, nil
}

func lambdaDeploy(ctx context.Context, cfg aws.Config, c engine.IntegrationCall, poll time.Duration) (engine.IntegrationResult, error) {
	w := c.Action.With
	fn, alias := str(w["function"]), str(w["alias"])
	client := lambda.NewFromConfig(cfg)
	in := &lambda.UpdateFunctionCodeInput{FunctionName: &fn}
	source := ""
	switch {
	case w["zip"] != nil:
		root, err := os.OpenRoot(c.Workspace)
		if err != nil {
			return engine.IntegrationResult{}, fmt.Errorf("workspace: %w", err)
		}
		defer root.Close()
		if in.ZipFile, err = readBounded(root, str(w["zip"]), maxLambdaZip); err != nil {
			return engine.IntegrationResult{}, fmt.Errorf("zip: %w", err)
		}
		source = str(w["zip"])
	case w["s3_key"] != nil:
		in.S3Bucket, in.S3Key = aws.String(str(w["s3_bucket"])), aws.String(str(w["s3_key"]))
		source = fmt.Sprintf("s3://%s/%s", *in.S3Bucket, *in.S3Key)
	case w["image_uri"] != nil:
		in.ImageUri = aws.String(str(w["image_uri"]))
		source = *in.ImageUri
	default:
		return engine.IntegrationResult{}, errors.New("no code: give zip, s3_key or image_uri")
	}
	current, err := client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: &fn})
	if err != nil {
		return engine.IntegrationResult{}, fmt.Errorf("function %s: %w", fn, err)
	}
	previous := ""
	if alias != "" {
		a, err := client.GetAlias(ctx, &lambda.GetAliasInput{FunctionName: &fn, Name: &alias})
		var nf *ltypes.ResourceNotFoundException
		switch {
		case errors.As(err, &nf):
		case err != nil:
			return engine.IntegrationResult{}, fmt.Errorf("alias %s: %w", alias, err)
		default:
			previous = aws.ToString(a.FunctionVersion)
		}
	}
	outputs := map[string]string{"previous_version": previous}
	if !c.Apply {
		c.Log(fmt.Sprintf("would update function %s (code %s) from %s, publish a version and move alias %q from version %q; only a deploy stage does",
			fn, aws.ToString(current.CodeSha256), source, alias, previous))
		return engine.IntegrationResult{Outputs: outputs}, nil
	}
	updated, err := client.UpdateFunctionCode(ctx, in)
	if err != nil {
		return engine.IntegrationResult{}, fmt.Errorf("update code of %s: %w", fn, err)
	}
	c.Log(fmt.Sprintf("updating function %s from %s (code %s)", fn, source, aws.ToString(updated.CodeSha256)))
	if err := waitFunctionUpdated(ctx, client, fn, poll); err != nil {
		return engine.IntegrationResult{}, err
	}
	// CodeSha256 makes the publish fail if someone else changed the
	// code meanwhile, rather than publish their code under this run.
	v, err := client.PublishVersion(ctx, &lambda.PublishVersionInput{FunctionName: &fn, CodeSha256: updated.CodeSha256,
		Description: aws.String("stagegate run " + c.RunID)})
	if err != nil {
		return engine.IntegrationResult{}, fmt.Errorf("publish a version of %s: %w", fn, err)
	}
	version := aws.ToString(v.Version)
	c.Log(fmt.Sprintf("published version %s of %s", version, fn))
	outputs["version"], outputs["code_sha256"] = version, aws.ToString(updated.CodeSha256)
	if alias == "" {
		return engine.IntegrationResult{Outputs: outputs}, nil
	}
	if err := moveAlias(ctx, client, fn, alias, previous, version, poll, c.Log); err != nil {
		return engine.IntegrationResult{Outputs: outputs}, err
	}
	return engine.IntegrationResult{Outputs: outputs}, nil
}

// rollbackTimeout bounds moving an alias back, which must happen even
// when the action's own time ran out.
const rollbackTimeout = time.Minute

// moveAlias points alias at version and waits until the version is
// Active. When it does not become so, or anything fails once the alias
// moved (the action's timeout or cancellation included), the alias goes
// back to previous, or is deleted when it did not exist before, as
// CodePipeline's users expect of a failed deploy.
func moveAlias(ctx context.Context, client *lambda.Client, fn, alias, previous, version string, poll time.Duration, log func(string)) error {
	var err error
	if previous == "" {
		_, err = client.CreateAlias(ctx, &lambda.CreateAliasInput{FunctionName: &fn, Name: &alias, FunctionVersion: &version})
	} else {
		_, err = client.UpdateAlias(ctx, &lambda.UpdateAliasInput{FunctionName: &fn, Name: &alias, FunctionVersion: &version})
	}
	if err != nil {
		return fmt.Errorf("move alias %s to version %s (it stays at %q): %w", alias, version, previous, err)
	}
	log(fmt.Sprintf("alias %s: version %q -> %s", alias, previous, version))
	err = waitVersionActive(ctx, client, fn, version, poll, log)
	if err == nil {
		return nil
	}
	// The action's context may be what ended: the rollback gets its own.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	var back error
	if previous == "" {
		_, back = client.DeleteAlias(rctx, &lambda.DeleteAliasInput{FunctionName: &fn, Name: &alias})
	} else {
		_, back = client.UpdateAlias(rctx, &lambda.UpdateAliasInput{FunctionName: &fn, Name: &alias, FunctionVersion: &previous})
	}
	if back != nil {
		log(fmt.Sprintf("could not move alias %s back to version %q: %v", alias, previous, back))
		return fmt.Errorf("%w; moving alias %s back to version %q failed too: %w", err, alias, previous, back)
	}
	if previous == "" {
		log(fmt.Sprintf("alias %s deleted again: it did not exist before", alias))
		return fmt.Errorf("%w; alias %s deleted again", err, alias)
	}
	log(fmt.Sprintf("alias %s moved back: version %s -> %s", alias, version, previous))
	return fmt.Errorf("%w; alias %s moved back to version %s", err, alias, previous)
}

// waitVersionActive polls a published version until Lambda says it is
// Active and its last update succeeded, failing with Lambda's reason
// when it failed (https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html).
func waitVersionActive(ctx context.Context, client *lambda.Client, fn, version string, poll time.Duration, log func(string)) error {
	last := ""
	for {
		cfg, err := client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: &fn, Qualifier: &version})
		if err != nil && ctx.Err() != nil {
			// The action's time ran out mid-call: say what it was
			// waiting for, as when it runs out between calls.
			return fmt.Errorf("waiting for version %s of %s to become Active: %w", version, fn, context.Cause(ctx))
		}
		if err != nil {
			return fmt.Errorf("version %s of %s: %w", version, fn, err)
		}
		if now := string(cfg.State) + "/" + string(cfg.LastUpdateStatus); now != last {
			log(fmt.Sprintf("version %s: state %s, last update %s", version, orNone(string(cfg.State)), orNone(string(cfg.LastUpdateStatus))))
			last = now
		}
		switch {
		case cfg.State == ltypes.StateFailed || cfg.State == ltypes.StateInactive:
			return fmt.Errorf("version %s of %s is %s: %s (%s)", version, fn, cfg.State, aws.ToString(cfg.StateReason), cfg.StateReasonCode)
		case cfg.LastUpdateStatus == ltypes.LastUpdateStatusFailed:
			return fmt.Errorf("version %s of %s failed to update: %s (%s)", version, fn, aws.ToString(cfg.LastUpdateStatusReason), cfg.LastUpdateStatusReasonCode)
		case (cfg.State == ltypes.StateActive || cfg.State == "") &&
			(cfg.LastUpdateStatus == ltypes.LastUpdateStatusSuccessful || cfg.LastUpdateStatus == ""):
			return nil
		}
		if err := sleep(ctx, poll); err != nil {
			return fmt.Errorf("waiting for version %s of %s to become Active: %w", version, fn, err)
		}
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// waitFunctionUpdated polls until the code update has ended, failing
// with Lambda's reason when it failed.
func waitFunctionUpdated(ctx context.Context, client *lambda.Client, fn string, poll time.Duration) error {
	for {
		cfg, err := client.GetFunctionConfiguration(ctx, &lambda.GetFunctionConfigurationInput{FunctionName: &fn})
		if err != nil {
			return fmt.Errorf("function %s: %w", fn, err)
		}
		switch cfg.LastUpdateStatus {
		case ltypes.LastUpdateStatusSuccessful, "":
			return nil
		case ltypes.LastUpdateStatusFailed:
			return fmt.Errorf("update of %s failed: %s", fn, aws.ToString(cfg.LastUpdateStatusReason))
		}
		if err := sleep(ctx, poll); err != nil {
			return err
		}
	}
}
