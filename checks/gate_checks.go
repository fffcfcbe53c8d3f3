package checks

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/google/go-github/v60/github"
)

// CheckOptions tune EvaluateChecks.
type CheckOptions struct {
	// OwnAppID is stagegate's App ID: Exclude drops only that App's
	// check runs, so another CI cannot hide a failure behind one of
	// stagegate's names. 0 applies Exclude to every App's.
	OwnAppID int64
	// Exclude reports whether a check run of that name is stagegate's
	// own (its summary, its deploy stages): those are never counted, so
	// the gate cannot wait on its own queued check and deadlock, nor
	// refuse because an earlier attempt failed. OwnCheck fits. A
	// required name it excludes is not waited for. Statuses are never
	// excluded: stagegate reports through check runs only.
	Exclude func(name string) bool
	// Skip, when set, leaves out single check runs, whatever their name:
	// a deployment protection rule leaves out the unfinished jobs of the
	// workflow run that waits on it, but not a run of the same name in
	// another check suite.
	Skip func(cr *github.CheckRun) bool
	// Require, when not empty, names the only check runs and status
	// contexts that count; one that has not reported yet is waiting.
	Require []string
}

// OwnCheck reports whether name is one of stagegate's check runs: the
// summary or a stage's. It is the Exclude the app should use. Excluding
// the stages before the deploy is safe, since the engine gates a deploy
// only once they succeeded in this run; those at or after it are this
// run's future or another run's past, and must not decide.
func OwnCheck(name string) bool {
	return name == SummaryName || strings.HasPrefix(name, SummaryName+"/")
}

func (o CheckOptions) excludes(cr *github.CheckRun) bool {
	if o.Exclude == nil || !o.Exclude(cr.GetName()) {
		return false
	}
	return o.OwnAppID == 0 || cr.GetApp().GetID() == o.OwnAppID
}

// EvaluateChecks turns a commit's check runs and combined status into the
// gate's requirements, one per check run and status context counted,
// ordered by Require or else by name. Only the latest run of each check
// suite and name counts, from any App, GitHub Actions included: one App
// can have several suites on a commit (one per workflow run), and a name
// current in two of them is two requirements, so a passing run never
// hides a failing one of the same name. success, neutral
// and skipped are met; not yet completed (queued, in_progress, waiting,
// requested, pending) is waiting, since still running means wait, not
// fail; any other conclusion fails. Only the latest status of each
// context counts: success is met, pending waiting, anything else failed.
// A commit with no checks gives no requirements, and passes.
func EvaluateChecks(runs []*github.CheckRun, combined *github.CombinedStatus, opts CheckOptions) []Requirement {
	// A run without a suite (never so on GitHub) is keyed by its App.
	type runKey struct {
		suite, app int64
		name       string
	}
	latest := map[runKey]*github.CheckRun{}
	var order []runKey
	for _, cr := range runs {
		if cr == nil || cr.GetName() == "" || opts.excludes(cr) || (opts.Skip != nil && opts.Skip(cr)) {
			continue
		}
		k := runKey{app: cr.GetApp().GetID(), name: cr.GetName()}
		if id := cr.GetCheckSuite().GetID(); id != 0 {
			k = runKey{suite: id, name: cr.GetName()}
		}
		old, ok := latest[k]
		if !ok {
			order = append(order, k)
		}
		if !ok || newerRun(cr, old) {
			latest[k] = cr
		}
	}
	statuses := map[string]*github.RepoStatus{}
	var contexts []string
	var all []*github.RepoStatus
	if combined != nil {
		all = combined.Statuses
	}
	for _, s := range all {
		if s == nil || s.GetContext() == "" {
			continue
		}
		old, ok := statuses[s.GetContext()]
		if !ok {
			contexts = append(contexts, s.GetContext())
		}
		if !ok || newerStatus(s, old) {
			statuses[s.GetContext()] = s
		}
	}
	var reqs []Requirement
	for _, k := range order {
		reqs = append(reqs, runRequirement(latest[k]))
	}
	for _, c := range contexts {
		reqs = append(reqs, statusRequirement(statuses[c]))
	}
	if len(opts.Require) == 0 {
		slices.SortStableFunc(reqs, func(a, b Requirement) int {
			return cmpStrings(a.Name, b.Name, a.Kind, b.Kind)
		})
		return reqs
	}
	var out []Requirement
	seen := map[string]bool{}
	for _, name := range opts.Require {
		if seen[name] {
			continue
		}
		seen[name] = true
		n := len(out)
		for _, r := range reqs {
			if r.Name == name {
				out = append(out, r)
			}
		}
		if len(out) == n && (opts.Exclude == nil || !opts.Exclude(name)) {
			out = append(out, Requirement{Kind: KindCheck, Name: name, State: Waiting, Detail: "has not reported yet"})
		}
	}
	return out
}

func cmpStrings(a1, b1, a2, b2 string) int {
	if c := strings.Compare(a1, b1); c != 0 {
		return c
	}
	return strings.Compare(a2, b2)
}

