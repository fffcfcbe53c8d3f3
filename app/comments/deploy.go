package comments

import (
	"context"
	"errors"
	"fmt"

	"github.com/stagegate/stagegate/app/access"
	"github.com/stagegate/stagegate/app/deploys"
	"github.com/stagegate/stagegate/app/ghevent"
	"github.com/stagegate/stagegate/app/outcome"
	"github.com/stagegate/stagegate/app/store"
)

// commandDeploy is /deploy [environment [commit]] on a pull request: it
// approves the deploy stage of the run of the pull request's head commit,
// if that is the commit the approver saw or named (approval_head.go).
func (a *Commands) commandDeploy(ctx context.Context, cc commandContext, env, named string) (commandDone, error) {
	pr, err := a.pullRequest(ctx, cc)
	if err != nil {
		return commandDone{}, err
	}
	sha, err := a.approvedHead(ctx, cc, pr, named, "/deploy")
	if err != nil {
		return commandDone{}, err
	}
	run, err := a.runs.ChecksOwner(ctx, cc.repo.FullName(), sha)
	if errors.Is(err, store.ErrNotFound) {
		return commandDone{}, access.Forbidden{Why: fmt.Sprintf("@%s stagegate has no run for %s to deploy", cc.login, ghevent.ShortSHA(sha))}
	}
	if err != nil {
		return commandDone{}, err
	}
	st, err := deploys.DeployStage(run, env)
	if err != nil {
		return commandDone{}, access.Forbidden{Why: "@" + cc.login + " " + err.Error()}
	}
	result, err := a.deploys.ApproveDeploy(ctx, cc.client, run, st, cc.login, cc.delivery)
	return commandDone{result: result}, err
}

// commandOkToTest lets the head commit of a fork's pull request run, if
// it is the commit the approver saw or named (approval_head.go). The
// approval is for that commit only: a new push needs a new /ok-to-test.
func (a *Commands) commandOkToTest(ctx context.Context, cc commandContext, named string) (commandDone, error) {
	if err := access.MayWrite(ctx, cc.client, cc.repo.Owner, cc.repo.Name, cc.login, "approve a fork's pull request for testing"); err != nil {
		return commandDone{}, err
	}
	pr, err := a.pullRequest(ctx, cc)
	if err != nil {
		return commandDone{}, err
	}
	if _, err := a.approvedHead(ctx, cc, pr, named, "/ok-to-test"); err != nil {
		return commandDone{}, err
	}
	ev, need, fork := ghevent.PullRequestEventOf(pr, cc.login)
	if err := a.db.Approve(ctx, store.Approval{Repo: cc.repo.FullName(), SHA: ev.SHA, Kind: store.ApprovalOkToTest, Approver: cc.login}); err != nil {
		return commandDone{}, err
	}
	result, err := a.runs.Start(ctx, cc.repo, ev, need, fork, cc.delivery)
	var ign outcome.Ignored
	if errors.As(err, &ign) {
		return commandDone{result: ign.Why, reply: fmt.Sprintf("@%s approved %s, but it starts no run: %s", cc.login, ghevent.ShortSHA(ev.SHA), ign.Why)}, nil
	}
	if err != nil {
		return commandDone{}, err
	}
	return commandDone{result: result}, nil
}
