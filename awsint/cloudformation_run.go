package awsint

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cfn "github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation/types"
	"github.com/aws/smithy-go"

	"github.com/stagegate/stagegate/pipeline/engine"
)

func (cf *cloudFormation) run(ctx context.Context, in *cfn.CreateChangeSetInput) (engine.IntegrationResult, error) {
	existing, err := cf.describeStack(ctx)
	if err != nil {
		return engine.IntegrationResult{}, err
	}
	in.ChangeSetType = types.ChangeSetTypeUpdate
	if existing == nil || existing.StackStatus == types.StackStatusReviewInProgress {
		in.ChangeSetType = types.ChangeSetTypeCreate
	}
	in.ChangeSetName = aws.String(changeSetName(cf.c.RunID, cf.c.Stage.Name, cf.c.Action.Name))
	created, err := cf.client.CreateChangeSet(ctx, in)
	if noChanges(err) {
		// Some implementations refuse an empty change set at once rather
		// than failing it; nothing to do is success all the same.
		cf.c.Log("no changes")
		outputs := map[string]string{"changes": "0"}
		summary := noChangeSummary(cf.stack)
		if existing != nil {
			outputs["stack_id"] = aws.ToString(existing.StackId)
		}
		return engine.IntegrationResult{Outputs: outputs, Summary: summary}, nil
	}
	if err != nil {
		return engine.IntegrationResult{}, fmt.Errorf("create change set: %w", err)
	}
	csID := aws.ToString(created.Id)
	cf.c.Log(fmt.Sprintf("change set %s (%s) of stack %s", aws.ToString(in.ChangeSetName), strings.ToLower(string(in.ChangeSetType)), cf.stack))
	cs, changes, err := cf.waitChangeSet(ctx, csID)
	if err != nil {
		return engine.IntegrationResult{}, err
	}
	outputs := map[string]string{"change_set_id": csID, "stack_id": aws.ToString(created.StackId)}
	if cs == nil {
		cf.c.Log("no changes")
		cf.discard(ctx, csID, in.ChangeSetType)
		outputs["changes"] = "0"
		return engine.IntegrationResult{Outputs: outputs, Summary: noChangeSummary(cf.stack)}, nil
	}
	for _, line := range changeTable(changes) {
		cf.c.Log(line)
	}
	outputs["changes"] = fmt.Sprint(len(changes))
	summary := changeSummary(cf.stack, changes, cf.c.Apply)
	if !cf.c.Apply {
		cf.c.Log("not executed: only a deploy stage executes a change set")
		cf.discard(ctx, csID, in.ChangeSetType)
		return engine.IntegrationResult{Outputs: outputs, Summary: summary}, nil
	}
	since := time.Now().Add(-time.Minute)
	if _, err := cf.client.ExecuteChangeSet(ctx, &cfn.ExecuteChangeSetInput{ChangeSetName: aws.String(csID)}); err != nil {
		return engine.IntegrationResult{}, fmt.Errorf("execute change set: %w", err)
	}
	stack, err := cf.follow(ctx, since)
	if err != nil {
		return engine.IntegrationResult{Summary: summary}, err
	}
	for _, o := range stack.Outputs {
		outputs[aws.ToString(o.OutputKey)] = aws.ToString(o.OutputValue)
	}
	return engine.IntegrationResult{Outputs: outputs, Summary: summary}, nil
}

// describeStack returns the stack, or nil when it does not exist.
func (cf *cloudFormation) describeStack(ctx context.Context) (*types.Stack, error) {
	out, err := cf.client.DescribeStacks(ctx, &cfn.DescribeStacksInput{StackName: aws.String(cf.stack)})
	var ae smithy.APIError
	if errors.As(err, &ae) && ae.ErrorCode() == "ValidationError" && strings.Contains(ae.ErrorMessage(), "does not exist") {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("describe stack: %w", err)
	}
	if len(out.Stacks) == 0 {
		return nil, nil
	}
	return &out.Stacks[0], nil
}

