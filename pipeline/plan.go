package pipeline

import (
	"fmt"
	"strings"
)

// Plan is the decision, for one event, of whether a run starts and which
// of its stages run.
type Plan struct {
	// Triggered is whether the event starts a run at all.
	Triggered bool
	// Reason says why the run does not start, or why it does.
	Reason string
	// Stages has one entry per stage of the pipeline, in order.
	Stages []StagePlan
}

// StagePlan says whether one stage runs.
type StagePlan struct {
	Stage *Stage
	Run   bool
	// Failed is set when the stage's `if:` could not be decided: the
	// stage fails with Reason rather than being skipped, so that a broken
	// condition is never mistaken for a false one.
	Failed bool
	// Reason says why a stage does not run, for people: for example
	// `skipped: if branch == "main" was false on branch feature/x`. For a
	// stage that runs it names the `if:` that held, and is empty when the
	// stage has no `if:`.
	Reason string
}

// Decide applies the pipeline's trigger rules and each stage's `if:` to
// an event. It only reads p, so a Pipeline may be shared by concurrent
// callers; a stage without a precompiled condition is compiled on every
// call rather than cached on the Stage for that reason.
func Decide(p *Pipeline, ev Event) Plan {
	if p == nil {
		return Plan{Reason: "no run: no pipeline"}
	}
	ok, why := triggerRun(p.On, ev)
	plan := Plan{Triggered: ok, Stages: make([]StagePlan, 0, len(p.Stages))}
	if !ok {
		plan.Reason = "no run: " + why
		for _, s := range p.Stages {
			plan.Stages = append(plan.Stages, StagePlan{Stage: s, Reason: "not triggered: " + why})
		}
		return plan
	}
	plan.Reason = why
	m := newMeter()
	for _, s := range p.Stages {
		plan.Stages = append(plan.Stages, planStage(s, ev, m))
	}
	return plan
}

// StageRuns reports whether s's `if:` holds for ev, as a run's plan
// would decide it; a condition that cannot be decided does not hold.
// Policy asks it of the trusted file's deploy stages: a stage that would
// not run for ev does not speak for ev's ref.
func StageRuns(s *Stage, ev Event) bool {
	return planStage(s, ev, newMeter()).Run
}

// planStage evaluates a stage's `if:` for a run that has started.
func planStage(s *Stage, ev Event, m *meter) StagePlan {
	sp := StagePlan{Stage: s}
	src := displayCondition(s.If)
	prog := s.cond
	if prog == nil {
		if src == "" {
			sp.Run = true
			return sp
		}
		var err error
		if prog, err = compileCondition(s.If); err != nil {
			sp.Failed = true
			sp.Reason = fmt.Sprintf("failed: if `%s` is invalid: %s", src, conditionErrText(err))
			return sp
		}
	}
	if src == "" {
		// Only reachable for a Stage assembled by hand with a program
		// but no source; still say which kind of thing decided.
		src = "(compiled condition)"
	}
	ok, err := evalCondition(prog, ev, m)
	switch {
	case err != nil:
		sp.Failed = true
		sp.Reason = fmt.Sprintf("failed: if `%s` could not be evaluated on %s: %s", src, ev.Describe(), conditionErrText(err))
	case !ok:
		sp.Reason = fmt.Sprintf("skipped: if `%s` was false on %s", src, ev.Describe())
	default:
		sp.Run = true
		sp.Reason = fmt.Sprintf("if `%s` was true on %s", src, ev.Describe())
	}
	return sp
}

// displayCondition flattens a multi-line `if:` (a YAML block scalar) so
// that a reason fits on one line; whitespace inside a line is kept, as it
// may be inside a string literal.
func displayCondition(src string) string {
	lines := strings.Split(strings.TrimSpace(src), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.Join(lines, " ")
}

// conditionErrText is an expr error without the source snippet and caret
// that expr appends on later lines; the reason already quotes the source.
func conditionErrText(err error) string {
	msg, _, _ := strings.Cut(err.Error(), "\n")
	return msg
}
