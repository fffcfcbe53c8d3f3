package awsint

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/codedeploy"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"
)

// Bounds on what a deployment's targets put in the log and the error:
// a fleet may have thousands of instances.
const (
	maxTargetsListed = 1000
	maxTargetsLogged = 50
	maxReasons       = 5
)

// follow polls the deployment to a final status, logging each change of
// its status and counts. It fails with CodeDeploy's reasons when the
// deployment fails or is stopped, and stops it (with CodeDeploy's
// rollback, where the group has one) when ctx ends first.
func (cd *codeDeployRun) follow(ctx context.Context, id string) error {
	last := ""
	for {
		out, err := cd.client.GetDeployment(ctx, &codedeploy.GetDeploymentInput{DeploymentId: &id})
		switch {
		case ctx.Err() != nil:
			return cd.stop(ctx, id)
		case throttled(err):
			cd.c.Log(fmt.Sprintf("warning: %v; asking again", err))
			if err := sleep(ctx, cd.poll); err != nil {
				return cd.stop(ctx, id)
			}
			continue
		case err != nil:
			return fmt.Errorf("get deployment: %w", err)
		}
		info := out.DeploymentInfo
		if info == nil {
			return errors.New("CodeDeploy described no deployment")
		}
		if line := statusLine(info); line != last {
			cd.c.Log(line)
			last = line
		}
		switch info.Status {
		case cdtypes.DeploymentStatusSucceeded:
			if targets, err := cd.targets(ctx, id, nil); err == nil {
				cd.logTargets(targets)
			} else {
				cd.c.Log(fmt.Sprintf("warning: could not list the deployment's targets: %v", err))
			}
			return nil
		case cdtypes.DeploymentStatusFailed, cdtypes.DeploymentStatusStopped:
			return cd.failure(ctx, id, info)
		}
		if err := sleep(ctx, cd.poll); err != nil {
			return cd.stop(ctx, id)
		}
	}
}

// statusLine is the deployment's status and its targets' counts.
func statusLine(info *cdtypes.DeploymentInfo) string {
	s := "deployment " + string(info.Status)
	if o := info.DeploymentOverview; o != nil {
		s += fmt.Sprintf(": %d pending, %d in progress, %d succeeded, %d failed, %d skipped", o.Pending, o.InProgress, o.Succeeded, o.Failed, o.Skipped)
		if o.Ready > 0 {
			s += fmt.Sprintf(", %d ready", o.Ready)
		}
	}
	if info.Status == cdtypes.DeploymentStatusReady {
		s += " (waiting for traffic to be rerouted)"
	}
	return s
}

// failure is the error of a failed or stopped deployment: CodeDeploy's
// code and message, its rollback, and the failed targets' failed
// lifecycle events with their scripts' diagnostics. Every failed target
// goes to the log, its script's log tail too; the first few go into the
// error.
func (cd *codeDeployRun) failure(ctx context.Context, id string, info *cdtypes.DeploymentInfo) error {
	msg := string(info.Status)
	if e := info.ErrorInformation; e != nil && (e.Code != "" || aws.ToString(e.Message) != "") {
		msg += fmt.Sprintf(": %s: %s", e.Code, aws.ToString(e.Message))
	}
	if rb := info.RollbackInfo; rb != nil && aws.ToString(rb.RollbackDeploymentId) != "" {
		msg += fmt.Sprintf("; CodeDeploy rolls back with deployment %s", aws.ToString(rb.RollbackDeploymentId))
	}
	targets, err := cd.targets(ctx, id, []string{string(cdtypes.TargetStatusFailed)})
	if err != nil {
		cd.c.Log(fmt.Sprintf("warning: could not list the failed targets: %v", err))
	}
	cd.logTargets(targets)
	var reasons []string
	for _, t := range targets {
		for _, ev := range t.events {
			if ev.Status != cdtypes.LifecycleEventStatusFailed {
				continue
			}
			r := fmt.Sprintf("%s %s", t.id, aws.ToString(ev.LifecycleEventName))
			if dg := ev.Diagnostics; dg != nil {
				r += ": " + string(dg.ErrorCode)
				if s := aws.ToString(dg.ScriptName); s != "" {
					r += " in " + s
				}
				if m := aws.ToString(dg.Message); m != "" {
					r += ": " + m
				}
			}
			reasons = append(reasons, r)
		}
	}
	if len(reasons) > maxReasons {
		reasons = append(reasons[:maxReasons], fmt.Sprintf("and %d more (see the log)", len(reasons)-maxReasons))
	}
	if len(reasons) > 0 {
		msg += "; " + strings.Join(reasons, "; ")
	}
	return errors.New(msg)
}

