package awsint

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	ecstypes "github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/stagegate/stagegate/pipeline/engine"
)

// defaultECSTimeout is how long a service has to settle when the action
// does not say.
const defaultECSTimeout = 10 * time.Minute

// maxDiffLines bounds the changes a plan logs; ECS takes 10 containers
// a task definition, so only a file it would refuse has more.
const maxDiffLines = 200

// restoreTimeout bounds putting the previous task definition back, which
// runs after the action's own context may have ended.
const restoreTimeout = time.Minute

// ecsDeploy moves one service to a new task definition.
type ecsDeploy struct {
	client           *ecs.Client
	c                engine.IntegrationCall
	poll             time.Duration
	cluster, service string
}

// runECS registers a revision of the service's task definition (the
// current one with a container's image replaced, or a whole one from a
// file), moves the service to it and waits until the service is stable.
// When it is not within the timeout, or the rollout fails, the service
// is moved back to the task definition it had. Outside a deploy stage it
// only shows what the new revision would change.
func runECS(ctx context.Context, cfg aws.Config, c engine.IntegrationCall, poll time.Duration) (engine.IntegrationResult, error) {
	w := c.Action.With
	d := &ecsDeploy{client: ecs.NewFromConfig(cfg), c: c, poll: poll, cluster: str(w["cluster"]), service: str(w["service"])}
	if d.cluster == "" {
		d.cluster = clusterOfServiceARN(d.service)
	}
	res, err := d.run(ctx)
	if err != nil {
		return res, fmt.Errorf("aws/ecs: service %s: %w", d.service, err)
	}
	return res, nil
}

// clusterOfServiceARN is the cluster a service ARN of the new format
// (arn:aws:ecs:region:account:service/cluster/name) names, else "".
func clusterOfServiceARN(s string) string {
	_, rest, ok := strings.Cut(s, ":service/")
	if !ok || !strings.HasPrefix(s, "arn:") {
		return ""
	}
	cluster, _, ok := strings.Cut(rest, "/")
	if !ok {
		return ""
	}
	return cluster
}

func (d *ecsDeploy) clusterParam() *string {
	if d.cluster == "" {
		return nil
	}
	return aws.String(d.cluster)
}

func (d *ecsDeploy) run(ctx context.Context) (engine.IntegrationResult, error) {
	timeout := defaultECSTimeout
	if s := str(d.c.Action.With["timeout"]); s != "" {
		var err error
		if timeout, err = time.ParseDuration(s); err != nil || timeout <= 0 {
			return engine.IntegrationResult{}, fmt.Errorf("timeout %q is not a positive duration", s)
		}
	}
	previous, next, err := d.plan(ctx)
	if err != nil {
		return engine.IntegrationResult{}, err
	}
	outputs := map[string]string{"previous_task_definition_arn": previous}
	if !d.c.Apply {
		d.c.Log(fmt.Sprintf("would register a revision of family %s and move the service to it; only a deploy stage does", aws.ToString(next.Family)))
		return engine.IntegrationResult{Outputs: outputs}, nil
	}
	reg, err := d.client.RegisterTaskDefinition(ctx, next)
	if err != nil {
		return engine.IntegrationResult{}, fmt.Errorf("register task definition: %w", err)
	}
	arn := aws.ToString(reg.TaskDefinition.TaskDefinitionArn)
	outputs["task_definition_arn"] = arn
	d.c.Log("registered " + arn)
	return engine.IntegrationResult{Outputs: outputs}, d.move(ctx, previous, arn, timeout)
}

