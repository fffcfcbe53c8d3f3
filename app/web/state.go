package web

import (
	"fmt"
	"time"

	"github.com/stagegate/stagegate/app/store"
)

// stateView is how a state is shown: a class for its colour, and a word
// and an icon beside it, so that colour is never the only sign.
type stateView struct {
	Key  string `json:"k"`
	Word string `json:"w"`
	Icon string `json:"i"`
}

var states = map[string]stateView{
	"pending":     {"pending", "pending", "·"},
	"queued":      {"queued", "queued", "○"},
	"in_progress": {"running", "running", "◐"},
	"waiting":     {"waiting", "waiting", "⏸"},
	"success":     {"success", "succeeded", "✓"},
	"failure":     {"failure", "failed", "✗"},
	"cancelled":   {"cancelled", "cancelled", "⊘"},
	"skipped":     {"skipped", "skipped", "↷"},
	"timed_out":   {"failure", "timed out", "⏱"},
	"neutral":     {"skipped", "neutral", "–"},
}

// stateOf is the state of a run, stage or action from its status and
// conclusion.
func stateOf(status store.Status, conclusion string) stateView {
	key := string(status)
	if status == store.StatusCompleted {
		key = conclusion
	}
	if s, ok := states[key]; ok {
		return s
	}
	if status == store.StatusCompleted {
		return stateView{"failure", conclusion, "✗"}
	}
	return states["pending"]
}

// duration says how long something took, or has taken so far.
func duration(start, end, now time.Time) string {
	if start.IsZero() {
		return ""
	}
	if end.IsZero() {
		end = now
	}
	return humanDuration(end.Sub(start))
}

func humanDuration(d time.Duration) string {
	switch {
	case d < 0:
		return ""
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm %02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
}

// ago says when, relative to now, for lists.
func ago(t, now time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return fmt.Sprintf("%d min ago", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d h ago", int(d.Hours()))
	}
	return t.UTC().Format("2006-01-02")
}

// refOf names what a run ran on: a pull request, a tag or a branch.
func refOf(r store.Run) string {
	switch {
	case r.PR != 0:
		return fmt.Sprintf("PR #%d", r.PR)
	case r.Tag != "":
		return "tag " + r.Tag
	}
	return r.Branch
}

func shortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
