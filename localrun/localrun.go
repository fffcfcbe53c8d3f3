// Package localrun runs a pipeline on this machine, as `stagegate run`
// and `stagegate explain` do. The event comes from flags and the git
// checkout, and deploy stages run only when named, so that trying a
// pipeline locally never ships anything by surprise.
package localrun

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/stagegate/stagegate/awsint"
	"github.com/stagegate/stagegate/pipeline"
	"github.com/stagegate/stagegate/pipeline/engine"
	"github.com/stagegate/stagegate/pipeline/runner"
	"github.com/stagegate/stagegate/pipeline/runner/local"
)

// EventOptions are the command-line flags that describe the event.
type EventOptions struct {
	// Kind is "push" (the default) or "pull_request".
	Kind   string
	Branch string
	Base   string
	Tag    string
	SHA    string
	Actor  string
	PR     int
	// Changed lists the changed files; nil means unknown.
	Changed []string
}

// UsageError is a mistake in what the user asked for, as opposed to a
// pipeline that failed.
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// BuildEvent completes the flags with the checkout at dir: by default the
// event is a push of the current branch at HEAD.
func BuildEvent(dir string, o EventOptions) (pipeline.Event, error) {
	ev := pipeline.Event{
		Kind:         pipeline.EventKind(o.Kind),
		Branch:       o.Branch,
		Tag:          o.Tag,
		BaseBranch:   o.Base,
		SHA:          o.SHA,
		PR:           o.PR,
		Actor:        o.Actor,
		ChangedFiles: o.Changed,
	}
	switch ev.Kind {
	case "":
		ev.Kind = pipeline.EventPush
	case pipeline.EventPush, pipeline.EventPullRequest:
	default:
		return ev, usagef("--event must be push or pull_request, not %q", o.Kind)
	}
	if ev.Kind == pipeline.EventPullRequest && ev.BaseBranch == "" {
		return ev, usagef("--base is required with --event pull_request")
	}
	if ev.Kind == pipeline.EventPush && ev.BaseBranch != "" {
		return ev, usagef("--base applies only to --event pull_request")
	}
	if ev.Tag != "" && ev.Kind == pipeline.EventPullRequest {
		return ev, usagef("--tag applies only to --event push")
	}
	if ev.Tag != "" && ev.Branch != "" {
		return ev, usagef("a push is of a branch or of a tag: give --branch or --tag, not both")
	}
	if ev.Actor == "" {
		ev.Actor = os.Getenv("USER")
	}
	needBranch := ev.Branch == "" && ev.Tag == ""
	if needBranch || ev.SHA == "" {
		head, err := ReadHead(dir)
		if err != nil && needBranch {
			return ev, usagef("cannot tell the branch (%v); name it with --branch or --tag", err)
		}
		if needBranch {
			if head.Branch == "" {
				return ev, usagef("HEAD is detached; name the ref with --branch or --tag")
			}
			ev.Branch = head.Branch
		}
		if ev.SHA == "" {
			ev.SHA = head.SHA
		}
	}
	return ev, nil
}

// Select narrows a plan to the stages named with --stage. Deploy stages
// run locally only when named.
func Select(p *pipeline.Pipeline, plan pipeline.Plan, names []string) (pipeline.Plan, error) {
	known := make([]string, len(p.Stages))
	for i, s := range p.Stages {
		known[i] = s.Name
	}
	for _, n := range names {
		if !slices.Contains(known, n) {
			return plan, usagef("no stage %q; the stages are %s", n, strings.Join(known, ", "))
		}
	}
	out := plan
	out.Stages = slices.Clone(plan.Stages)
	for i := range out.Stages {
		sp := &out.Stages[i]
		if !sp.Run {
			continue
		}
		named := slices.Contains(names, sp.Stage.Name)
		switch {
		case len(names) > 0 && !named:
			sp.Run, sp.Reason = false, "skipped: not selected with --stage"
		case sp.Stage.Deploy() && !named:
			sp.Run = false
			sp.Reason = fmt.Sprintf("skipped: deploys to %s; a local run deploys only with --stage %s",
				sp.Stage.Environment, sp.Stage.Name)
		}
	}
	return out, nil
}

// Options configure a local run.
type Options struct {
	Dir      string
	Pipeline *pipeline.Pipeline
	Plan     pipeline.Plan
	Event    pipeline.Event
	// ArtifactDir is the artifact store; a temporary directory when empty,
	// removed at the end if nothing was stored in it.
	ArtifactDir string
	Observer    engine.Observer
	// Runner runs the actions; an unsandboxed local.Runner when nil. A
	// sandboxed one gets a private HOME for the run, since the user's
	// own is not visible inside.
	Runner *local.Runner
	// Integrations runs `uses:` actions; nil means the AWS integrations
	// with the developer's own credentials (the SDK's default chain).
	Integrations engine.Integrations
	// Runners are the runners of actions whose runner: names one, such
	// as "codebuild" (engine.Engine.Runners).
	Runners map[string]runner.Runner
}

// Run executes the plan in the work tree with the local runner. It
// returns the result and the artifact store it used ("" when empty).
func Run(ctx context.Context, o Options) (engine.Result, string) {
	id := newRunID()
	artifacts := o.ArtifactDir
	temporary := artifacts == ""
	if temporary {
		artifacts = filepath.Join(os.TempDir(), "stagegate-"+id, "artifacts")
	}
	r := o.Runner
	if r == nil {
		r = &local.Runner{}
	}
	run := engine.Run{
		ID:          id,
		Pipeline:    o.Pipeline,
		Plan:        o.Plan,
		Event:       o.Event,
		Workspace:   o.Dir,
		ArtifactDir: artifacts,
	}
	if r.Sandbox != nil {
		scratch, err := os.MkdirTemp("", "stagegate-"+id+"-")
		if err != nil {
			return engine.Result{RunID: id, Status: engine.StatusFailure, Reason: fmt.Sprintf("temp dir: %v", err)}, ""
		}
		defer os.RemoveAll(scratch)
		run.TempDir, run.Home = scratch, filepath.Join(scratch, "home")
	}
	integrations := o.Integrations
	if integrations == nil {
		ar := awsint.NewRunner()
		ar.HostCredentials = true
		integrations = ar
	}
	e := &engine.Engine{Runner: r, Observer: o.Observer, Integrations: integrations, Runners: o.Runners}
	res := e.Run(ctx, run)
	if temporary {
		if entries, err := os.ReadDir(artifacts); err != nil || len(entries) == 0 {
			_ = os.RemoveAll(filepath.Dir(artifacts))
			artifacts = ""
		}
	}
	return res, artifacts
}

func newRunID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
