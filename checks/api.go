// Package checks is what GitHub sees of a run: it turns the engine's
// events into check runs, one per stage (stagegate/<stage>) and a summary
// (stagegate), and reports an invalid pipeline file as a failed check.
//
// The Reporter owns the GitHub writes of one run. It never makes the
// engine wait for the network, writes sequentially, and spends a fixed
// number of calls per run: two per stage that runs, one per stage that
// does not, two for the summary, plus progress updates bounded by a
// throttle and annotation batches beyond the first 50 of a check.
//
// A deploy stage (one with an environment) is gated: EvaluateChecks and
// LoadChecks turn the commit's checks into a Gate's requirements,
// Gate.Decide says whether it may proceed, Reporter.ShowGate shows the
// gate on the stage's check (outside the budget above), and
// StartDeployment records the deploy as a GitHub deployment whose
// statuses follow the stage (Reporter.TrackDeployment).
package checks

import (
	"context"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/pipeline/engine"
)

// API is the part of GitHub's Checks API the package uses;
// *github.ChecksService satisfies it. Declaring it here keeps fakes small
// and lets the app wrap calls (retries, rate limits) without this package
// knowing.
type API interface {
	CreateCheckRun(ctx context.Context, owner, repo string, opts github.CreateCheckRunOptions) (*github.CheckRun, *github.Response, error)
	UpdateCheckRun(ctx context.Context, owner, repo string, checkRunID int64, opts github.UpdateCheckRunOptions) (*github.CheckRun, *github.Response, error)
}

var _ API = (*github.ChecksService)(nil)

// Target is the commit a run's checks are attached to.
type Target struct {
	Owner, Repo string
	HeadSHA     string
	// RunID goes into each check's external_id, so that a webhook about
	// a check (re-run requested) leads back to the run.
	RunID string
}

// SummaryName is the name of the check that sums up a run, and of the
// check that reports an invalid pipeline file.
const SummaryName = "stagegate"

// CheckName is the name of a stage's check run, or SummaryName for "".
func CheckName(stage string) string {
	if stage == "" {
		return SummaryName
	}
	return SummaryName + "/" + stage
}

// ExternalID is the external_id of a stage's check, or of the summary
// for stage "".
func ExternalID(runID, stage string) string {
	if stage == "" {
		return runID
	}
	return runID + "/" + stage
}

// ParseExternalID splits an external_id made by ExternalID. Stage names
// cannot hold a slash, so the last slash separates them from a run ID
// that might.
func ParseExternalID(id string) (runID, stage string) {
	i := strings.LastIndexByte(id, '/')
	if i < 0 {
		return id, ""
	}
	return id[:i], id[i+1:]
}

// Check run statuses and conclusions, as GitHub spells them.
const (
	statusQueued     = "queued"
	statusInProgress = "in_progress"
	statusCompleted  = "completed"

	conclusionSuccess   = "success"
	conclusionFailure   = "failure"
	conclusionNeutral   = "neutral"
	conclusionCancelled = "cancelled"
	conclusionSkipped   = "skipped"
	conclusionTimedOut  = "timed_out"
	// conclusionActionRequired completes a deploy stage's check while
	// its gate waits for approval, to show the Deploy button.
	conclusionActionRequired = "action_required"
)

// StageConclusion maps a stage's status to its check's conclusion: the
// engine's statuses were chosen to match GitHub's, so the mapping is one
// to one. A status the package does not know becomes failure, since a
// required check must not pass on a state nobody understood.
func StageConclusion(s engine.Status) string {
	switch s {
	case engine.StatusSuccess:
		return conclusionSuccess
	case engine.StatusFailure:
		return conclusionFailure
	case engine.StatusSkipped:
		return conclusionSkipped
	case engine.StatusCancelled:
		return conclusionCancelled
	case engine.StatusTimedOut:
		return conclusionTimedOut
	}
	return conclusionFailure
}

// RunConclusion maps a run's status to the summary check's conclusion.
// It differs from StageConclusion only for a skipped run (no stage had
// anything to do): the summary check did its job, which was to decide
// that, so it ends neutral. GitHub shows a skipped check as if it had
// never run, which for the one check that explains the run would hide
// the explanation; a required check passes on neutral as on skipped.
func RunConclusion(s engine.Status) string {
	if s == engine.StatusSkipped {
		return conclusionNeutral
	}
	return StageConclusion(s)
}