// newerRun reports whether a is a later run than b: GitHub's IDs grow
// with creation, so the higher ID wins; started_at decides without IDs.
func newerRun(a, b *github.CheckRun) bool {
	if a.GetID() != b.GetID() {
		return a.GetID() > b.GetID()
	}
	return a.GetStartedAt().After(b.GetStartedAt().Time)
}

func newerStatus(a, b *github.RepoStatus) bool {
	if a.GetID() != b.GetID() {
		return a.GetID() > b.GetID()
	}
	return a.GetUpdatedAt().After(b.GetUpdatedAt().Time)
}

// maxDetail keeps a requirement's detail to a readable line.
const maxDetail = 100

func runRequirement(cr *github.CheckRun) Requirement {
	r := Requirement{Kind: KindCheck, Name: cr.GetName(), URL: cr.GetHTMLURL()}
	if cr.GetStatus() != statusCompleted {
		r.State, r.Detail = Waiting, humanize(cmp.Or(cr.GetStatus(), "queued"))
		return r
	}
	switch c := cr.GetConclusion(); c {
	case conclusionSuccess, conclusionNeutral, conclusionSkipped:
		r.State, r.Detail = Met, c
	case "":
		r.State, r.Detail = Failed, "completed without a conclusion"
	default:
		// failure, cancelled, timed_out, action_required, stale,
		// startup_failure, and whatever GitHub adds later.
		r.State, r.Detail = Failed, humanize(c)
	}
	if t := cr.GetOutput().GetTitle(); t != "" && r.State == Failed {
		r.Detail = truncate(r.Detail+": "+strings.Join(strings.Fields(t), " "), maxDetail)
	}
	return r
}

func statusRequirement(s *github.RepoStatus) Requirement {
	r := Requirement{Kind: KindStatus, Name: s.GetContext(), URL: s.GetTargetURL(), Detail: s.GetState()}
	switch s.GetState() {
	case "success":
		r.State = Met
	case "pending":
		r.State = Waiting
	default:
		// failure, error, and anything unknown.
		r.State = Failed
		if r.Detail == "" {
			r.Detail = "no state"
		}
	}
	if d := s.GetDescription(); d != "" && r.State != Met {
		r.Detail = truncate(r.Detail+": "+strings.Join(strings.Fields(d), " "), maxDetail)
	}
	return r
}

func humanize(s string) string { return strings.ReplaceAll(s, "_", " ") }

// CheckRunsAPI lists a commit's check runs; *github.ChecksService
// satisfies it.
type CheckRunsAPI interface {
	ListCheckRunsForRef(ctx context.Context, owner, repo, ref string, opts *github.ListCheckRunsOptions) (*github.ListCheckRunsResults, *github.Response, error)
}

// StatusAPI reads a commit's combined status; *github.RepositoriesService
// satisfies it.
type StatusAPI interface {
	GetCombinedStatus(ctx context.Context, owner, repo, ref string, opts *github.ListOptions) (*github.CombinedStatus, *github.Response, error)
}

var (
	_ CheckRunsAPI = (*github.ChecksService)(nil)
	_ StatusAPI    = (*github.RepositoriesService)(nil)
)

// maxPages bounds the listing: 100 pages of 100 is far more checks than
// any commit has, and a listing that never ends must not hang the gate.
const maxPages = 100

var errTooManyPages = errors.New("more than 10,000 results")

// LoadChecks reads the check runs (every page, filter=latest) and the
// combined status of sha and evaluates them with EvaluateChecks.
func LoadChecks(ctx context.Context, runsAPI CheckRunsAPI, statusAPI StatusAPI, owner, repo, sha string, opts CheckOptions) ([]Requirement, error) {
	var runs []*github.CheckRun
	lo := &github.ListCheckRunsOptions{Filter: github.String("latest"), ListOptions: github.ListOptions{PerPage: 100}}
	for page := 0; ; page++ {
		if page == maxPages {
			return nil, fmt.Errorf("listing check runs of %s: %w", ShortSHA(sha), errTooManyPages)
		}
		res, resp, err := runsAPI.ListCheckRunsForRef(ctx, owner, repo, sha, lo)
		if err != nil {
			return nil, fmt.Errorf("listing check runs of %s: %w", ShortSHA(sha), err)
		}
		if res != nil {
			runs = append(runs, res.CheckRuns...)
		}
		if resp == nil || resp.NextPage == 0 {
			break
		}
		lo.Page = resp.NextPage
	}
	combined := &github.CombinedStatus{}
	so := &github.ListOptions{PerPage: 100}
	for page := 0; ; page++ {
		if page == maxPages {
			return nil, fmt.Errorf("reading the statuses of %s: %w", ShortSHA(sha), errTooManyPages)
		}
		cs, resp, err := statusAPI.GetCombinedStatus(ctx, owner, repo, sha, so)
		if err != nil {
			return nil, fmt.Errorf("reading the statuses of %s: %w", ShortSHA(sha), err)
		}
		if cs != nil {
			combined.Statuses = append(combined.Statuses, cs.Statuses...)
		}
		if resp == nil || resp.NextPage == 0 {
			break
		}
		so.Page = resp.NextPage
	}
	return EvaluateChecks(runs, combined, opts), nil
}