// stop stops a deployment the action no longer waits for, asking
// CodeDeploy to roll back, with a context of its own since ctx has
// ended.
func (cd *codeDeployRun) stop(ctx context.Context, id string) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), restoreTimeout)
	defer cancel()
	out, err := cd.client.StopDeployment(sctx, &codedeploy.StopDeploymentInput{DeploymentId: &id, AutoRollbackEnabled: aws.Bool(true)})
	if err != nil {
		cd.c.Log(fmt.Sprintf("could not stop deployment %s: %v", id, err))
		return fmt.Errorf("%w; stopping it failed: %w", context.Cause(ctx), err)
	}
	cd.c.Log(fmt.Sprintf("stopped deployment %s: %s %s", id, out.Status, aws.ToString(out.StatusMessage)))
	return fmt.Errorf("%w; the deployment was stopped, with rollback", context.Cause(ctx))
}

// target is what a deployment did on one instance, function or service.
type target struct {
	id, kind string
	status   string
	events   []cdtypes.LifecycleEvent
}

// targets lists the deployment's targets, of the given statuses if any,
// with their lifecycle events; at most maxTargetsListed of them.
func (cd *codeDeployRun) targets(ctx context.Context, id string, statuses []string) ([]target, error) {
	in := &codedeploy.ListDeploymentTargetsInput{DeploymentId: &id}
	if len(statuses) > 0 {
		in.TargetFilters = map[string][]string{string(cdtypes.TargetFilterNameTargetStatus): statuses}
	}
	var ids []string
	for len(ids) < maxTargetsListed {
		out, err := cd.client.ListDeploymentTargets(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("list deployment targets: %w", err)
		}
		ids = append(ids, out.TargetIds...)
		if aws.ToString(out.NextToken) == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	var all []target
	// BatchGetDeploymentTargets takes 25 ids at a time.
	for len(ids) > 0 {
		n := min(len(ids), 25)
		out, err := cd.client.BatchGetDeploymentTargets(ctx, &codedeploy.BatchGetDeploymentTargetsInput{DeploymentId: &id, TargetIds: ids[:n]})
		if err != nil {
			return all, fmt.Errorf("get deployment targets: %w", err)
		}
		ids = ids[n:]
		for _, t := range out.DeploymentTargets {
			all = append(all, targetOf(t))
		}
	}
	return all, nil
}

func targetOf(t cdtypes.DeploymentTarget) target {
	switch {
	case t.InstanceTarget != nil:
		x := t.InstanceTarget
		return target{aws.ToString(x.TargetId), "instance", string(x.Status), x.LifecycleEvents}
	case t.LambdaTarget != nil:
		x := t.LambdaTarget
		return target{aws.ToString(x.TargetId), "Lambda function", string(x.Status), x.LifecycleEvents}
	case t.EcsTarget != nil:
		x := t.EcsTarget
		return target{aws.ToString(x.TargetId), "ECS service", string(x.Status), x.LifecycleEvents}
	case t.CloudFormationTarget != nil:
		x := t.CloudFormationTarget
		return target{aws.ToString(x.TargetId), "CloudFormation target", string(x.Status), x.LifecycleEvents}
	}
	return target{id: "?", kind: string(t.DeploymentTargetType)}
}

// logTargets logs each target's lifecycle on a line, and the
// diagnostics of its failed events beneath.
func (cd *codeDeployRun) logTargets(targets []target) {
	for i, t := range targets {
		if i == maxTargetsLogged {
			cd.c.Log(fmt.Sprintf("and %d more targets", len(targets)-i))
			return
		}
		var evs []string
		for _, ev := range t.events {
			evs = append(evs, aws.ToString(ev.LifecycleEventName)+" "+string(ev.Status))
		}
		cd.c.Log(fmt.Sprintf("%s %s %s: %s", t.kind, t.id, t.status, strings.Join(evs, ", ")))
		for _, ev := range t.events {
			dg := ev.Diagnostics
			if ev.Status != cdtypes.LifecycleEventStatusFailed || dg == nil {
				continue
			}
			cd.c.Log(fmt.Sprintf("  %s: %s %s: %s", aws.ToString(ev.LifecycleEventName), dg.ErrorCode, aws.ToString(dg.ScriptName), aws.ToString(dg.Message)))
			if tail := strings.TrimRight(aws.ToString(dg.LogTail), "\n"); tail != "" {
				for _, l := range strings.Split(tail, "\n") {
					cd.c.Log("    | " + l)
				}
			}
		}
	}
}
