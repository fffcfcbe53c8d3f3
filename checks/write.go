package checks

import (
	"context"
	"fmt"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/rs/zerolog"
)

func (r *Reporter) exec(ctx context.Context, log *zerolog.Logger, o op) {
	switch o.kind {
	case opRunStart:
		var out output
		var runID string
		var start time.Time
		r.withLock(func() {
			out = renderRun(r.m.runView())
			r.m.summary.dirty = false
			runID, start = r.m.runID, r.m.runStart
		})
		r.create(ctx, log, "", &r.m.summary, github.CreateCheckRunOptions{
			Name:       SummaryName,
			HeadSHA:    r.target.HeadSHA,
			ExternalID: github.String(ExternalID(runID, "")),
			DetailsURL: r.detailsURL(""),
			Status:     github.String(statusInProgress),
			StartedAt:  &github.Timestamp{Time: start},
			Output:     toOutput(out, nil),
		})
	case opStageStart:
		r.stageStart(ctx, log, o.stage)
		r.syncDeployment(ctx, log, o.stage)
	case opStageEnd:
		st := o.stage
		var w completion
		r.withLock(func() {
			w = completion{stage: st.name, c: &st.check, out: renderStage(st.view()), anns: st.anns.list,
				conclusion: StageConclusion(st.result.Status), started: st.startedAt, completed: st.finishedAt}
		})
		r.complete(ctx, log, w)
		r.withLock(func() { st.endWritten = true })
		r.syncDeployment(ctx, log, st)
	case opGate:
		r.writeGate(ctx, log, o.stage)
	case opDeploy:
		r.syncDeployment(ctx, log, o.stage)
	case opRunEnd:
		var w completion
		r.withLock(func() {
			w = completion{c: &r.m.summary, out: renderRun(r.m.runView()),
				conclusion: RunConclusion(r.m.result.Status), started: r.m.runStart, completed: r.m.finishedAt}
		})
		r.complete(ctx, log, w)
	}
}

// stageStart shows a stage as started: a new check run, or the one its
// deploy gate created while it waited (queued), moved to in progress.
// go-github cannot send started_at in an update, so such a check keeps
// the time its gate began waiting; the summary still shows the stage's
// own duration.
func (r *Reporter) stageStart(ctx context.Context, log *zerolog.Logger, st *stageState) {
	var out output
	var runID string
	var id int64
	r.withLock(func() {
		out = renderStage(st.view())
		st.check.dirty = false
		runID = r.m.runID
		if st.check.concluded {
			st.check.retire()
		}
		id = st.check.id
	})
	if id != 0 {
		_ = r.update(ctx, log, st.name, &st.check, github.UpdateCheckRunOptions{
			Name:   CheckName(st.name),
			Status: github.String(statusInProgress),
			Output: toOutput(out, nil),
		})
	} else {
		r.create(ctx, log, st.name, &st.check, github.CreateCheckRunOptions{
			Name:       CheckName(st.name),
			HeadSHA:    r.target.HeadSHA,
			ExternalID: github.String(ExternalID(runID, st.name)),
			DetailsURL: r.detailsURL(st.name),
			Status:     github.String(statusInProgress),
			StartedAt:  &github.Timestamp{Time: st.startedAt},
			Output:     toOutput(out, nil),
		})
	}
	r.withLock(func() { st.startWritten = true })
}

// completion is the completing write of one check.
type completion struct {
	stage      string
	c          *checkState
	out        output
	anns       []annotation
	conclusion string
	started    time.Time
	completed  time.Time
}

// complete writes a check's final state: an update when the check
// exists, else a create straight to completed (a stage that never ran,
// or whose create failed), so that no check is left hanging. Annotations
// past the first 50 follow in updates that repeat the output, as GitHub
// requires a title and summary with every output.
func (r *Reporter) complete(ctx context.Context, log *zerolog.Logger, w completion) {
	name := CheckName(w.stage)
	r.mu.Lock()
	if w.c.concluded {
		w.c.retire()
	}
	id := w.c.id
	batch := nextBatch(w.c, w.anns)
	runID := r.m.runID
	r.mu.Unlock()
	completedAt := &github.Timestamp{Time: w.completed}
	if id != 0 {
		err := r.update(ctx, log, w.stage, w.c, github.UpdateCheckRunOptions{
			Name:        name,
			Status:      github.String(statusCompleted),
			Conclusion:  github.String(w.conclusion),
			CompletedAt: completedAt,
			Output:      toOutput(w.out, batch),
		})
		if err != nil {
			r.recordFailure(name, err)
		}
	} else {
		opts := github.CreateCheckRunOptions{
			Name:        name,
			HeadSHA:     r.target.HeadSHA,
			ExternalID:  github.String(ExternalID(runID, w.stage)),
			DetailsURL:  r.detailsURL(w.stage),
			Status:      github.String(statusCompleted),
			Conclusion:  github.String(w.conclusion),
			CompletedAt: completedAt,
			Output:      toOutput(w.out, batch),
		}
		if !w.started.IsZero() {
			opts.StartedAt = &github.Timestamp{Time: w.started}
		}
		if id = r.create(ctx, log, w.stage, w.c, opts); id == 0 {
			r.recordFailure(name, fmt.Errorf("creating %s failed", name))
			return
		}
	}
	for ctx.Err() == nil {
		r.mu.Lock()
		batch := nextBatch(w.c, w.anns)
		r.mu.Unlock()
		if len(batch) == 0 {
			return
		}
		_ = r.update(ctx, log, w.stage, w.c, github.UpdateCheckRunOptions{Name: name, Output: toOutput(w.out, batch)})
	}
}

