package app

import (
	"context"

	"github.com/stagegate/stagegate/app/deploys"
	"github.com/stagegate/stagegate/app/ghevent"
	"github.com/stagegate/stagegate/app/handlers"
	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/pipeline"
)

// The packages that act on deliveries start, find and cancel runs
// through the narrow interfaces they declare (handlers.Runs,
// comments.Runs); these adapters are the App's runs as they ask for them.

// handlerRuns is the App's runs as handlers.Runs.
type handlerRuns struct{ a *App }

func (r handlerRuns) Start(ctx context.Context, req handlers.RunRequest) (string, error) {
	return r.a.startRun(ctx, runRequestOf(req))
}

func (r handlerRuns) ChecksOwner(ctx context.Context, repo, sha string) (store.Run, error) {
	return r.a.checksOwner(ctx, repo, sha)
}

func (r handlerRuns) TrustedRunOf(ctx context.Context, repo, sha string) (bool, error) {
	return r.a.trustedRunOf(ctx, repo, sha)
}

func (r handlerRuns) Cancel(ctx context.Context, run store.Run, why string) {
	r.a.cancelRun(ctx, run, errCancelled{why: why})
}

// commandRuns is the App's runs as comments.Runs.
type commandRuns struct{ a *App }

func (r commandRuns) ChecksOwner(ctx context.Context, repo, sha string) (store.Run, error) {
	return r.a.checksOwner(ctx, repo, sha)
}

func (r commandRuns) Rerun(ctx context.Context, run store.Run, from, login, delivery string) (string, error) {
	return r.a.rerunFrom(ctx, run, from, login, delivery)
}

func (r commandRuns) Start(ctx context.Context, repo ghevent.RepoRef, ev pipeline.Event, compare *ghevent.CompareRange, fork bool, delivery string) (string, error) {
	return r.a.startRun(ctx, runRequest{repo: repo, event: ev, compare: compare, fork: fork, delivery: delivery})
}

func (r commandRuns) Cancel(ctx context.Context, run store.Run, why string) {
	r.a.cancelRun(ctx, run, errCancelled{why: why})
}

// rerunFrom runs a finished run again from stage from, as login: a
// retried run, or a deploy approved after its run ended.
func (a *App) rerunFrom(ctx context.Context, run store.Run, from, login, delivery string) (string, error) {
	req := handlers.RerunRequest(run, delivery)
	req.Event.Actor = login
	req.RerunOf, req.RerunFrom = run.ID, from
	return a.startRun(ctx, runRequestOf(req))
}

func runRequestOf(r handlers.RunRequest) runRequest {
	return runRequest{repo: r.Repo, event: r.Event, compare: r.Compare, fork: r.Fork, delivery: r.Delivery,
		rerunOf: r.RerunOf, rerunFrom: r.RerunFrom, again: r.Again}
}

// runPipeline parses the pipeline file a run was queued with.
func runPipeline(run store.Run) (*pipeline.Pipeline, error) { return deploys.RunPipeline(run) }
