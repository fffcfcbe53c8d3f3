package deploys

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/app/logkey"
	"github.com/stagegate/stagegate/app/pipelineconf"
	"github.com/stagegate/stagegate/checks"
	"github.com/stagegate/stagegate/pipeline"
)

// orgDefaultRepo is where an account keeps its default pipeline.
const orgDefaultRepo = ".github"

// OrgDefaultUnreadable reports whether a repository without a pipeline
// file of its own may still have one it cannot see: its owner's .github
// answered 404 and the installation is on selected repositories, so the
// 404 may be a private .github left out of the selection (GitHub answers
// alike for a repository that does not exist). With all repositories
// selected, a 404 means there is no .github.
func (a *Deploys) OrgDefaultUnreadable(ctx context.Context, installation int64, loadErr error) (bool, error) {
	if !errors.Is(loadErr, pipelineconf.ErrOrgDefaultNotVisible) {
		return false, nil
	}
	client, err := a.gh.App()
	if err != nil {
		return false, fmt.Errorf("app client: %w", err)
	}
	inst, _, err := client.Apps.GetInstallation(ctx, installation)
	if err != nil {
		return false, fmt.Errorf("installation %d: %w", installation, err)
	}
	return inst.GetRepositorySelection() == "selected", nil
}

// orgDefaultNote is the text shown when the owner's default may exist
// but cannot be read.
func orgDefaultNote(owner string) string {
	return fmt.Sprintf("This repository has no `%s` of its own, and stagegate cannot read `%s/%s`: "+
		"it is private and not among the repositories this installation of the App may read, or it does not exist. "+
		"If `%s/%s/%s` holds the organisation's default pipeline, add `%s` to the App's installation "+
		"(organisation settings → GitHub Apps → Configure → Repository access) and push again.",
		pipeline.DefaultFile, owner, orgDefaultRepo, owner, orgDefaultRepo, pipeline.DefaultFile, orgDefaultRepo)
}

// ReportOrgDefaultUnreadable shows on the commit's stagegate check that
// the organisation's default could not be read. The check is neutral:
// nothing ran, and nothing failed that the pusher could fix in this
// repository.
func ReportOrgDefaultUnreadable(ctx context.Context, api checks.API, owner, repo, sha string) error {
	_, _, err := api.CreateCheckRun(ctx, owner, repo, github.CreateCheckRunOptions{
		Name:        checks.SummaryName,
		HeadSHA:     sha,
		Status:      github.String("completed"),
		Conclusion:  github.String("neutral"),
		CompletedAt: &github.Timestamp{Time: time.Now()},
		Output: &github.CheckRunOutput{
			Title:   github.String("The organisation's default pipeline cannot be read"),
			Summary: github.String(orgDefaultNote(owner)),
		},
	})
	if err != nil {
		return fmt.Errorf("report unreadable %s/%s: %w", owner, orgDefaultRepo, err)
	}
	return nil
}

// LogOrgDefault warns at start when an installation on selected
// repositories cannot see its account's .github, where a default
// pipeline would be.
func (a *Deploys) LogOrgDefault(ctx context.Context, inst *github.Installation) {
	if inst.GetRepositorySelection() != "selected" || inst.SuspendedAt != nil {
		return
	}
	account := inst.GetAccount().GetLogin()
	client, err := a.gh.Installation(ctx, inst.GetID())
	if err != nil {
		logger(ctx).Warn().Err(err).Int64(logkey.Installation, inst.GetID()).Msg("installation client")
		return
	}
	_, resp, err := client.Repositories.Get(ctx, account, orgDefaultRepo)
	switch {
	case err == nil:
		return
	case resp != nil && resp.StatusCode == http.StatusNotFound:
		logger(ctx).Warn().Int64(logkey.Installation, inst.GetID()).Str("repo", account+"/"+orgDefaultRepo).
			Msg("this installation cannot read " + account + "/" + orgDefaultRepo + " (private and not among its selected repositories, or missing): " +
				"an organisation default pipeline there is not used; add the repository to the installation if it holds one")
	default:
		logger(ctx).Warn().Err(err).Int64(logkey.Installation, inst.GetID()).Msg("reading " + account + "/" + orgDefaultRepo)
	}
}