// progress updates a running check with what is known so far, stage nil
// being the summary.
func (r *Reporter) progress(ctx context.Context, log *zerolog.Logger, st *stageState) {
	var out output
	var batch []annotation
	c, name := &r.m.summary, SummaryName
	r.withLock(func() {
		if st == nil {
			out = renderRun(r.m.runView())
		} else {
			c, name = &st.check, CheckName(st.name)
			out = renderStage(st.view())
			batch = nextBatch(c, st.anns.list)
		}
		c.dirty = false
	})
	stage := ""
	if st != nil {
		stage = st.name
	}
	if r.opts.ProgressContext != nil {
		ctx = r.opts.ProgressContext(ctx)
	}
	if err := r.update(ctx, log, stage, c, github.UpdateCheckRunOptions{Name: name, Output: toOutput(out, batch)}); err != nil {
		// Shown next time, after the throttle: the check still shows
		// less than is known, and annotations that never left are sent
		// again.
		unsent := r.opts.Unsent != nil && r.opts.Unsent(err)
		r.withLock(func() {
			c.dirty = true
			if unsent {
				c.annSent -= len(batch)
			}
		})
	}
}

// nextBatch takes the next annotations to send, at most GitHub's 50.
// Called with r.mu held.
func nextBatch(c *checkState, anns []annotation) []annotation {
	end := min(c.annSent+annotationsPerRequest, len(anns))
	if end <= c.annSent {
		return nil
	}
	batch := anns[c.annSent:end]
	c.annSent = end
	return batch
}

// create makes a check run and returns its ID, 0 when it failed.
func (r *Reporter) create(ctx context.Context, log *zerolog.Logger, stage string, c *checkState, opts github.CreateCheckRunOptions) int64 {
	now := r.clock.Now()
	cr, _, err := r.api.CreateCheckRun(ctx, r.target.Owner, r.target.Repo, opts)
	r.mu.Lock()
	c.lastWrite = now
	if err == nil && cr != nil {
		c.id, c.url = cr.GetID(), cr.GetHTMLURL()
	}
	id := c.id
	r.mu.Unlock()
	if err != nil || id == 0 {
		ev := log.Warn().Str(keyCheck, opts.Name)
		if stage != "" {
			ev = ev.Str(keyStage, stage)
		}
		ev.Err(err).Msg("creating check run failed")
		return 0
	}
	log.Debug().Str(keyCheck, opts.Name).Int64(keyCheckRun, id).Str("status", opts.GetStatus()).Msg("check run created")
	if r.opts.OnCheckRun != nil {
		r.opts.OnCheckRun(stage, id)
	}
	return id
}

func (r *Reporter) update(ctx context.Context, log *zerolog.Logger, stage string, c *checkState, opts github.UpdateCheckRunOptions) error {
	now := r.clock.Now()
	r.mu.Lock()
	id := c.id
	c.lastWrite = now
	r.mu.Unlock()
	_, _, err := r.api.UpdateCheckRun(ctx, r.target.Owner, r.target.Repo, id, opts)
	if err != nil {
		ev := log.Warn().Str(keyCheck, opts.Name).Int64(keyCheckRun, id)
		if stage != "" {
			ev = ev.Str(keyStage, stage)
		}
		ev.Err(err).Msg("updating check run failed")
		return fmt.Errorf("updating %s (%d): %w", opts.Name, id, err)
	}
	return nil
}

// withLock runs f holding r.mu, and releases it even if f panics: the
// worker survives a panic (see safely), and a mutex left locked would
// then block the engine in Observe.
func (r *Reporter) withLock(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f()
}

func (r *Reporter) recordFailure(name string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errs = append(r.errs, fmt.Errorf("%s: %w", name, err))
}

func (r *Reporter) detailsURL(stage string) *string {
	if r.opts.DetailsURL == nil {
		return nil
	}
	if u := r.opts.DetailsURL(stage); u != "" {
		return &u
	}
	return nil
}

func toOutput(out output, anns []annotation) *github.CheckRunOutput {
	o := &github.CheckRunOutput{Title: github.String(out.Title), Summary: github.String(out.Summary)}
	if out.Text != "" {
		o.Text = github.String(out.Text)
	}
	for _, a := range anns {
		o.Annotations = append(o.Annotations, a.toGitHub())
	}
	return o
}

func (a annotation) toGitHub() *github.CheckRunAnnotation {
	g := &github.CheckRunAnnotation{
		Path:            github.String(a.Path),
		StartLine:       github.Int(a.StartLine),
		EndLine:         github.Int(a.EndLine),
		AnnotationLevel: github.String(a.Level),
		Message:         github.String(a.Message),
	}
	if a.StartCol > 0 && a.StartLine == a.EndLine {
		g.StartColumn, g.EndColumn = github.Int(a.StartCol), github.Int(max(a.EndCol, a.StartCol))
	}
	if a.Title != "" {
		g.Title = github.String(a.Title)
	}
	return g
}