// changeSetName is unique to the attempt's run, stage and action, in the
// characters CloudFormation allows: [a-zA-Z][-a-zA-Z0-9]*, 128 at most.
func changeSetName(run, stage, action string) string {
	s := strings.Map(func(c rune) rune {
		if c < 128 && (c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return c
		}
		return '-'
	}, fmt.Sprintf("stagegate-%s-%s-%s-%d", run, stage, action, time.Now().UnixNano()))
	if len(s) > 128 {
		s = s[len(s)-128:]
		s = "s" + s[1:]
	}
	return s
}

// waitChangeSet polls until the change set is created, returning it and
// its changes, or nil when it holds no changes.
func (cf *cloudFormation) waitChangeSet(ctx context.Context, id string) (*cfn.DescribeChangeSetOutput, []types.ResourceChange, error) {
	for {
		var changes []types.ResourceChange
		var first *cfn.DescribeChangeSetOutput
		pages := cfn.NewDescribeChangeSetPaginator(cf.client, &cfn.DescribeChangeSetInput{ChangeSetName: aws.String(id)})
		for pages.HasMorePages() {
			out, err := pages.NextPage(ctx)
			if err != nil {
				return nil, nil, fmt.Errorf("describe change set: %w", err)
			}
			if first == nil {
				first = out
			}
			for _, c := range out.Changes {
				if c.ResourceChange != nil {
					changes = append(changes, *c.ResourceChange)
				}
			}
		}
		switch first.Status {
		case types.ChangeSetStatusCreateComplete:
			if len(changes) == 0 {
				return nil, nil, nil
			}
			return first, changes, nil
		case types.ChangeSetStatusFailed:
			reason := aws.ToString(first.StatusReason)
			// CloudFormation fails a change set without changes; that is
			// success for a deploy: there is nothing to do.
			if isNoChanges(reason) {
				return nil, nil, nil
			}
			return nil, nil, fmt.Errorf("change set failed: %s", reason)
		}
		if err := sleep(ctx, cf.poll); err != nil {
			return nil, nil, err
		}
	}
}

// discard deletes a change set that will not be executed, and the empty
// stack a create change set left in REVIEW_IN_PROGRESS.
func (cf *cloudFormation) discard(ctx context.Context, id string, kind types.ChangeSetType) {
	if _, err := cf.client.DeleteChangeSet(ctx, &cfn.DeleteChangeSetInput{ChangeSetName: aws.String(id)}); err != nil {
		cf.c.Log(fmt.Sprintf("warning: could not delete change set: %v", err))
	}
	if kind != types.ChangeSetTypeCreate {
		return
	}
	if st, err := cf.describeStack(ctx); err == nil && st != nil && st.StackStatus == types.StackStatusReviewInProgress {
		if _, err := cf.client.DeleteStack(ctx, &cfn.DeleteStackInput{StackName: aws.String(cf.stack)}); err != nil {
			cf.c.Log(fmt.Sprintf("warning: could not delete the empty stack: %v", err))
		}
	}
}

// changeTable shows the changes as Atlantis shows a plan: what is added,
// modified, removed or replaced.
func changeTable(changes []types.ResourceChange) []string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CHANGE\tRESOURCE\tTYPE\tPHYSICAL ID")
	for _, c := range changes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", changeVerb(c), aws.ToString(c.LogicalResourceId), aws.ToString(c.ResourceType), aws.ToString(c.PhysicalResourceId))
	}
	tw.Flush()
	return strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
}

func changeVerb(c types.ResourceChange) string {
	switch c.Action {
	case types.ChangeActionAdd:
		return "add"
	case types.ChangeActionRemove:
		return "remove"
	case types.ChangeActionModify:
		switch c.Replacement {
		case types.ReplacementTrue:
			return "replace"
		case types.ReplacementConditional:
			return "maybe replace"
		}
		return "modify"
	}
	return strings.ToLower(string(c.Action))
}

