package web

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/pipeline"
)

const (
	// recentRuns, latestByKey and deployHistory bound the lists of a
	// repository's page.
	recentRuns    = 20
	latestByKey   = 30
	deployHistory = 50
	// ownerRepos bounds an organisation's page.
	ownerRepos = 200
)

type runRow struct {
	URL, ID, Ref, Short, Actor, When, Duration string
	Event                                      string
	State                                      stateView
}

func runRowOf(repo string, r store.Run, now time.Time) runRow {
	return runRow{URL: "/" + repo + "/runs/" + url.PathEscape(r.ID), ID: r.ID, Ref: refOf(r), Short: shortSHA(r.SHA),
		Actor: r.Actor, When: ago(r.CreatedAt, now), Duration: duration(r.StartedAt, r.FinishedAt, now),
		Event: r.Event, State: stateOf(r.Status, r.Conclusion)}
}

type deployRow struct {
	Environment, Short, Branch, Approver, When, URL string
	State                                           stateView
}

type environmentView struct {
	Name    string
	Current *deployRow
	History []deployRow
}

type pipelineStage struct {
	Name, Environment string
	Actions           int
}

type repoPage struct {
	Repo, Owner, Name string
	Badge             string
	Pipeline          []pipelineStage
	Latest            []runRow
	Recent            []runRow
	Environments      []environmentView
}

func (s *Server) repoPage(w http.ResponseWriter, r *http.Request) {
	repo, _, ok := s.authorize(w, r)
	if !ok {
		return
	}
	ctx, now := r.Context(), time.Now()
	latest, err := s.cfg.Store.LatestRunsByKey(ctx, repo, latestByKey)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(latest) == 0 {
		http.NotFound(w, r)
		return
	}
	recent, err := s.cfg.Store.RecentRuns(ctx, repo, recentRuns)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	deploys, err := s.cfg.Store.DeploymentHistory(ctx, repo, deployHistory)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := repoPage{Repo: repo, Owner: r.PathValue("owner"), Name: r.PathValue("repo")}
	for _, run := range latest {
		p.Latest = append(p.Latest, runRowOf(repo, run, now))
	}
	for _, run := range recent {
		p.Recent = append(p.Recent, runRowOf(repo, run, now))
	}
	// The pipeline as the newest run of a branch read it.
	for _, run := range latest {
		if run.PR != 0 {
			continue
		}
		if pl, err := pipeline.Parse(run.PipelinePath, []byte(run.Pipeline)); err == nil {
			for _, st := range pl.Stages {
				p.Pipeline = append(p.Pipeline, pipelineStage{Name: st.Name, Environment: st.Environment, Actions: len(st.Actions)})
			}
			p.Badge = "/" + repo + "/badge.svg?branch=" + url.QueryEscape(run.Branch)
			break
		}
	}
	p.Environments = environments(repo, deploys, now)
	s.render(w, r, "repo", p)
}

// environments groups deploys by environment, newest first; an
// environment's current deployment is its newest that succeeded.
func environments(repo string, deploys []store.DeploymentRecord, now time.Time) []environmentView {
	var out []environmentView
	index := map[string]int{}
	for _, d := range deploys {
		i, ok := index[d.Environment]
		if !ok {
			i = len(out)
			index[d.Environment] = i
			out = append(out, environmentView{Name: d.Environment})
		}
		when := d.Finished
		if when.IsZero() {
			when = d.Started
		}
		row := deployRow{Environment: d.Environment, Short: shortSHA(d.SHA), Branch: d.Branch, Approver: d.Approver,
			When: ago(when, now), URL: "/" + repo + "/runs/" + url.PathEscape(d.RunID),
			State: stateOf(d.Status, d.Conclusion)}
		env := &out[i]
		if env.Current == nil && d.Status == store.StatusCompleted && d.Conclusion == "success" {
			cur := row
			env.Current = &cur
		}
		env.History = append(env.History, row)
	}
	return out
}