// plan returns the service's task definition and the input that
// registers its next revision, and logs what the revision changes.
func (d *ecsDeploy) plan(ctx context.Context) (string, *ecs.RegisterTaskDefinitionInput, error) {
	w := d.c.Action.With
	svc, err := d.describe(ctx)
	if err != nil {
		return "", nil, err
	}
	if dc := svc.DeploymentController; dc != nil && dc.Type != "" && dc.Type != ecstypes.DeploymentControllerTypeEcs {
		return "", nil, fmt.Errorf("its deployments are controlled by %s, not ECS: deploy it with aws/codedeploy or its own controller", dc.Type)
	}
	previous := aws.ToString(svc.TaskDefinition)
	got, err := d.client.DescribeTaskDefinition(ctx, &ecs.DescribeTaskDefinitionInput{
		TaskDefinition: aws.String(previous), Include: []ecstypes.TaskDefinitionField{ecstypes.TaskDefinitionFieldTags},
	})
	if err != nil {
		return "", nil, fmt.Errorf("describe task definition %s: %w", previous, err)
	}
	cur, err := registerInputOf(got.TaskDefinition, got.Tags)
	if err != nil {
		return "", nil, err
	}
	var next *ecs.RegisterTaskDefinitionInput
	if file := str(w["task_definition"]); file != "" {
		root, err := os.OpenRoot(d.c.Workspace)
		if err != nil {
			return "", nil, fmt.Errorf("workspace: %w", err)
		}
		next, err = readTaskDefinitionFile(root, file, aws.ToString(cur.Family))
		root.Close()
		if err != nil {
			return "", nil, fmt.Errorf("task_definition: %w", err)
		}
	} else if next, err = withImage(cur, str(w["container"]), str(w["image"])); err != nil {
		return "", nil, err
	}
	diff, err := taskDiff(cur, next)
	if err != nil {
		return "", nil, err
	}
	d.c.Log(fmt.Sprintf("service %s of cluster %s runs task definition %s", d.service, d.clusterName(), previous))
	if len(diff) == 0 {
		diff = []string{"no change to the task definition"}
	}
	if len(diff) > maxDiffLines {
		diff = append(diff[:maxDiffLines], fmt.Sprintf("and %d more changes", len(diff)-maxDiffLines))
	}
	for _, l := range diff {
		d.c.Log("  " + l)
	}
	return previous, next, nil
}

// move moves the service to arn and waits for it to be stable, moving it
// back to previous when it is not.
func (d *ecsDeploy) move(ctx context.Context, previous, arn string, timeout time.Duration) error {
	// Events from a minute before, by this machine's clock, unless ECS
	// says when the deployment began.
	since := time.Now().Add(-time.Minute)
	upd, err := d.client.UpdateService(ctx, &ecs.UpdateServiceInput{Cluster: d.clusterParam(), Service: aws.String(d.service), TaskDefinition: aws.String(arn)})
	if err != nil {
		return fmt.Errorf("update service to %s (it stays at %s): %w", arn, previous, err)
	}
	d.c.Log(fmt.Sprintf("service %s: task definition %s -> %s; waiting up to %s for it to be stable", d.service, previous, arn, timeout))
	wctx, cancel := context.WithTimeoutCause(ctx, timeout, errNotStable)
	defer cancel()
	res := d.wait(wctx, arn, deploymentStart(upd.Service, arn, since))
	if res.err == nil {
		d.c.Log(fmt.Sprintf("service %s is stable on %s", d.service, arn))
		return nil
	}
	err = res.err
	if errors.Is(context.Cause(wctx), errNotStable) && ctx.Err() == nil {
		err = fmt.Errorf("not stable within %s (%s)", timeout, res.last)
	}
	if !res.restore {
		return err
	}
	return d.restore(ctx, previous, err)
}

func (d *ecsDeploy) clusterName() string {
	if d.cluster == "" {
		return "default"
	}
	return d.cluster
}

// describe returns the service, which must exist and be active.
func (d *ecsDeploy) describe(ctx context.Context) (*ecstypes.Service, error) {
	out, err := d.client.DescribeServices(ctx, &ecs.DescribeServicesInput{Cluster: d.clusterParam(), Services: []string{d.service}})
	if err != nil {
		return nil, fmt.Errorf("describe service: %w", err)
	}
	for _, f := range out.Failures {
		return nil, fmt.Errorf("not found in cluster %s: %s", d.clusterName(), aws.ToString(f.Reason))
	}
	if len(out.Services) == 0 {
		return nil, fmt.Errorf("not found in cluster %s", d.clusterName())
	}
	svc := &out.Services[0]
	if s := aws.ToString(svc.Status); s != "ACTIVE" {
		return nil, fmt.Errorf("the service is %s, not ACTIVE", s)
	}
	return svc, nil
}

// deploymentStart is when the deployment of arn began by ECS's clock,
// so that older service events are not shown; orElse when ECS does not
// say.
func deploymentStart(svc *ecstypes.Service, arn string, orElse time.Time) time.Time {
	if svc == nil {
		return orElse
	}
	for _, dep := range svc.Deployments {
		if aws.ToString(dep.TaskDefinition) == arn && dep.CreatedAt != nil {
			return *dep.CreatedAt
		}
	}
	return orElse
}

// waitResult is how a wait for stability ended: err is nil when the
// service became stable; restore says whether the previous task
// definition should be put back; last describes the last state seen.
type waitResult struct {
	err     error
	restore bool
	last    string
}

