package app

import (
	"context"

	"github.com/stagegate/stagegate/app/deploys"
	"github.com/stagegate/stagegate/app/ghevent"
	"github.com/stagegate/stagegate/app/handlers"
	"github.com/stagegate/stagegate/app/runs"
	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/pipeline"
)

// The packages that act on deliveries start, find and cancel runs
// through the narrow interfaces they declare (handlers.Runs,
// comments.Runs); these adapters are the App's runs (app/runs) as they
// ask for them.

// handlerRuns is the App's runs as handlers.Runs.
type handlerRuns struct{ a *App }

func (r handlerRuns) Start(ctx context.Context, req handlers.RunRequest) (string, error) {
	return r.a.runs.Start(ctx, runRequestOf(req))
}

func (r handlerRuns) ChecksOwner(ctx context.Context, repo, sha string) (store.Run, error) {
	return r.a.runs.ChecksOwner(ctx, repo, sha)
}

func (r handlerRuns) TrustedRunOf(ctx context.Context, repo, sha string) (bool, error) {
	return r.a.runs.TrustedRunOf(ctx, repo, sha)
}

func (r handlerRuns) Cancel(ctx context.Context, run store.Run, why string) {
	r.a.runs.Cancel(ctx, run, runs.Cancelled(why))
}

// commandRuns is the App's runs as comments.Runs.
type commandRuns struct{ a *App }

func (r commandRuns) ChecksOwner(ctx context.Context, repo, sha string) (store.Run, error) {
	return r.a.runs.ChecksOwner(ctx, repo, sha)
}

func (r commandRuns) Rerun(ctx context.Context, run store.Run, from, login, delivery string) (string, error) {
	return r.a.rerunFrom(ctx, run, from, login, delivery)
}

func (r commandRuns) Start(ctx context.Context, repo ghevent.RepoRef, ev pipeline.Event, compare *ghevent.CompareRange, fork bool, delivery string) (string, error) {
	return r.a.runs.Start(ctx, runs.Request{Repo: repo, Event: ev, Compare: compare, Fork: fork, Delivery: delivery})
}

func (r commandRuns) Cancel(ctx context.Context, run store.Run, why string) {
	r.a.runs.Cancel(ctx, run, runs.Cancelled(why))
}

// rerunFrom runs a finished run again from stage from, as login: a
// retried run, or a deploy approved after its run ended.
func (a *App) rerunFrom(ctx context.Context, run store.Run, from, login, delivery string) (string, error) {
	req := handlers.RerunRequest(run, delivery)
	req.Event.Actor = login
	req.RerunOf, req.RerunFrom = run.ID, from
	return a.runs.Start(ctx, runRequestOf(req))
}

func runRequestOf(r handlers.RunRequest) runs.Request {
	return runs.Request{Repo: r.Repo, Event: r.Event, Compare: r.Compare, Fork: r.Fork, Delivery: r.Delivery,
		RerunOf: r.RerunOf, RerunFrom: r.RerunFrom, Again: r.Again}
}

// runPipeline parses the pipeline file a run was queued with.
func runPipeline(run store.Run) (*pipeline.Pipeline, error) { return deploys.RunPipeline(run) }
