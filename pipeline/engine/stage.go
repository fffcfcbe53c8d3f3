package engine

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/stagegate/stagegate/pipeline"
)

// actionOutcome is what one action left behind: its result, and on
// success its outputs and stored artifacts.
type actionOutcome struct {
	result    ActionResult
	outputs   map[string]string
	artifacts []string
}

// runStage runs a stage's actions and, when they fail, its on_failure
// actions.
func (rs *runState) runStage(ctx context.Context, st *pipeline.Stage) StageResult {
	sr := StageResult{Name: st.Name, Started: time.Now()}
	rs.emit(StageStarted{Stage: st.Name, Time: sr.Started})

	main := rs.runActions(ctx, st, st.Actions, false, nil)
	sr.Status, sr.Reason = stageStatus(ctx, main)
	sr.Outputs = mergeOutputs(main)
	arts := map[string]struct{}{}
	addArtifacts(arts, main)
	sr.Actions = results(main)

	// A rollback undoes a failure; after a cancellation whoever cancelled
	// wants the run to stop, not to start more commands.
	if (sr.Status == StatusFailure || sr.Status == StatusTimedOut) && len(st.OnFailure) > 0 && ctx.Err() == nil {
		rb := rs.runActions(ctx, st, st.OnFailure, true, sr.Outputs)
		sr.Rollback = results(rb)
		if status, reason := stageStatus(ctx, rb); status != StatusSuccess {
			sr.Reason += "; on_failure " + reason
		}
		addArtifacts(arts, rb)
	}
	if len(arts) > 0 {
		sr.Artifacts = slices.Sorted(maps.Keys(arts))
	}
	sr.Duration = time.Since(sr.Started)
	return sr
}

// runActions runs actions grouped by run_order, lowest first, the actions
// of a group at the same time. A group in which an action did not succeed
// ends the list: the later groups are skipped, but the group's other
// actions run to their end, since killing a half-done deploy is worse
// than letting it finish. stageOuts are outputs the stage already has,
// given to the actions along with those of earlier groups.
func (rs *runState) runActions(ctx context.Context, st *pipeline.Stage, actions []*pipeline.Action, rollback bool, stageOuts map[string]string) []actionOutcome {
	out := make([]actionOutcome, len(actions))
	groups := groupByRunOrder(actions)
	for gi, group := range groups {
		if stop, why := groupStop(ctx, actions, out, groups[:gi]); stop != "" {
			for _, g := range groups[gi:] {
				for _, i := range g {
					out[i].result = ActionResult{Name: actions[i].Name, Status: stop, Rollback: rollback, Reason: why}
				}
			}
			break
		}
		// Outputs of this stage's earlier groups are visible to later
		// ones, which is how one action hands a value to the next
		// within a stage.
		visible := rs.outputs
		if so := mergeInto(stageOuts, out, groups[:gi]); len(so) > 0 {
			visible = append(slices.Clip(visible), stageOutputs{stage: st.Name, outputs: so})
		}
		var wg sync.WaitGroup
		for _, i := range group {
			wg.Go(func() {
				out[i] = rs.runAction(ctx, st, actions[i], rollback, visible)
			})
		}
		wg.Wait()
	}
	return out
}

// groupStop says whether the groups after done must not run, and with
// which status and reason.
func groupStop(ctx context.Context, actions []*pipeline.Action, out []actionOutcome, done [][]int) (Status, string) {
	for _, g := range done {
		for _, i := range g {
			if r := out[i].result; r.Status != StatusSuccess {
				if r.Status == StatusCancelled || ctx.Err() != nil {
					return StatusCancelled, cancelReason(ctx)
				}
				return StatusSkipped, fmt.Sprintf("skipped: action %s (run_order %d) %s", r.Name, actions[i].EffectiveRunOrder(), verb(r.Status))
			}
		}
	}
	if ctx.Err() != nil {
		return StatusCancelled, cancelReason(ctx)
	}
	return "", ""
}

// groupByRunOrder returns the indexes of actions grouped by run_order,
// ascending, each group in declaration order.
func groupByRunOrder(actions []*pipeline.Action) [][]int {
	idx := make([]int, len(actions))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		return cmp.Compare(actions[a].EffectiveRunOrder(), actions[b].EffectiveRunOrder())
	})
	var groups [][]int
	for n, i := range idx {
		if n == 0 || actions[i].EffectiveRunOrder() != actions[idx[n-1]].EffectiveRunOrder() {
			groups = append(groups, nil)
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], i)
	}
	return groups
}

// stageStatus sums up actions: cancelled over timed_out over failure over
// success, with the reason of the first action, in declaration order,
// that has that status.
func stageStatus(ctx context.Context, out []actionOutcome) (Status, string) {
	for _, s := range []Status{StatusCancelled, StatusTimedOut, StatusFailure} {
		for _, o := range out {
			if o.result.Status != s {
				continue
			}
			if s == StatusCancelled {
				return s, cancelReason(ctx)
			}
			return s, fmt.Sprintf("action %s: %s", o.result.Name, o.result.Reason)
		}
	}
	return StatusSuccess, ""
}

func verb(s Status) string {
	switch s {
	case StatusTimedOut:
		return "timed out"
	case StatusCancelled:
		return "was cancelled"
	default:
		return "failed"
	}
}

// mergeOutputs merges the outputs of the successful actions in
// declaration order, a later action's key winning, so the result does not
// depend on which action finished first.
func mergeOutputs(out []actionOutcome) map[string]string {
	m := map[string]string{}
	for _, o := range out {
		if o.result.Status == StatusSuccess {
			maps.Copy(m, o.outputs)
		}
	}
	if len(m) == 0 {
		return nil
	}
	return m
}

// mergeInto is base plus the outputs of the successful actions of groups,
// in declaration order.
func mergeInto(base map[string]string, out []actionOutcome, groups [][]int) map[string]string {
	var idx []int
	for _, g := range groups {
		idx = append(idx, g...)
	}
	slices.Sort(idx)
	m := maps.Clone(base)
	for _, i := range idx {
		if out[i].result.Status == StatusSuccess && len(out[i].outputs) > 0 {
			if m == nil {
				m = map[string]string{}
			}
			maps.Copy(m, out[i].outputs)
		}
	}
	return m
}

func addArtifacts(set map[string]struct{}, out []actionOutcome) {
	for _, o := range out {
		for _, a := range o.artifacts {
			set[a] = struct{}{}
		}
	}
}

func results(out []actionOutcome) []ActionResult {
	rs := make([]ActionResult, len(out))
	for i, o := range out {
		rs[i] = o.result
	}
	return rs
}