// wait polls the service until it is stable on arn, following its events
// into the log. Stable is what ECS's services-stable waiter means, made
// stricter where ECS reports more: a single deployment, the PRIMARY
// one, running as many tasks as it wants, whose rollout (where
// reported) is COMPLETED.
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Deployment.html
func (d *ecsDeploy) wait(ctx context.Context, arn string, since time.Time) waitResult {
	seen := make(map[string]bool)
	last := "not described yet"
	for {
		svc, err := d.describe(ctx)
		switch {
		case ctx.Err() != nil:
			return waitResult{err: context.Cause(ctx), restore: true, last: last}
		case throttled(err):
			// Past the SDK's own retries: this poll is lost, the next
			// one may do.
			d.c.Log(fmt.Sprintf("warning: %v; asking again", err))
			if err := sleep(ctx, d.poll); err != nil {
				return waitResult{err: err, restore: true, last: last}
			}
			continue
		case err != nil:
			return waitResult{err: err, restore: true, last: last}
		}
		d.logEvents(svc.Events, since, seen)
		state, stable := deploymentState(svc)
		if state != last {
			d.c.Log(state)
			last = state
		}
		failed := ""
		for _, dep := range svc.Deployments {
			if dep.RolloutState == ecstypes.DeploymentRolloutStateFailed && aws.ToString(dep.TaskDefinition) == arn {
				failed = aws.ToString(dep.RolloutStateReason)
			}
		}
		switch td := aws.ToString(svc.TaskDefinition); {
		case td != arn && failed != "":
			return waitResult{err: fmt.Errorf("the rollout failed: %s; ECS's deployment circuit breaker moved the service back to %s", failed, td), last: last}
		case td != arn:
			// Someone else's deploy: the service is no longer this
			// action's to move.
			return waitResult{err: fmt.Errorf("the service moved to task definition %s meanwhile (another deploy?); it was left there", td), last: last}
		case failed != "":
			return waitResult{err: fmt.Errorf("the rollout failed: %s", failed), restore: true, last: last}
		}
		if stable {
			return waitResult{}
		}
		if err := sleep(ctx, d.poll); err != nil {
			return waitResult{err: err, restore: true, last: last}
		}
	}
}

// deploymentState describes the service's deployments on one line and
// tells whether the service is stable.
func deploymentState(svc *ecstypes.Service) (string, bool) {
	var parts []string
	var primary *ecstypes.Deployment
	for i, dep := range svc.Deployments {
		s := fmt.Sprintf("%s %d/%d running, %d pending", strings.ToLower(aws.ToString(dep.Status)), dep.RunningCount, dep.DesiredCount, dep.PendingCount)
		if dep.FailedTasks > 0 {
			s += fmt.Sprintf(", %d failed", dep.FailedTasks)
		}
		if dep.RolloutState != "" {
			s += ", rollout " + strings.ToLower(string(dep.RolloutState))
		}
		parts = append(parts, s)
		if aws.ToString(dep.Status) == "PRIMARY" {
			primary = &svc.Deployments[i]
		}
	}
	if len(parts) == 0 {
		return "no deployments", false
	}
	stable := len(svc.Deployments) == 1 && primary != nil && primary.RunningCount == primary.DesiredCount &&
		(primary.RolloutState == "" || primary.RolloutState == ecstypes.DeploymentRolloutStateCompleted)
	return "deployments: " + strings.Join(parts, "; "), stable
}

// logEvents logs the service's events from since not seen before, oldest
// first; ECS lists them newest first.
func (d *ecsDeploy) logEvents(events []ecstypes.ServiceEvent, since time.Time, seen map[string]bool) {
	var fresh []ecstypes.ServiceEvent
	for _, e := range events {
		id := aws.ToString(e.Id)
		if seen[id] || e.CreatedAt != nil && e.CreatedAt.Before(since) {
			continue
		}
		seen[id] = true
		fresh = append(fresh, e)
	}
	slices.Reverse(fresh)
	for _, e := range fresh {
		at := ""
		if e.CreatedAt != nil {
			at = e.CreatedAt.UTC().Format(time.TimeOnly) + " "
		}
		d.c.Log(at + aws.ToString(e.Message))
	}
}

// restore moves the service back to previous after cause, even when the
// action's context has ended, and says so in the error.
func (d *ecsDeploy) restore(ctx context.Context, previous string, cause error) error {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), restoreTimeout)
	defer cancel()
	_, err := d.client.UpdateService(rctx, &ecs.UpdateServiceInput{Cluster: d.clusterParam(), Service: aws.String(d.service), TaskDefinition: aws.String(previous)})
	if err != nil {
		d.c.Log(fmt.Sprintf("could not put the previous task definition %s back: %v", previous, err))
		return fmt.Errorf("%w; putting the previous task definition %s back failed too: %w", cause, previous, err)
	}
	d.c.Log(fmt.Sprintf("put the previous task definition %s back", previous))
	return fmt.Errorf("%w; the previous task definition %s was put back", cause, previous)
}
