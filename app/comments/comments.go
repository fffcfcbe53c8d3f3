package comments

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/app/access"
	"github.com/stagegate/stagegate/app/commands"
	"github.com/stagegate/stagegate/app/ghevent"
	"github.com/stagegate/stagegate/app/outcome"
	"github.com/stagegate/stagegate/app/store"
)

// commandContext is one comment command being answered.
type commandContext struct {
	client    *github.Client
	repo      ghevent.RepoRef
	pr        int
	commentID int64
	login     string
	delivery  string
	// commentedAt is when the comment was written: an approval is for
	// what the approver could have seen then.
	commentedAt time.Time
}

// IssueComment runs the command in the first line of a pull request
// comment. Every command is answered: 👀 on receipt, then 🚀 when done or
// 👎 with a reply that says why not.
func (a *Commands) IssueComment(ctx context.Context, d store.Delivery, e *github.IssueCommentEvent) (string, error) {
	res := commands.Parse(commands.Comment{
		Body:          e.GetComment().GetBody(),
		AuthorType:    e.GetComment().GetUser().GetType(),
		Action:        e.GetAction(),
		OnPullRequest: e.GetIssue().IsPullRequest(),
	})
	if res.Ignore != "" {
		return "", outcome.Ignore("comment: %s", res.Ignore)
	}
	repo := ghevent.RepoFrom(e.GetInstallation(), e.GetRepo())
	client, err := a.gh.Installation(ctx, repo.Installation)
	if err != nil {
		return "", fmt.Errorf("installation client: %w", err)
	}
	cc := commandContext{client: client, repo: repo, pr: e.GetIssue().GetNumber(), commentID: e.GetComment().GetID(),
		login: e.GetComment().GetUser().GetLogin(), delivery: d.GUID, commentedAt: e.GetComment().GetCreatedAt().Time}
	a.react(ctx, cc, "eyes")
	if res.Reply != "" {
		a.react(ctx, cc, "-1")
		return "usage replied", a.reply(ctx, cc, res.Reply)
	}
	done, err := a.runCommand(ctx, cc, *res.Command)
	if why, forbidden := access.IsForbidden(err); forbidden {
		a.react(ctx, cc, "-1")
		return "refused: " + why, a.reply(ctx, cc, why)
	}
	if err != nil {
		// Answered, so not retried: a retry would answer again and
		// might act twice.
		logger(ctx).Error().Err(err).Msg("comment command failed")
		a.react(ctx, cc, "-1")
		_ = a.reply(ctx, cc, "@"+cc.login+" something went wrong on stagegate's side; it is logged. Try again later.")
		return "failed: " + err.Error(), nil
	}
	a.react(ctx, cc, "rocket")
	if done.reply != "" {
		if err := a.reply(ctx, cc, done.reply); err != nil {
			return "", err
		}
	}
	return done.result, nil
}

// commandDone is what a command did: result for the logs, reply for the
// pull request (optional).
type commandDone struct {
	result, reply string
}

func (a *Commands) runCommand(ctx context.Context, cc commandContext, cmd commands.Command) (commandDone, error) {
	switch cmd.Kind {
	case commands.Help:
		return commandDone{result: "help", reply: commands.Usage()}, nil
	case commands.Deploy:
		return a.commandDeploy(ctx, cc, cmd.Environment, cmd.SHA)
	case commands.Retry:
		return a.commandRetry(ctx, cc)
	case commands.Cancel:
		return a.commandCancel(ctx, cc)
	case commands.OkToTest:
		return a.commandOkToTest(ctx, cc, cmd.SHA)
	}
	return commandDone{}, fmt.Errorf("command %v has no handler", cmd.Kind)
}

// pullRequest reads the pull request a command is about; its head commit
// is what the command acts on.
func (a *Commands) pullRequest(ctx context.Context, cc commandContext) (*github.PullRequest, error) {
	pr, _, err := cc.client.PullRequests.Get(ctx, cc.repo.Owner, cc.repo.Name, cc.pr)
	if err != nil {
		return nil, fmt.Errorf("read pull request #%d: %w", cc.pr, err)
	}
	return pr, nil
}

