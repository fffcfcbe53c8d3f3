package console

import (
	"fmt"
	"io"
	"strconv"

	"github.com/stagegate/stagegate/pipeline"
	"github.com/stagegate/stagegate/pipeline/engine"
)

// Summary prints the table of results and durations that ends a run.
func Summary(w io.Writer, res engine.Result, style Style) {
	var t table
	t.addText("STAGE", "ACTION", "RESULT", "EXIT", "DURATION", "NOTE")
	for _, s := range res.Stages {
		if len(s.Actions) == 0 && len(s.Rollback) == 0 {
			t.add(cell{text: s.Name}, cell{text: "-"}, statusCell(s.Status), cell{text: "-"},
				cell{text: formatDuration(s.Duration)}, cell{text: s.Reason})
			continue
		}
		rows := append(append([]engine.ActionResult{}, s.Actions...), s.Rollback...)
		for _, a := range rows {
			name := a.Name
			if a.Rollback {
				name += " (rollback)"
			}
			exit := "-"
			if a.Status != engine.StatusSkipped && a.Attempts > 0 {
				exit = strconv.Itoa(a.ExitCode)
			}
			note := actionNote(a)
			if a.Attempts > 1 {
				note = fmt.Sprintf("%d attempts; %s", a.Attempts, note)
			}
			t.add(cell{text: s.Name}, cell{text: name}, statusCell(a.Status), cell{text: exit},
				cell{text: formatDuration(a.Duration)}, cell{text: note})
		}
	}
	fmt.Fprintln(w)
	t.write(w, style)
	line := fmt.Sprintf("run %s: %s in %s", res.RunID, res.Status, formatDuration(res.Duration))
	if res.Reason != "" && res.Status != engine.StatusSuccess {
		line += " (" + res.Reason + ")"
	}
	fmt.Fprintln(w, style.paint(ansiBold, line))
}

// Explain prints which stages an event would run and why the others
// would not.
func Explain(w io.Writer, ev pipeline.Event, plan pipeline.Plan) {
	fmt.Fprintf(w, "event: %s\n", describeEvent(ev))
	if ev.ChangedFiles == nil {
		fmt.Fprintln(w, "changed files: unknown, so path filters are not applied (pass --changed PATH)")
	} else {
		fmt.Fprintf(w, "changed files: %d\n", len(ev.ChangedFiles))
	}
	verdict := "no run"
	if plan.Triggered {
		verdict = "runs"
	}
	fmt.Fprintf(w, "pipeline: %s: %s\n\n", verdict, plan.Reason)
	var t table
	t.addText("STAGE", "WOULD", "WHY")
	for _, sp := range plan.Stages {
		would, why := "run", ""
		switch {
		case sp.Failed:
			would, why = "fail", sp.Reason
		case !sp.Run:
			would, why = "skip", sp.Reason
		}
		if sp.Run && sp.Stage.Deploy() {
			why = "deploys to " + sp.Stage.Environment
		}
		t.addText(sp.Stage.Name, would, why)
	}
	t.write(w, Style{})
}

// actionNote is an action's reason unless the exit code column already
// says it.
func actionNote(a engine.ActionResult) string {
	if a.Reason == fmt.Sprintf("exit code %d", a.ExitCode) {
		return ""
	}
	return a.Reason
}

// describeEvent names the event the way people say it: "push to branch
// main at 1a2b3c4", "pull request #12 (feature/x → main)".
func describeEvent(ev pipeline.Event) string {
	s := ev.Describe()
	if ev.Kind == pipeline.EventPush {
		s = "push to " + s
	}
	if len(ev.SHA) >= 7 {
		s += " at " + ev.SHA[:7]
	}
	return s
}
