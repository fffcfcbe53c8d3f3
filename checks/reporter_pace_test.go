package checks

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/pipeline/engine"
)

type progressMark struct{}

// markingAPI records, for each update, whether its context was marked as
// progress.
type markingAPI struct {
	*fakeAPI
	mu     sync.Mutex
	marked []bool
}

func (m *markingAPI) UpdateCheckRun(ctx context.Context, owner, repo string, id int64, opts github.UpdateCheckRunOptions) (*github.CheckRun, *github.Response, error) {
	m.mu.Lock()
	m.marked = append(m.marked, ctx.Value(progressMark{}) != nil)
	m.mu.Unlock()
	return m.fakeAPI.UpdateCheckRun(ctx, owner, repo, id, opts)
}

// TestReporterPaceAndProgressContext: Pace stretches the throttle, only
// progress updates carry the progress context, and a progress update
// that never reached GitHub is sent again later.
func TestReporterPaceAndProgressContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		api := &markingAPI{fakeAPI: newFakeAPI(t)}
		errDeferred := errors.New("deferred")
		deferNext := true
		api.fail = func(n int, c call) error {
			if c.update != nil && c.update.Conclusion == nil && c.update.Status == nil && deferNext {
				deferNext = false
				return errDeferred
			}
			return nil
		}
		clk := newFakeClock()
		r := NewReporter(api, testTarget(), Options{
			Clock:           clk,
			Pace:            func(d time.Duration) time.Duration { return 3 * d },
			ProgressContext: func(ctx context.Context) context.Context { return context.WithValue(ctx, progressMark{}, true) },
			Unsent:          func(err error) bool { return errors.Is(err, errDeferred) },
		})
		r.Start(t.Context())
		step := func(events ...engine.Event) {
			for _, e := range events {
				r.Observe(e)
			}
			synctest.Wait()
		}
		log := engine.LogLine{Stage: "build", Action: "compile", Attempt: 1, Stream: engine.Stdout, Text: "one"}
		p := buildPipeline([]stageSpec{{name: "build", actions: [][2]string{{"compile", ""}}}})
		step(engine.RunStarted{RunID: "run-1", Pipeline: p, Plan: planAll(p)})
		step(engine.StageStarted{Stage: "build"})
		step(engine.ActionStarted{Stage: "build", Action: "compile", Attempt: 1}, log)
		clk.Advance(DefaultThrottle)
		synctest.Wait()
		if n := len(api.recorded()); n != 2 {
			t.Fatalf("progress before the paced interval:\n%s", strings.Join(api.strings(), "\n"))
		}
		clk.Advance(2 * DefaultThrottle)
		synctest.Wait()
		// The summary's progress update was deferred; the stage's went.
		n := len(api.recorded())
		clk.Advance(3 * DefaultThrottle)
		synctest.Wait()
		if len(api.recorded()) <= n {
			t.Errorf("the deferred progress update was not sent again:\n%s", strings.Join(api.strings(), "\n"))
		}
		step(engine.StageFinished{Result: engine.StageResult{Name: "build", Status: engine.StatusSuccess}},
			engine.RunFinished{Result: engine.Result{RunID: "run-1", Status: engine.StatusSuccess}})
		if err := r.Close(t.Context()); err != nil {
			t.Fatal(err)
		}
		calls := api.recorded()
		api.mu.Lock()
		defer api.mu.Unlock()
		i := 0
		for _, c := range calls {
			if c.update == nil {
				continue
			}
			progress := c.update.Conclusion == nil && c.update.Status == nil
			if api.marked[i] != progress {
				t.Errorf("update %s: marked %v, want %v", c, api.marked[i], progress)
			}
			i++
		}
	})
}