type orgPage struct {
	Owner string
	Repos []orgRepo
	// Unchecked counts the private repositories past the page's bound of
	// permission look-ups, not listed.
	Unchecked int
}

// maxPermissionLookups bounds the private repositories an organisation's
// page asks GitHub about.
const maxPermissionLookups = 50

type orgRepo struct {
	Name, URL string
	Private   bool
	Latest    runRow
}

// orgPage lists the owner's repositories that have runs and the asker
// may see, each with its newest run.
func (s *Server) orgPage(w http.ResponseWriter, r *http.Request) {
	owner := r.PathValue("owner")
	if !namePattern.MatchString(owner) {
		http.NotFound(w, r)
		return
	}
	ctx, now := r.Context(), time.Now()
	repos, err := s.cfg.Store.OwnerRepos(ctx, owner, ownerRepos)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, signedIn := s.cfg.Auth.CurrentLogin(r)
	p := orgPage{Owner: owner}
	asked := 0
	for _, repo := range repos {
		private, err := s.cfg.Store.RepoPrivate(ctx, repo)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if private {
			if !signedIn {
				continue
			}
			// Each private repository costs a look-up of the user's
			// permission at GitHub: a page asks for a bounded number.
			if asked == maxPermissionLookups {
				p.Unchecked++
				continue
			}
			asked++
			perm, err := s.cfg.Auth.Permission(ctx, r, owner, repo[len(owner)+1:])
			if err != nil || perm == "" {
				continue
			}
		}
		latest, err := s.cfg.Store.RecentRuns(ctx, repo, 1)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		o := orgRepo{Name: repo[len(owner)+1:], URL: "/" + repo, Private: private}
		if len(latest) == 1 {
			o.Latest = runRowOf(repo, latest[0], now)
		}
		p.Repos = append(p.Repos, o)
	}
	if len(p.Repos) == 0 && p.Unchecked == 0 {
		http.NotFound(w, r)
		return
	}
	s.render(w, r, "org", p)
}

// badge draws the state of a branch's newest run as an SVG badge.
func (s *Server) badge(w http.ResponseWriter, r *http.Request) {
	repo, acc, ok := s.authorize(w, r)
	if !ok {
		return
	}
	branch := r.URL.Query().Get("branch")
	word, colour := "no runs", "#9f9f9f"
	if branch != "" {
		run, err := s.cfg.Store.LatestRunForBranch(r.Context(), repo, branch)
		switch {
		case err == nil:
			st := stateOf(run.Status, run.Conclusion)
			word, colour = st.Word, badgeColours[st.Key]
		case !isNotFound(err):
			s.fail(w, r, err)
			return
		}
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	// Short: a badge is read on every view of a README, and GitHub's
	// image proxy honours it.
	cache := "public, max-age=30, must-revalidate"
	if acc.private {
		// Shown to a signed-in reader only: no shared cache keeps it.
		cache = "private, max-age=30, must-revalidate"
	}
	w.Header().Set("Cache-Control", cache)
	_ = s.pages.badge.Execute(w, badgeData(word, colour))
}

var badgeColours = map[string]string{
	"success": "#2e7d32", "failure": "#c62828", "running": "#b26a00", "waiting": "#b26a00",
	"queued": "#6d6d6d", "pending": "#6d6d6d", "cancelled": "#6d6d6d", "skipped": "#6d6d6d",
}

type badgeView struct {
	Label, Word, Colour string
	LabelW, WordW, W    int
	LabelX, WordX       int
}

// badgeData sizes the badge for its text at about 7 px a character of
// Verdana 11.
func badgeData(word, colour string) badgeView {
	if colour == "" {
		colour = "#6d6d6d"
	}
	b := badgeView{Label: "stagegate", Word: word, Colour: colour}
	b.LabelW = 7*len(b.Label) + 10
	b.WordW = 7*len([]rune(word)) + 10
	b.W = b.LabelW + b.WordW
	b.LabelX, b.WordX = b.LabelW/2, b.LabelW+b.WordW/2
	return b
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
