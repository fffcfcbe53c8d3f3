package runs

import (
	"context"
	"fmt"

	"github.com/stagegate/stagegate/app/ghevent"
	"github.com/stagegate/stagegate/app/logkey"
	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/pipeline"
)

// A push to a pull request's head branch and the pull request's
// synchronize name the same commit, and both would run the pipeline and
// write "stagegate" and "stagegate/<stage>" into stagegate's one check
// suite on it: what the pull request shows, what branch protection reads
// and what /deploy and "Re-run all" act on would be whichever wrote last.
// So a commit has one run for the two events, the pull request's:
//
//   - a push to a branch whose commit already has a run of a pull request
//     from that branch (of this repository) starts nothing;
//   - a pull request run, once recorded, supersedes the push runs of its
//     commit and head branch still going, whose checks end cancelled
//     saying which run took over.
//
// The check names stay "stagegate" and "stagegate/<stage>" for both
// events. Pull requests from forks are not concerned: their commits are
// not pushed to this repository's branches, and their runs are untrusted.

// isPushOfBranch reports whether a run is of a push to a branch: the kind
// a pull request from that branch takes over.
func isPushOfBranch(kind pipeline.EventKind, branch string) bool {
	return kind == pipeline.EventPush && branch != ""
}

// pullRequestRunOf finds a run of a same-repository pull request whose
// head is branch at sha.
func (a *Runs) pullRequestRunOf(ctx context.Context, repo, sha, branch string) (store.Run, bool, error) {
	runs, err := a.db.RunsForSHA(ctx, repo, sha)
	if err != nil {
		return store.Run{}, false, fmt.Errorf("list the runs of %s: %w", ghevent.ShortSHA(sha), err)
	}
	for _, r := range runs {
		if r.Event == string(pipeline.EventPullRequest) && !r.Fork && r.Branch == branch {
			return r, true, nil
		}
	}
	return store.Run{}, false, nil
}

// errServedByPullRequest is the cause given to a push run whose commit's
// checks a pull request's run reports.
func errServedByPullRequest(pr store.Run) error {
	return errSuperseded{by: pr.ID, why: fmt.Sprintf("pull request #%d runs this commit (run %s)", pr.PR, pr.ID), sameCommit: true}
}

// takeOverPushRuns cancels the push runs of a pull request run's commit
// and head branch that are still going, once the pull request's run is
// recorded.
func (a *Runs) takeOverPushRuns(ctx context.Context, pr store.Run) {
	if pr.Event != string(pipeline.EventPullRequest) || pr.Fork {
		return
	}
	runs, err := a.db.RunsForSHA(ctx, pr.Repo, pr.SHA)
	if err != nil {
		logger(ctx).Error().Err(err).Str(logkey.Run, pr.ID).Msg("list push runs to take over")
		return
	}
	for _, r := range runs {
		if r.ID != pr.ID && isPushOfBranch(pipeline.EventKind(r.Event), r.Branch) && r.Branch == pr.Branch && r.Status != store.StatusCompleted {
			a.Cancel(ctx, r, errServedByPullRequest(pr))
		}
	}
}

// ChecksOwner is the run whose checks a commit shows: the newest run of
// the commit that no other run of it took over, or else the newest.
func (a *Runs) ChecksOwner(ctx context.Context, repo, sha string) (store.Run, error) {
	runs, err := a.db.RunsForSHA(ctx, repo, sha)
	if err != nil {
		return store.Run{}, err
	}
	if len(runs) == 0 {
		return store.Run{}, fmt.Errorf("runs of %s@%s: %w", repo, ghevent.ShortSHA(sha), store.ErrNotFound)
	}
	ofSHA := map[string]bool{}
	for _, r := range runs {
		ofSHA[r.ID] = true
	}
	for _, r := range runs {
		if r.SupersededBy == "" || !ofSHA[r.SupersededBy] {
			return r, nil
		}
	}
	return runs[0], nil
}

// TrustedRunOf reports whether a run of the commit other than a fork's
// exists.
func (a *Runs) TrustedRunOf(ctx context.Context, repo, sha string) (bool, error) {
	runs, err := a.db.RunsForSHA(ctx, repo, sha)
	if err != nil {
		return false, fmt.Errorf("list the runs of %s: %w", ghevent.ShortSHA(sha), err)
	}
	for _, r := range runs {
		if !r.Fork {
			return true, nil
		}
	}
	return false, nil
}
