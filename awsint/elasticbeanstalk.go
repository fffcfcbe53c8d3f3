package awsint

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	eb "github.com/aws/aws-sdk-go-v2/service/elasticbeanstalk"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/elasticbeanstalk/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/stagegate/stagegate/pipeline/engine"
)

// defaultBeanstalkTimeout is how long an environment has to become
// Ready and Green when the action does not say.
const defaultBeanstalkTimeout = 15 * time.Minute

// beanstalk deploys an application version to an environment, as
// CodePipeline's Elastic Beanstalk action does.
type beanstalk struct {
	client   *eb.Client
	s3       *s3.Client
	c        engine.IntegrationCall
	poll     time.Duration
	app, env string
	label    string
}

func runElasticBeanstalk(ctx context.Context, cfg aws.Config, c engine.IntegrationCall, poll time.Duration) (engine.IntegrationResult, error) {
	w := c.Action.With
	b := &beanstalk{client: eb.NewFromConfig(cfg), s3: s3.NewFromConfig(cfg), c: c, poll: poll,
		app: str(w["application"]), env: str(w["environment"]), label: str(w["version_label"])}
	if b.label == "" {
		b.label = defaultLabel(c.Event.SHA, c.RunID)
	}
	res, err := b.deploy(ctx)
	if err != nil {
		return res, fmt.Errorf("aws/elasticbeanstalk: environment %s: %w", b.env, err)
	}
	return res, nil
}

// defaultLabel names a version after the commit and the run, which
// tells where it came from and stays the same when the action is tried
// again.
func defaultLabel(sha, run string) string {
	if len(sha) > 12 {
		sha = sha[:12]
	}
	label := strings.Trim(sha+"-"+run, "-")
	if label == "" {
		label = "stagegate-" + time.Now().UTC().Format("20060102T150405Z")
	}
	if len(label) > 100 {
		label = label[:100]
	}
	return strings.ReplaceAll(label, "/", "-")
}

func (b *beanstalk) deploy(ctx context.Context) (engine.IntegrationResult, error) {
	w := b.c.Action.With
	timeout := defaultBeanstalkTimeout
	if t := str(w["timeout"]); t != "" {
		d, err := time.ParseDuration(t)
		if err != nil || d <= 0 {
			return engine.IntegrationResult{}, fmt.Errorf("timeout %q is not a positive duration", t)
		}
		timeout = d
	}
	current, err := b.describe(ctx)
	if err != nil {
		return engine.IntegrationResult{}, err
	}
	bucket, key := str(w["s3_bucket"]), str(w["s3_key"])
	from := str(w["source"]) + "/"
	if w["zip"] != nil {
		from = str(w["zip"])
	}
	if key == "" {
		bucket, key = str(w["bucket"]), str(w["key_prefix"])+b.app+"/"+b.label+".zip"
	}
	outputs := map[string]string{"version_label": b.label}
	if !b.c.Apply {
		b.c.Log(fmt.Sprintf("would create version %s of application %s from s3://%s/%s, move environment %s from version %s (%s, %s) to it and wait for Ready and Green; only a deploy stage does",
			b.label, b.app, bucket, key, b.env, aws.ToString(current.VersionLabel), current.Status, current.Health))
		return engine.IntegrationResult{Outputs: outputs}, nil
	}
	if w["s3_key"] == nil {
		if err := b.upload(ctx, bucket, key); err != nil {
			return engine.IntegrationResult{}, err
		}
		b.c.Log(fmt.Sprintf("uploaded %s to s3://%s/%s", from, bucket, key))
	}
	if err := b.createVersion(ctx, bucket, key); err != nil {
		return engine.IntegrationResult{}, err
	}
	// Events from before the update are marked seen, so that an earlier
	// deploy's errors are neither logged nor blamed on this one; the
	// minute allows for the clock's skew from AWS's.
	since, seen := time.Now().Add(-time.Minute), make(map[string]bool)
	if _, err := b.newEvents(ctx, since, seen); err != nil {
		return engine.IntegrationResult{}, err
	}
	if _, err := b.client.UpdateEnvironment(ctx, &eb.UpdateEnvironmentInput{
		ApplicationName: &b.app, EnvironmentName: &b.env, VersionLabel: &b.label,
	}); err != nil {
		return engine.IntegrationResult{}, fmt.Errorf("update to version %s: %w", b.label, err)
	}
	b.c.Log(fmt.Sprintf("environment %s: version %s -> %s", b.env, aws.ToString(current.VersionLabel), b.label))
	if err := b.wait(ctx, since, seen, timeout); err != nil {
		return engine.IntegrationResult{Outputs: outputs}, err
	}
	return engine.IntegrationResult{Outputs: outputs}, nil
}

