package checks

import (
	"cmp"
	"fmt"
	"strings"
)

// ReqState is where one requirement of a deploy gate stands.
type ReqState string

// Requirement states.
const (
	Met     ReqState = "met"
	Waiting ReqState = "waiting"
	Failed  ReqState = "failed"
)

// Requirement kinds. EvaluateChecks makes KindCheck and KindStatus ones;
// the app adds the others.
const (
	// KindStages is the stages before the deploy: the engine gates a
	// deploy only once they have succeeded.
	KindStages = "stages"
	// KindChecks is the commit's checks as a whole, e.g. while they
	// could not be read.
	KindChecks = "checks"
	// KindCheck is one check run, or a required name not reported yet.
	KindCheck = "check"
	// KindStatus is one commit status context.
	KindStatus = "status"
	// KindApproval is a manual approval (approval: manual).
	KindApproval = "approval"
	// KindEnvironment is the environment being free of other deploys.
	KindEnvironment = "environment"
	// KindPolicy is the environment's deploy policy allowing the ref, as
	// the trusted sources say.
	KindPolicy = "policy"
	// KindWaitTimer is the wait an environment's settings impose before
	// a deploy.
	KindWaitTimer = "wait timer"
)

// Requirement is one condition of a deploy gate, as people see it in the
// gate's list.
type Requirement struct {
	Kind  string
	Name  string
	State ReqState
	// Detail says more, for people: "failure", "in progress",
	// "approved by @alice for abc1234", "deploy of run X in progress".
	Detail string
	// URL links to the requirement: a check's html_url, a status's
	// target_url.
	URL string
}

// Gate is the state of a deploy stage's gate on one commit.
type Gate struct {
	Stage, Environment string
	SHA                string
	Requirements       []Requirement
}

// Decision is what a gate allows.
type Decision int

// Decisions. The zero Decision is none of them, so that a Decision left
// unset never reads as Proceed.
const (
	// Proceed: every requirement is met.
	Proceed Decision = iota + 1
	// Wait: something is still pending and nothing failed.
	Wait
	// NeedsApproval: the approval is the only thing missing.
	NeedsApproval
	// Refuse: a requirement failed; the deploy must not happen.
	Refuse
)

func (d Decision) String() string {
	switch d {
	case Proceed:
		return "proceed"
	case Wait:
		return "wait"
	case NeedsApproval:
		return "needs approval"
	case Refuse:
		return "refuse"
	}
	return fmt.Sprintf("Decision(%d)", int(d))
}

// state is r.State with anything unknown counted as failed: a gate must
// not open on a state nobody understood, and a failure shows the bug.
func (r Requirement) state() ReqState {
	switch r.State {
	case Met, Waiting:
		return r.State
	}
	return Failed
}

// Decide says what the gate allows: Refuse when any requirement failed,
// NeedsApproval when only approvals are waiting, Wait when anything else
// is, else Proceed. A gate with no requirements proceeds.
func (g Gate) Decide() Decision {
	waiting, approvalOnly := false, true
	for _, r := range g.Requirements {
		switch r.state() {
		case Failed:
			return Refuse
		case Waiting:
			waiting = true
			approvalOnly = approvalOnly && r.Kind == KindApproval
		}
	}
	switch {
	case !waiting:
		return Proceed
	case approvalOnly:
		return NeedsApproval
	}
	return Wait
}

// ShortSHA is the 7-character form of a commit SHA people read.
func ShortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}

// isCheckKind reports whether a requirement is about the commit's checks
// or statuses.
func isCheckKind(kind string) bool {
	return kind == KindCheck || kind == KindStatus || kind == KindChecks
}

// Refusal says why the gate refuses, in the words users see in replies
// and on the check: "checks failing on abc1234: lint, unit", and for the
// other kinds "approval refused: …", "environment production: …",
// "earlier stages failed: …", joined by "; ". It is "" unless the gate
// refuses.
func (g Gate) Refusal() string {
	if g.Decide() != Refuse {
		return ""
	}
	var names []string
	seen := map[string]bool{}
	var others []string
	for _, r := range g.Requirements {
		if r.state() != Failed {
			continue
		}
		switch {
		case isCheckKind(r.Kind):
			name := r.Name
			if name == "" {
				name = cmp.Or(r.Detail, "checks")
			}
			if !seen[name] {
				seen[name] = true
				names = append(names, name)
			}
		default:
			others = append(others, refusalOf(r))
		}
	}
	var parts []string
	if len(names) > 0 {
		parts = append(parts, fmt.Sprintf("checks failing on %s: %s", ShortSHA(g.SHA), strings.Join(names, ", ")))
	}
	return strings.Join(append(parts, others...), "; ")
}

func refusalOf(r Requirement) string {
	var s string
	switch r.Kind {
	case KindApproval:
		s = "approval refused"
	case KindEnvironment:
		s = "environment " + r.Name
	case KindStages:
		s = "earlier stages failed"
	case KindPolicy:
		s = "deploy policy"
	default:
		s = strings.TrimSpace(r.Kind + " " + r.Name)
		if r.State != Failed {
			s += " is in an unknown state " + fmt.Sprintf("%q", r.State)
		}
	}
	if r.Detail != "" {
		s += ": " + r.Detail
	}
	return s
}

// headline is what the gate waits for, for titles and the summary's
// note: "waiting for 2 checks and approval", "waiting for approval",
// "cleared to deploy", or the refusal.
func (g Gate) headline() string {
	switch g.Decide() {
	case Proceed:
		return "cleared to deploy"
	case NeedsApproval:
		return "waiting for approval"
	case Refuse:
		return g.Refusal()
	}
	checks := 0
	var other []string
	for _, r := range g.Requirements {
		if r.state() != Waiting {
			continue
		}
		switch {
		case r.Kind == KindCheck || r.Kind == KindStatus:
			checks++
		case r.Kind == KindChecks:
			other = appendOnce(other, "checks")
		case r.Kind == KindApproval:
			other = appendOnce(other, "approval")
		case r.Kind == KindEnvironment:
			other = appendOnce(other, strings.TrimSpace("environment "+r.Name))
		case r.Kind == KindStages:
			other = appendOnce(other, "earlier stages")
		default:
			other = appendOnce(other, strings.TrimSpace(r.Kind+" "+r.Name))
		}
	}
	var parts []string
	if checks > 0 {
		parts = append(parts, fmt.Sprintf("%d %s", checks, plural(checks, "check", "checks")))
	}
	parts = append(parts, other...)
	return "waiting for " + joinAnd(parts)
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// joinAnd joins "a", "a and b", "a, b and c".
func joinAnd(parts []string) string {
	switch n := len(parts); n {
	case 0:
		return ""
	case 1:
		return parts[0]
	default:
		return strings.Join(parts[:n-1], ", ") + " and " + parts[n-1]
	}
}
