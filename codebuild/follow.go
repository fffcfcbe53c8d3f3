package codebuild

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	cb "github.com/aws/aws-sdk-go-v2/service/codebuild"
	cbtypes "github.com/aws/aws-sdk-go-v2/service/codebuild/types"
)

// maxPollFailures is how many polls in a row may fail (after the SDK's
// own retries) before the build is given up, and stopped.
const maxPollFailures = 5

// stopWait bounds how long a stopped build is followed to its end.
const stopWait = time.Minute

// follow polls the build until it ends, copying its new log events to
// the action's stdout at each poll. When ctx ends it stops the build and
// reports killed.
func (b *build) follow(ctx context.Context, id string) (bd cbtypes.Build, killed bool, err error) {
	poll := b.r.Poll
	if poll <= 0 {
		poll = DefaultPoll
	}
	var cur logCursor
	t := time.NewTicker(poll)
	defer t.Stop()
	failures := 0
	for {
		bd, err := b.describe(ctx, id)
		switch {
		case err == nil:
			failures = 0
			// Queueing and provisioning leave nothing in the log; the
			// phase says why nothing shows yet.
			if p := aws.ToString(bd.CurrentPhase); p != cur.phase && !bd.BuildComplete {
				cur.phase = p
				fmt.Fprintf(b.spec.Stderr, "CodeBuild phase %s\n", p)
			}
			logErr := b.drainLogs(ctx, &cur, bd)
			if bd.BuildComplete {
				// The last lines are worth a few more tries: they
				// usually say why a build failed.
				for i := 1; logErr != nil && i < maxPollFailures && ctx.Err() == nil; i++ {
					time.Sleep(poll)
					logErr = b.drainLogs(ctx, &cur, bd)
				}
				if logErr != nil {
					fmt.Fprintf(b.spec.Stderr, "warning: the build's log may be incomplete: %v\n", logErr)
				}
				return bd, false, nil
			}
		case ctx.Err() == nil:
			if failures++; failures >= maxPollFailures {
				b.stop(ctx, id, &cur)
				return bd, false, fmt.Errorf("follow CodeBuild build %s: %w", id, err)
			}
		}
		select {
		case <-ctx.Done():
			return b.stop(ctx, id, &cur), true, nil
		case <-t.C:
		}
	}
}

// stop stops the build and follows it, for a while, to its end, so that
// its last log lines are shown. It does not use ctx's deadline: ctx has
// ended or the build is being given up.
func (b *build) stop(ctx context.Context, id string, cur *logCursor) cbtypes.Build {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopWait)
	defer cancel()
	if _, err := b.c.cb.StopBuild(sctx, &cb.StopBuildInput{Id: aws.String(id)}); err != nil {
		fmt.Fprintf(b.spec.Stderr, "warning: could not stop CodeBuild build %s: %v\n", id, err)
		return cbtypes.Build{}
	}
	fmt.Fprintf(b.spec.Stderr, "CodeBuild build %s stopping\n", id)
	poll := b.r.Poll
	if poll <= 0 {
		poll = DefaultPoll
	}
	for {
		bd, err := b.describe(sctx, id)
		if err == nil {
			_ = b.drainLogs(sctx, cur, bd)
			if bd.BuildComplete {
				return bd
			}
		}
		select {
		case <-sctx.Done():
			return bd
		case <-time.After(poll):
		}
	}
}

func (b *build) describe(ctx context.Context, id string) (cbtypes.Build, error) {
	out, err := b.c.cb.BatchGetBuilds(ctx, &cb.BatchGetBuildsInput{Ids: []string{id}})
	if err != nil {
		return cbtypes.Build{}, err
	}
	if len(out.Builds) != 1 {
		return cbtypes.Build{}, fmt.Errorf("CodeBuild does not know build %s", id)
	}
	return out.Builds[0], nil
}

// logCursor is where the copy of a build's log stream stands.
type logCursor struct {
	token *string
	// phase is the build's phase last shown.
	phase string
}

// maxPagesPerPoll bounds the pages read in one poll, so that a build
// logging faster than it is read still gets its state polled.
const maxPagesPerPoll = 50

// drainLogs copies the log events CloudWatch has after the cursor. A
// stream that does not exist yet (the build is still provisioning) is
// not an error; after another, the next poll tries again from the cursor.
// GetLogEvents returns the token it was given when it has reached the end
// of the stream
// (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html).
func (b *build) drainLogs(ctx context.Context, cur *logCursor, bd cbtypes.Build) error {
	if bd.Logs == nil || aws.ToString(bd.Logs.GroupName) == "" || aws.ToString(bd.Logs.StreamName) == "" {
		return nil
	}
	for range maxPagesPerPoll {
		out, err := b.c.logs.GetLogEvents(ctx, &cloudwatchlogs.GetLogEventsInput{
			LogGroupName:  bd.Logs.GroupName,
			LogStreamName: bd.Logs.StreamName,
			StartFromHead: aws.Bool(true),
			NextToken:     cur.token,
		})
		if nf := (*logtypes.ResourceNotFoundException)(nil); errors.As(err, &nf) && !bd.BuildComplete {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read the build's log: %w", err)
		}
		for _, e := range out.Events {
			writeLine(b.spec.Stdout, aws.ToString(e.Message))
		}
		same := cur.token != nil && aws.ToString(out.NextForwardToken) == *cur.token
		if out.NextForwardToken != nil {
			cur.token = out.NextForwardToken
		}
		// An empty page is not the end: CloudWatch may return one with a
		// new token while more events follow. The end is the same token.
		if same || out.NextForwardToken == nil {
			return nil
		}
	}
	return nil
}

// writeLine writes one event as one line: CloudWatch events usually end
// in a newline, but need not.
func writeLine(w io.Writer, msg string) {
	if !strings.HasSuffix(msg, "\n") {
		msg += "\n"
	}
	_, _ = io.WriteString(w, msg)
}