// follow logs the stack's events from since until the stack reaches a
// final state, and fails with the failed resources' reasons when it did
// not end complete.
func (cf *cloudFormation) follow(ctx context.Context, since time.Time) (*types.Stack, error) {
	seen := make(map[string]bool)
	var failures []failure
	for {
		// The stack's state first, then its events: an event that
		// arrives between the two is read on this pass or the next,
		// never lost.
		stack, err := cf.describeStack(ctx)
		if err != nil {
			return nil, err
		}
		if stack == nil {
			return nil, errors.New("the stack disappeared")
		}
		evs, err := cf.newEvents(ctx, since, seen)
		if err != nil {
			return nil, err
		}
		for _, e := range evs {
			line := fmt.Sprintf("%s %s %s %s", e.Timestamp.UTC().Format(time.TimeOnly), aws.ToString(e.LogicalResourceId), aws.ToString(e.ResourceType), e.ResourceStatus)
			if r := aws.ToString(e.ResourceStatusReason); r != "" {
				line += ": " + r
			}
			cf.c.Log(line)
			id, reason := aws.ToString(e.LogicalResourceId), aws.ToString(e.ResourceStatusReason)
			if strings.HasSuffix(string(e.ResourceStatus), "_FAILED") && reason != "" && id != cf.stack {
				failures = append(failures, failure{id: id, kind: aws.ToString(e.ResourceType), reason: reason})
			}
		}
		status := string(stack.StackStatus)
		switch {
		case strings.HasSuffix(status, "_IN_PROGRESS"):
		case status == "CREATE_COMPLETE" || status == "UPDATE_COMPLETE" || status == "IMPORT_COMPLETE":
			cf.c.Log("stack " + status)
			return stack, nil
		default:
			// A workflow command per failed resource: the check shows it
			// as an annotation on the resource's line of the template.
			var reasons []string
			for _, f := range failures {
				cf.c.Log(fmt.Sprintf("::error file=%s,line=%d,title=%s::%s", escapeProperty(cf.template), resourceLine(cf.body, f.id),
					escapeProperty(f.id+" ("+f.kind+")"), escapeData(f.reason)))
				reasons = append(reasons, fmt.Sprintf("%s (%s): %s", f.id, f.kind, f.reason))
			}
			msg := "ended " + status
			if len(reasons) > 0 {
				msg += ": " + strings.Join(reasons, "; ")
			} else if r := aws.ToString(stack.StackStatusReason); r != "" {
				msg += ": " + r
			}
			return nil, errors.New(msg)
		}
		if err := sleep(ctx, cf.poll); err != nil {
			return nil, err
		}
	}
}

// newEvents returns the stack's events since since not seen before,
// oldest first. DescribeStackEvents lists newest first, so paging stops
// at the first event older than since.
func (cf *cloudFormation) newEvents(ctx context.Context, since time.Time, seen map[string]bool) ([]types.StackEvent, error) {
	var fresh []types.StackEvent
	pages := cfn.NewDescribeStackEventsPaginator(cf.client, &cfn.DescribeStackEventsInput{StackName: aws.String(cf.stack)})
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("stack events: %w", err)
		}
		old := false
		for _, e := range out.StackEvents {
			if e.Timestamp != nil && e.Timestamp.Before(since) {
				old = true
				break
			}
			id := aws.ToString(e.EventId)
			if !seen[id] {
				seen[id] = true
				fresh = append(fresh, e)
			}
		}
		if old {
			break
		}
	}
	for i, j := 0, len(fresh)-1; i < j; i, j = i+1, j-1 {
		fresh[i], fresh[j] = fresh[j], fresh[i]
	}
	return fresh, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// isNoChanges tells CloudFormation's reasons for a change set without
// changes.
func isNoChanges(reason string) bool {
	return strings.Contains(reason, "didn't contain changes") || strings.Contains(reason, "No updates are to be performed")
}

func noChanges(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ValidationError" && isNoChanges(ae.ErrorMessage())
}

// failure is a resource that failed during a stack operation.
type failure struct{ id, kind, reason string }

// escapeProperty and escapeData escape a workflow command's property
// and message as GitHub Actions' runner does (ActionCommand.cs).
func escapeProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

func escapeData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}