// describe returns the environment, failing when it does not exist.
func (b *beanstalk) describe(ctx context.Context) (ebtypes.EnvironmentDescription, error) {
	out, err := b.client.DescribeEnvironments(ctx, &eb.DescribeEnvironmentsInput{
		ApplicationName: &b.app, EnvironmentNames: []string{b.env}, IncludeDeleted: aws.Bool(false),
	})
	if err != nil {
		return ebtypes.EnvironmentDescription{}, fmt.Errorf("describe: %w", err)
	}
	// Matched by name rather than trusting the filter: moto, for one,
	// answers with every environment of the application.
	for _, e := range out.Environments {
		if strings.EqualFold(aws.ToString(e.EnvironmentName), b.env) {
			return e, nil
		}
	}
	return ebtypes.EnvironmentDescription{}, fmt.Errorf("application %s has no environment %s", b.app, b.env)
}

// upload puts the bundle, zipped from source or read from zip, at key.
func (b *beanstalk) upload(ctx context.Context, bucket, key string) error {
	w := b.c.Action.With
	root, err := os.OpenRoot(b.c.Workspace)
	if err != nil {
		return fmt.Errorf("workspace: %w", err)
	}
	defer root.Close()
	var f *os.File
	if src := str(w["source"]); src != "" {
		var files int
		if f, files, err = zipDir(root, src, nil); err != nil {
			return err
		}
		defer os.Remove(f.Name())
		b.c.Log(fmt.Sprintf("zipped %d files of %s/", files, src))
	} else if f, err = root.Open(filepath.FromSlash(str(w["zip"]))); err != nil {
		return fmt.Errorf("zip: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	if info.Size() > maxBundle {
		return errBundleTooLarge
	}
	if _, err := b.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: f,
		ContentLength: aws.Int64(info.Size()), ContentType: aws.String("application/zip")}); err != nil {
		return fmt.Errorf("upload s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

// createVersion creates the application version; one of that label
// already there (the action tried again) is taken as it is.
func (b *beanstalk) createVersion(ctx context.Context, bucket, key string) error {
	_, err := b.client.CreateApplicationVersion(ctx, &eb.CreateApplicationVersionInput{
		ApplicationName: &b.app, VersionLabel: &b.label,
		Description:  aws.String(truncateDescription("stagegate run " + b.c.RunID)),
		SourceBundle: &ebtypes.S3Location{S3Bucket: &bucket, S3Key: &key},
	})
	var ae smithy.APIError
	if errors.As(err, &ae) && strings.Contains(ae.ErrorMessage(), "already exists") {
		b.c.Log(fmt.Sprintf("version %s of %s exists already; deploying it", b.label, b.app))
		return nil
	}
	if err != nil {
		return fmt.Errorf("create version %s of %s: %w", b.label, b.app, err)
	}
	b.c.Log(fmt.Sprintf("created version %s of %s from s3://%s/%s", b.label, b.app, bucket, key))
	return nil
}

func truncateDescription(s string) string {
	if len(s) > 200 {
		return s[:200]
	}
	return s
}

// wait follows the environment and its events until it is Ready and
// Green on the new version, failing when it ends otherwise or the
// timeout passes, with the warnings and errors its events gave.
func (b *beanstalk) wait(ctx context.Context, since time.Time, seen map[string]bool, timeout time.Duration) error {
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var problems []string
	last := ""
	late := func() error {
		return b.failure(fmt.Sprintf("not Ready and Green within %s%s", timeout, last), problems)
	}
	for {
		// The state first, then the events: an event that arrives
		// between the two is read on this pass or the next.
		e, err := b.describe(wctx)
		if err == nil {
			var evs []ebtypes.EventDescription
			if evs, err = b.newEvents(wctx, since, seen); err == nil {
				for _, ev := range evs {
					msg := strings.Join(strings.Fields(aws.ToString(ev.Message)), " ")
					b.c.Log(fmt.Sprintf("%s %s %s", aws.ToTime(ev.EventDate).UTC().Format(time.TimeOnly), ev.Severity, msg))
					if ev.Severity == ebtypes.EventSeverityWarn || ev.Severity == ebtypes.EventSeverityError || ev.Severity == ebtypes.EventSeverityFatal {
						problems = append(problems, msg)
					}
				}
			}
		}
		if err != nil {
			if wctx.Err() != nil && ctx.Err() == nil {
				return late()
			}
			return err
		}
		status, version := e.Status, aws.ToString(e.VersionLabel)
		last = fmt.Sprintf(" (%s, %s)", status, e.Health)
		switch {
		case status == ebtypes.EnvironmentStatusTerminating || status == ebtypes.EnvironmentStatusTerminated:
			return b.failure("the environment is "+string(status), problems)
		case status != ebtypes.EnvironmentStatusReady:
		case version != b.label && version != "":
			return b.failure(fmt.Sprintf("the environment is Ready on version %s, not %s: the deploy was rolled back", version, b.label), problems)
		case e.Health == ebtypes.EnvironmentHealthRed || e.HealthStatus == ebtypes.EnvironmentHealthStatusDegraded || e.HealthStatus == ebtypes.EnvironmentHealthStatusSevere:
			return b.failure(fmt.Sprintf("the environment is Ready but its health is %s (%s)", e.Health, orNone(string(e.HealthStatus))), problems)
		case e.Health == ebtypes.EnvironmentHealthGreen:
			b.c.Log(fmt.Sprintf("environment %s is Ready and Green on version %s", b.env, b.label))
			return nil
		}
		if err := sleep(wctx, b.poll); err != nil {
			if ctx.Err() == nil {
				return late()
			}
			return err
		}
	}
}

// failure is the error of a deploy that did not end Ready and Green,
// with the messages of the events that said why.
func (b *beanstalk) failure(what string, problems []string) error {
	if len(problems) == 0 {
		return errors.New(what)
	}
	const most = 10
	if len(problems) > most {
		problems = append(problems[:most:most], fmt.Sprintf("and %d more in the log", len(problems)-most))
	}
	return fmt.Errorf("%s: %s", what, strings.Join(problems, "; "))
}

// newEvents returns the environment's events since since not seen
// before, oldest first; Elastic Beanstalk lists them newest first.
func (b *beanstalk) newEvents(ctx context.Context, since time.Time, seen map[string]bool) ([]ebtypes.EventDescription, error) {
	out, err := b.client.DescribeEvents(ctx, &eb.DescribeEventsInput{
		ApplicationName: &b.app, EnvironmentName: &b.env, StartTime: &since, MaxRecords: aws.Int32(100),
	})
	if err != nil {
		return nil, fmt.Errorf("events: %w", err)
	}
	var fresh []ebtypes.EventDescription
	for i := len(out.Events) - 1; i >= 0; i-- {
		ev := out.Events[i]
		id := aws.ToTime(ev.EventDate).String() + "\x00" + aws.ToString(ev.Message)
		if !seen[id] {
			seen[id] = true
			fresh = append(fresh, ev)
		}
	}
	return fresh, nil
}
