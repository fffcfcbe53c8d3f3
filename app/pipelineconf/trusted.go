package pipelineconf

import (
	"context"
	"fmt"
	"strings"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/pipeline"
)

// RepoAPI is the part of GitHub's API LoadTrusted needs: the repository,
// for its default branch, and its contents.
type RepoAPI interface {
	ContentsAPI
	Get(ctx context.Context, owner, repo string) (*github.Repository, *github.Response, error)
}

var _ RepoAPI = (*github.RepositoriesService)(nil)

// SourceDefaultBranch is the repository's .stagegate.yml at the head of
// its default branch: reviewed code, where deploy policy comes from.
const SourceDefaultBranch Source = "default-branch"

// Trusted is the pipeline files whose deploy policy counts: reviewed
// code, never the commit being deployed.
type Trusted struct {
	// DefaultBranch is the repository's default branch when read.
	DefaultBranch string
	// Repo is .stagegate.yml at the head of DefaultBranch, nil when
	// there is none. It may be invalid (Errors set).
	Repo *Config
	// Org is the organization's default in <owner>/.github, nil when
	// there is none or the repository is that one.
	Org *Config
}

// Pipeline is the trusted file that runs take pipeline-wide secrets from:
// the repository's own, or else the organization's default, as Load
// chooses for a commit. Nil when neither is there or it is invalid.
func (t *Trusted) Pipeline() *pipeline.Pipeline {
	switch {
	case t == nil:
		return nil
	case t.Repo != nil:
		return t.Repo.Pipeline
	case t.Org != nil:
		return t.Org.Pipeline
	}
	return nil
}

// Invalid lists the trusted files that did not parse, by path: their
// policy cannot be known, so nothing may deploy until they are fixed.
func (t *Trusted) Invalid() []string {
	var out []string
	for _, c := range []*Config{t.Repo, t.Org} {
		if c != nil && !c.Valid() {
			out = append(out, c.Path)
		}
	}
	return out
}

// LoadTrusted reads the trusted pipeline files of owner/repo: its own at
// the head of its default branch (asked for by name, so that the answer
// is about that branch whatever GitHub's default ref means), and the
// organization's default.
func LoadTrusted(ctx context.Context, api RepoAPI, owner, repo string) (*Trusted, error) {
	r, _, err := api.Get(ctx, owner, repo)
	if err != nil {
		return nil, fmt.Errorf("pipelineconf: reading %s/%s: %w", owner, repo, err)
	}
	t := &Trusted{DefaultBranch: r.GetDefaultBranch()}
	if t.DefaultBranch == "" {
		return nil, fmt.Errorf("pipelineconf: %s/%s has no default branch", owner, repo)
	}
	f, err := read(ctx, api, owner, repo, "refs/heads/"+t.DefaultBranch)
	if err != nil {
		return nil, fmt.Errorf("pipelineconf: reading %s of %s/%s on %s: %w", pipeline.DefaultFile, owner, repo, t.DefaultBranch, err)
	}
	if f != nil {
		t.Repo = parse(SourceDefaultBranch, pipeline.DefaultFile+" on "+t.DefaultBranch, repo, f)
	}
	if strings.EqualFold(repo, orgRepo) {
		return t, nil
	}
	f, err = read(ctx, api, owner, orgRepo, "")
	if err != nil {
		return nil, fmt.Errorf("pipelineconf: reading the default %s of %s/%s: %w", pipeline.DefaultFile, owner, orgRepo, err)
	}
	if f != nil {
		t.Org = parse(SourceOrgDefault, owner+"/"+orgRepo+"/"+pipeline.DefaultFile, repo, f)
	}
	return t, nil
}
