//go:build unix

package engine_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stagegate/stagegate/pipeline"
	"github.com/stagegate/stagegate/pipeline/engine"
	"github.com/stagegate/stagegate/pipeline/runner/local"
)

// recorder keeps every event. The engine serializes Observe, so it needs
// no lock of its own.
type recorder struct{ events []engine.Event }

func (r *recorder) Observe(e engine.Event) { r.events = append(r.events, e) }

// lines returns the text of the log lines of one action on stream
// ("" for every stream).
func (r *recorder) lines(stage, action string, stream engine.Stream) []string {
	var out []string
	for _, e := range r.events {
		if l, ok := e.(engine.LogLine); ok && l.Stage == stage && l.Action == action && (stream == "" || l.Stream == stream) {
			out = append(out, l.Text)
		}
	}
	return out
}

func (r *recorder) allText() string {
	var b strings.Builder
	for _, e := range r.events {
		if l, ok := e.(engine.LogLine); ok {
			b.WriteString(l.Text)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

type actOpt func(*pipeline.Action)

func order(n int) actOpt   { return func(a *pipeline.Action) { a.RunOrder = n } }
func retries(n int) actOpt { return func(a *pipeline.Action) { a.Retries = n } }
func timeout(d time.Duration) actOpt {
	return func(a *pipeline.Action) { a.Timeout = pipeline.Duration(d) }
}
func artifacts(g ...string) actOpt { return func(a *pipeline.Action) { a.Artifacts = g } }
func dir(d string) actOpt          { return func(a *pipeline.Action) { a.Dir = d } }
func actEnv(kv ...string) actOpt {
	return func(a *pipeline.Action) { a.Env = pairs(kv) }
}

func act(name, script string, opts ...actOpt) *pipeline.Action {
	a := &pipeline.Action{Name: name, Run: script}
	for _, o := range opts {
		o(a)
	}
	return a
}

func stage(name string, actions ...*pipeline.Action) *pipeline.Stage {
	return &pipeline.Stage{Name: name, Actions: actions}
}

func pipe(stages ...*pipeline.Stage) *pipeline.Pipeline {
	return &pipeline.Pipeline{Name: "test", Stages: stages}
}

func pairs(kv []string) map[string]string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// planAll is a triggered plan in which every stage runs.
func planAll(p *pipeline.Pipeline) pipeline.Plan {
	plan := pipeline.Plan{Triggered: true, Reason: "test"}
	for _, s := range p.Stages {
		plan.Stages = append(plan.Stages, pipeline.StagePlan{Stage: s, Run: true})
	}
	return plan
}

type fixture struct {
	t         *testing.T
	workspace string
	artifacts string
	rec       *recorder
	engine    *engine.Engine
	// concurrent is set by a test that calls run from several
	// goroutines: run then leaves logging the lines to the test.
	concurrent bool
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	rec := &recorder{}
	return &fixture{
		t:         t,
		workspace: t.TempDir(),
		artifacts: t.TempDir(),
		rec:       rec,
		engine: &engine.Engine{
			Runner:   &local.Runner{Grace: 200 * time.Millisecond},
			Observer: rec,
		},
	}
}

// run runs p with every stage planned, after mods adjust the Run.
func (f *fixture) run(ctx context.Context, p *pipeline.Pipeline, mods ...func(*engine.Run)) engine.Result {
	f.t.Helper()
	r := engine.Run{
		ID:          "run-1",
		Pipeline:    p,
		Plan:        planAll(p),
		Event:       pipeline.Event{Kind: pipeline.EventPush, Branch: "main", SHA: "abc123", Actor: "octocat"},
		Workspace:   f.workspace,
		ArtifactDir: f.artifacts,
		TempDir:     f.t.TempDir(),
	}
	for _, m := range mods {
		m(&r)
	}
	res := f.engine.Run(ctx, r)
	if !f.concurrent {
		f.logLines()
	}
	return res
}

// logLines logs the lines recorded so far when the test failed or is
// verbose. It reads the recorder, so while another run may still emit
// (f.concurrent) it is for the test to call, once every run has ended.
func (f *fixture) logLines() {
	f.t.Helper()
	if f.t.Failed() || testing.Verbose() {
		for _, e := range f.rec.events {
			if l, ok := e.(engine.LogLine); ok {
				f.t.Logf("%s/%s %s: %s", l.Stage, l.Action, l.Stream, l.Text)
			}
		}
	}
}

func statuses(res engine.Result) []engine.Status {
	var out []engine.Status
	for _, s := range res.Stages {
		out = append(out, s.Status)
	}
	return out
}

func stageResult(t *testing.T, res engine.Result, name string) engine.StageResult {
	t.Helper()
	i := slices.IndexFunc(res.Stages, func(s engine.StageResult) bool { return s.Name == name })
	if i < 0 {
		t.Fatalf("no result for stage %s in %+v", name, res.Stages)
	}
	return res.Stages[i]
}

func actionResult(t *testing.T, sr engine.StageResult, name string) engine.ActionResult {
	t.Helper()
	i := slices.IndexFunc(sr.Actions, func(a engine.ActionResult) bool { return a.Name == name })
	if i < 0 {
		t.Fatalf("no result for action %s in %+v", name, sr.Actions)
	}
	return sr.Actions[i]
}
