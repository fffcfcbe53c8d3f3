// Package envpolicy loads the deploy policy of an environment from its
// trusted sources (the default branch's pipeline file, the
// organization's default, GitHub's own environment settings) and the
// commit being deployed, and merges them with package policy.
package envpolicy

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/app/pipelineconf"
	"github.com/stagegate/stagegate/pipeline"
	"github.com/stagegate/stagegate/pipeline/policy"
)

// EnvironmentsAPI is the part of GitHub's API that reads an environment's
// settings and a branch's protection; *github.RepositoriesService
// satisfies it.
type EnvironmentsAPI interface {
	GetEnvironment(ctx context.Context, owner, repo, name string) (*github.Environment, *github.Response, error)
	ListDeploymentBranchPolicies(ctx context.Context, owner, repo, environment string) (*github.DeploymentBranchPolicyResponse, *github.Response, error)
	GetBranch(ctx context.Context, owner, repo, branch string, maxRedirects int) (*github.Branch, *github.Response, error)
}

var _ EnvironmentsAPI = (*github.RepositoriesService)(nil)

// Request says whose policy to load.
type Request struct {
	Owner, Repo, Environment string
	// Commit is the pipeline of the commit being deployed: it can only
	// make the policy stricter.
	Commit *pipeline.Pipeline
	// Branch or Tag is the ref being deployed.
	Branch, Tag string
	// Event is the event of the run being deployed, against which the
	// `if:` of the trusted files' deploy stages is checked; nil skips it.
	Event *pipeline.Event
}

// Loaded is a merged policy with what it was merged from.
type Loaded struct {
	Policy  policy.Policy
	Ref     policy.Ref
	Trusted *pipelineconf.Trusted
}

// Load reads the trusted sources of r.Environment's policy and merges
// them with the commit's. A trusted file that does not parse is an
// error: its policy cannot be known, and nothing deploys meanwhile.
func Load(ctx context.Context, repos pipelineconf.RepoAPI, envs EnvironmentsAPI, r Request) (*Loaded, error) {
	trusted, err := pipelineconf.LoadTrusted(ctx, repos, r.Owner, r.Repo)
	if err != nil {
		return nil, err
	}
	if bad := trusted.Invalid(); len(bad) > 0 {
		return nil, fmt.Errorf("the deploy policy cannot be read: %s is invalid", bad[0])
	}
	var sources []policy.Source
	if trusted.Repo != nil {
		sources = append(sources, policy.FromPipeline(trusted.Repo.Pipeline, r.Environment, trusted.Repo.Path, true, r.Event)...)
	}
	if trusted.Org != nil {
		sources = append(sources, policy.FromPipeline(trusted.Org.Pipeline, r.Environment, trusted.Org.Path, true, r.Event)...)
	}
	gh, found, err := GitHubSource(ctx, envs, r.Owner, r.Repo, r.Environment)
	if err != nil {
		return nil, err
	}
	if found {
		sources = append(sources, gh)
	}
	sources = append(sources, policy.FromPipeline(r.Commit, r.Environment, "this commit's "+pipeline.DefaultFile, false, nil)...)
	l := &Loaded{Policy: policy.Merge(r.Environment, sources), Ref: policy.Ref{Branch: r.Branch, Tag: r.Tag}, Trusted: trusted}
	if r.Tag == "" && r.Branch != "" && needsProtection(sources) {
		b, resp, err := envs.GetBranch(ctx, r.Owner, r.Repo, r.Branch, 0)
		switch {
		case resp != nil && resp.StatusCode == http.StatusNotFound:
			// A branch that is gone is not protected.
		case err != nil:
			return nil, fmt.Errorf("reading the protection of branch %s: %w", r.Branch, err)
		default:
			l.Ref.Protected = b.GetProtected()
		}
	}
	return l, nil
}

func needsProtection(sources []policy.Source) bool {
	for _, s := range sources {
		if s.Rules.Refs != nil && s.Rules.Refs.ProtectedOnly {
			return true
		}
	}
	return false
}

// GitHubSourcePrefix begins the name of the source GitHubSource reads.
const GitHubSourcePrefix = "GitHub's settings of environment "

// GitHubSource reads GitHub's settings of environment env as a trusted
// source: required reviewers (with prevent self-review), the wait timer
// and the deployment branch policy, as the settings page shows them.
// found is false when the repository has no such environment.
func GitHubSource(ctx context.Context, api EnvironmentsAPI, owner, repo, env string) (policy.Source, bool, error) {
	// go-github puts the name in the path as it is; GitHub wants it
	// escaped ("any slashes in the name must be replaced with %2F").
	escaped := url.PathEscape(env)
	e, resp, err := api.GetEnvironment(ctx, owner, repo, escaped)
	if resp != nil && resp.StatusCode == http.StatusNotFound {
		return policy.Source{}, false, nil
	}
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusForbidden {
			return policy.Source{}, false, fmt.Errorf("stagegate may not read GitHub's settings of environment %s (the App needs the Actions permission, read): %w", env, err)
		}
		return policy.Source{}, false, fmt.Errorf("reading GitHub's settings of environment %s: %w", env, err)
	}
	src := policy.Source{Name: GitHubSourcePrefix + e.GetName(), Trusted: true, Defines: true}
	for _, rule := range e.ProtectionRules {
		switch rule.GetType() {
		case "wait_timer":
			src.Rules.WaitTimer = time.Duration(rule.GetWaitTimer()) * time.Minute
		case "required_reviewers":
			src.Rules.PreventSelfReview = rule.GetPreventSelfReview()
			for _, rv := range rule.Reviewers {
				switch who := rv.Reviewer.(type) {
				case *github.User:
					src.Rules.Reviewers = append(src.Rules.Reviewers, who.GetLogin())
				case *github.Team:
					// Environment reviewers are teams of the repository's
					// owner.
					src.Rules.Reviewers = append(src.Rules.Reviewers, "@"+owner+"/"+who.GetSlug())
				}
			}
			if len(src.Rules.Reviewers) == 0 {
				// A rule nobody can satisfy must not read as no rule.
				return src, true, fmt.Errorf("GitHub's settings of environment %s require reviewers stagegate cannot read", env)
			}
		}
	}
	bp := e.DeploymentBranchPolicy
	switch {
	case bp == nil:
	case bp.GetProtectedBranches():
		src.Rules.Refs = &policy.RefRule{ProtectedOnly: true}
	case bp.GetCustomBranchPolicies():
		list, _, err := api.ListDeploymentBranchPolicies(ctx, owner, repo, escaped)
		if err != nil {
			return src, true, fmt.Errorf("reading the deployment branch policies of environment %s: %w", env, err)
		}
		if list.GetTotalCount() > len(list.BranchPolicies) {
			return src, true, fmt.Errorf("environment %s has %d deployment branch policies; stagegate reads at most %d", env, list.GetTotalCount(), len(list.BranchPolicies))
		}
		refs := &policy.RefRule{}
		for _, p := range list.BranchPolicies {
			if p.GetType() == "tag" {
				refs.Tags = append(refs.Tags, p.GetName())
			} else {
				refs.Branches = append(refs.Branches, p.GetName())
			}
		}
		if len(refs.Branches)+len(refs.Tags) == 0 {
			// Custom policies with no pattern: GitHub lets nothing deploy.
			refs.Branches = []string{"!**"}
		}
		src.Rules.Refs = refs
	}
	return src, true, nil
}
