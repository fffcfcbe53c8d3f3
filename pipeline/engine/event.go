package engine

import (
	"time"

	"github.com/stagegate/stagegate/pipeline"
)

// Observer receives every step of a run. The engine never calls Observe
// concurrently, and calls it in the order things happen for any one
// action; a slow observer slows the run, so observers that do I/O should
// buffer.
type Observer interface {
	Observe(Event)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(Event)

// Observe calls f(e).
func (f ObserverFunc) Observe(e Event) { f(e) }

// Event is one of the types below.
type Event interface{ isEvent() }

// Status is how a run, stage or action ended.
type Status string

// Statuses. Each is final: a run, stage or action that is still going
// has no result yet, only the events that started it.
const (
	StatusSuccess   Status = "success"
	StatusFailure   Status = "failure"
	StatusSkipped   Status = "skipped"
	StatusCancelled Status = "cancelled"
	StatusTimedOut  Status = "timed_out"
)

// Stream is the output stream a log line came from.
type Stream string

// Streams.
const (
	Stdout Stream = "stdout"
	Stderr Stream = "stderr"
	// System lines are written by the engine itself (retries, artifacts).
	System Stream = "system"
)

// RunStarted opens a run.
type RunStarted struct {
	RunID    string
	Pipeline *pipeline.Pipeline
	Plan     pipeline.Plan
	Time     time.Time
}

// StageStarted is sent when a stage begins running its actions.
type StageStarted struct {
	Stage string
	Time  time.Time
}

// ActionStarted is sent for each attempt of an action.
type ActionStarted struct {
	Stage, Action string
	// Attempt counts from 1.
	Attempt int
	// Rollback is set for the stage's on_failure actions.
	Rollback bool
	Time     time.Time
}

// LogLine is one line of an action's output, secrets already masked.
type LogLine struct {
	Stage, Action string
	// Attempt and Rollback tell which ActionStarted the line belongs to:
	// an on_failure action may share a main action's name, and a retry
	// logs under the same name again.
	Attempt  int
	Rollback bool
	Stream   Stream
	Time     time.Time
	Text     string
}

// ActionFinished ends an attempt.
type ActionFinished struct {
	Stage, Action string
	Attempt       int
	Rollback      bool
	Result        ActionResult
}

// StageFinished ends a stage, whether it ran or was skipped.
type StageFinished struct {
	Result StageResult
}

// RunFinished ends a run.
type RunFinished struct {
	Result Result
}

func (RunStarted) isEvent()     {}
func (StageStarted) isEvent()   {}
func (ActionStarted) isEvent()  {}
func (LogLine) isEvent()        {}
func (ActionFinished) isEvent() {}
func (StageFinished) isEvent()  {}
func (RunFinished) isEvent()    {}

// ActionResult is how one action (its last attempt) ended.
type ActionResult struct {
	Name     string
	Status   Status
	ExitCode int
	Attempts int
	Rollback bool
	// Reason explains a status other than success.
	Reason string
	// Summary is Markdown an integration gave for the stage's check,
	// masked and bounded (IntegrationResult.Summary).
	Summary  string
	Started  time.Time
	Duration time.Duration
}

// StageResult is how a stage ended.
type StageResult struct {
	Name   string
	Status Status
	// Reason explains a status other than success, for people.
	Reason   string
	Started  time.Time
	Duration time.Duration
	Actions  []ActionResult
	// Rollback holds the on_failure actions' results, if they ran.
	Rollback []ActionResult
	// Outputs are the KEY=value pairs its actions wrote to
	// $STAGEGATE_OUTPUT.
	Outputs map[string]string
	// Artifacts lists the files copied to the artifact store, relative to
	// it.
	Artifacts []string
}

// Result is how a run ended.
type Result struct {
	RunID    string
	Status   Status
	Reason   string
	Started  time.Time
	Duration time.Duration
	Stages   []StageResult
}
