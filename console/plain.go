package console

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/stagegate/stagegate/pipeline/engine"
)

// Plain writes one line per event, each prefixed [stage] or
// [stage/action], for logs and pipes. It flushes after every event so
// that output appears as it happens.
type Plain struct {
	w *bufio.Writer
}

// NewPlain writes to w.
func NewPlain(w io.Writer) *Plain {
	return &Plain{w: bufio.NewWriter(w)}
}

// Observe implements engine.Observer.
func (p *Plain) Observe(e engine.Event) {
	switch e := e.(type) {
	case engine.RunStarted:
		fmt.Fprintf(p.w, "run %s of %s: %s\n", e.RunID, pipelineName(e), e.Plan.Reason)
	case engine.StageStarted:
		fmt.Fprintf(p.w, "[%s] started\n", e.Stage)
	case engine.ActionStarted:
		label := "started"
		if e.Rollback {
			label = "rollback started"
		}
		if e.Attempt > 1 {
			label = fmt.Sprintf("attempt %d started", e.Attempt)
		}
		fmt.Fprintf(p.w, "[%s/%s] %s\n", e.Stage, e.Action, label)
	case engine.LogLine:
		fmt.Fprintf(p.w, "[%s/%s] %s\n", e.Stage, e.Action, e.Text)
	case engine.ActionFinished:
		r := e.Result
		fmt.Fprintf(p.w, "[%s/%s] %s in %s%s\n", e.Stage, e.Action, describeEnd(r), formatDuration(r.Duration), reasonSuffix(actionNote(r)))
	case engine.StageFinished:
		r := e.Result
		if r.Status == engine.StatusSkipped || r.Duration == 0 {
			fmt.Fprintf(p.w, "[%s] %s\n", r.Name, firstNonEmpty(r.Reason, string(r.Status)))
		} else {
			fmt.Fprintf(p.w, "[%s] %s in %s%s\n", r.Name, r.Status, formatDuration(r.Duration), reasonSuffix(r.Reason))
		}
	}
	_ = p.w.Flush()
}

func pipelineName(e engine.RunStarted) string {
	if e.Pipeline != nil && e.Pipeline.Name != "" {
		return e.Pipeline.Name
	}
	return "pipeline"
}

func reasonSuffix(reason string) string {
	if reason == "" {
		return ""
	}
	return ": " + reason
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
