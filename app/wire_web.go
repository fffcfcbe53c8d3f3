package app

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/app/logkey"
	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/app/web"
	"github.com/stagegate/stagegate/checks"
)

// webPages are the run, repository and organisation pages (app/web) as
// the App serves them.
type webPages struct {
	hub    *web.Hub
	server *web.Server
	// auth is how visitors sign in; web.PublicOnly until sign-in is
	// configured: public repositories' pages only, no buttons. actions
	// are the run page's buttons (none when nil). routes, when set, adds
	// routes of their own (sign-in's) beside the pages. All three are
	// set before newWebPages.
	auth    web.Auth
	actions web.Actions
	routes  func(*http.ServeMux)
}

// newWebPages makes the pages over the App's store and artifact
// directories.
func (a *App) newWebPages() error {
	a.pages.hub = web.NewHub()
	if a.pages.auth == nil {
		a.pages.auth = web.PublicOnly{}
	}
	s, err := web.New(web.Config{
		Store: a.db, Auth: a.pages.auth, Actions: a.pages.actions, Hub: a.pages.hub, Logger: a.log,
		Artifacts: web.DirArtifacts{Dir: func(run store.Run) string { return a.dirs(run).Artifacts }},
	})
	if err != nil {
		return err
	}
	a.pages.server = s
	return nil
}

// webRoutes serves the pages behind next's own routes: a path next has
// a pattern for (the webhook, health, metrics) is next's, whatever an
// owner is called.
func (a *App) webRoutes(next http.Handler) http.Handler {
	pages := http.NewServeMux()
	a.pages.server.Routes(pages)
	if a.pages.routes != nil {
		a.pages.routes(pages)
	}
	own, _ := next.(*http.ServeMux)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if own != nil {
			if _, pattern := own.Handler(r); pattern != "" {
				next.ServeHTTP(w, r)
				return
			}
		}
		pages.ServeHTTP(w, r)
	})
}

// runChanged wakes the live streams of a run's page.
func (a *App) runChanged(runID string) func() {
	return func() { a.pages.hub.Notify(runID) }
}

// runPageURL is the details_url of a run's checks: its page, or the
// stage's. Empty (GitHub's own page of the check) when there is no public
// URL, or when the repository is private and nobody can sign in to see
// its page.
func (a *App) runPageURL(ctx context.Context, run store.Run) func(stage string) string {
	if a.cfg.PublicURL == "" {
		return nil
	}
	if _, noSignIn := a.pages.auth.(web.PublicOnly); noSignIn {
		if private, err := a.db.RepoPrivate(ctx, run.Repo); err != nil || private {
			return nil
		}
	}
	base := strings.TrimSuffix(a.cfg.PublicURL, "/") + "/" + run.Repo + "/runs/" + url.PathEscape(run.ID)
	return func(stage string) string {
		if stage == "" {
			return base
		}
		return base + "?stage=" + url.QueryEscape(stage)
	}
}

// recordGate keeps what a deploy stage's gate showed, for the run page.
func (a *App) recordGate(ctx context.Context, runID string, gate checks.Gate) {
	reqs, err := json.Marshal(gate.Requirements)
	if err == nil {
		err = a.db.RecordGate(ctx, store.GateState{RunID: runID, Stage: gate.Stage, Environment: gate.Environment,
			Decision: gate.Decide().String(), Requirements: string(reqs)})
	}
	if err != nil {
		logger(ctx).Error().Err(err).Str(logkey.Run, runID).Msg("record the gate for the run page")
	}
	a.pages.hub.Notify(runID)
}

// recordVisibility keeps whether the delivery's repository is private:
// its pages are shown only to its readers. The latest delivery received
// says, whatever order they are processed in.
func (a *App) recordVisibility(ctx context.Context, d store.Delivery, event any) {
	var (
		name    string
		private bool
	)
	switch e := event.(type) {
	case *github.PushEvent:
		if e.GetRepo() == nil || e.GetRepo().Private == nil {
			return
		}
		name, private = e.GetRepo().GetFullName(), e.GetRepo().GetPrivate()
	case interface{ GetRepo() *github.Repository }:
		r := e.GetRepo()
		if r == nil || r.Private == nil {
			return
		}
		name, private = r.GetFullName(), r.GetPrivate()
	default:
		return
	}
	if name == "" {
		return
	}
	at := d.ReceivedAt
	if at.IsZero() {
		at = time.Now()
	}
	if err := a.db.SetRepoPrivateAt(ctx, name, private, at); err != nil {
		logger(ctx).Error().Err(err).Msg("record the repository's visibility")
	}
}