func (a *Commands) commandRetry(ctx context.Context, cc commandContext) (commandDone, error) {
	if err := access.MayWrite(ctx, cc.client, cc.repo.Owner, cc.repo.Name, cc.login, "retry"); err != nil {
		return commandDone{}, err
	}
	pr, err := a.pullRequest(ctx, cc)
	if err != nil {
		return commandDone{}, err
	}
	run, err := a.db.LatestRunForSHA(ctx, cc.repo.FullName(), pr.GetHead().GetSHA())
	if errors.Is(err, store.ErrNotFound) {
		return commandDone{}, access.Forbidden{Why: fmt.Sprintf("@%s there is no run for %s to retry", cc.login, ghevent.ShortSHA(pr.GetHead().GetSHA()))}
	}
	if err != nil {
		return commandDone{}, err
	}
	if run.Status != store.StatusCompleted {
		return commandDone{}, access.Forbidden{Why: fmt.Sprintf("@%s run %s is still going; /cancel it first, or wait for it", cc.login, run.ID)}
	}
	from, err := FirstFailedStage(ctx, a.db, run.ID)
	if err != nil {
		return commandDone{}, err
	}
	if from == "" {
		return commandDone{}, access.Forbidden{Why: fmt.Sprintf("@%s nothing failed in run %s", cc.login, run.ID)}
	}
	result, err := a.runs.Rerun(ctx, run, from, cc.login, cc.delivery)
	if err != nil {
		return commandDone{}, err
	}
	return commandDone{result: result}, nil
}

// FirstFailedStage is the first stage of a run that failed, was
// cancelled or timed out, "" if there is none: where /retry, and the
// run page's Re-run, start again.
func FirstFailedStage(ctx context.Context, db interface {
	StagesForRun(ctx context.Context, runID string) ([]store.Stage, error)
}, runID string) (string, error) {
	stages, err := db.StagesForRun(ctx, runID)
	if err != nil {
		return "", err
	}
	for _, s := range stages {
		switch s.Conclusion {
		case "failure", "cancelled", "timed_out":
			return s.Name, nil
		}
	}
	return "", nil
}

func (a *Commands) commandCancel(ctx context.Context, cc commandContext) (commandDone, error) {
	if err := access.MayWrite(ctx, cc.client, cc.repo.Owner, cc.repo.Name, cc.login, "cancel runs"); err != nil {
		return commandDone{}, err
	}
	runs, err := a.db.RunsForPR(ctx, cc.repo.FullName(), cc.pr)
	if err != nil {
		return commandDone{}, err
	}
	n := 0
	for _, r := range runs {
		if r.Status != store.StatusCompleted {
			a.runs.Cancel(ctx, r, "cancelled by @"+cc.login)
			n++
		}
	}
	if n == 0 {
		return commandDone{}, access.Forbidden{Why: fmt.Sprintf("@%s no run of this pull request is going", cc.login)}
	}
	return commandDone{result: fmt.Sprintf("%d runs cancelled", n)}, nil
}

// react adds a reaction to the command's comment; a failure only costs
// the acknowledgement, so it is logged, not returned.
func (a *Commands) react(ctx context.Context, cc commandContext, content string) {
	if _, _, err := cc.client.Reactions.CreateIssueCommentReaction(ctx, cc.repo.Owner, cc.repo.Name, cc.commentID, content); err != nil {
		logger(ctx).Warn().Err(err).Str("reaction", content).Msg("react to comment")
	}
}

func (a *Commands) reply(ctx context.Context, cc commandContext, body string) error {
	return Reply(ctx, cc.client, cc.repo, cc.pr, body)
}

// Reply comments body on pull request pr.
func Reply(ctx context.Context, client *github.Client, repo ghevent.RepoRef, pr int, body string) error {
	if _, _, err := client.Issues.CreateComment(ctx, repo.Owner, repo.Name, pr, &github.IssueComment{Body: github.String(body)}); err != nil {
		return fmt.Errorf("reply on #%d: %w", pr, err)
	}
	return nil
}
