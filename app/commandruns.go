package app

import (
	"context"

	"github.com/stagegate/stagegate/app/ghevent"
	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/pipeline"
)

// commandRuns is the App's runs as the comment commands ask for them
// (comments.Runs).
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
