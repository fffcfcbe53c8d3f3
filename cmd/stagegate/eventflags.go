package main

import (
	"errors"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/stagegate/stagegate/localrun"
	"github.com/stagegate/stagegate/pipeline"
)

// eventFlags are shared by run and explain: where the pipeline is and
// which event to simulate.
type eventFlags struct {
	dir     string
	file    string
	opts    localrun.EventOptions
	changed []string
}

func (f *eventFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.dir, "dir", ".", "the work tree to run in")
	fs.StringVar(&f.file, "file", "", "the pipeline file (default DIR/"+pipeline.DefaultFile+")")
	fs.StringVar(&f.opts.Kind, "event", "push", "the event to simulate: push or pull_request")
	fs.StringVar(&f.opts.Branch, "branch", "", "the pushed branch, or the pull request's head branch (default: the checked-out branch)")
	fs.StringVar(&f.opts.Base, "base", "", "the pull request's base branch")
	fs.StringVar(&f.opts.Tag, "tag", "", "a pushed tag")
	fs.StringVar(&f.opts.SHA, "sha", "", "the commit (default: HEAD)")
	fs.IntVar(&f.opts.PR, "pr", 0, "the pull request number")
	fs.StringVar(&f.opts.Actor, "actor", "", "who triggered the event (default: $USER)")
	fs.StringArrayVar(&f.changed, "changed", nil, "a changed file, for path filters and changed() (repeatable; default: unknown)")
}

// load reads the pipeline and builds the event and its plan. Every
// error it returns is a usage or config error.
func (f *eventFlags) load(fs *pflag.FlagSet) (*pipeline.Pipeline, pipeline.Event, pipeline.Plan, error) {
	file := f.file
	if file == "" {
		file = filepath.Join(f.dir, pipeline.DefaultFile)
	}
	p, err := pipeline.ParseFile(file)
	if err != nil {
		return nil, pipeline.Event{}, pipeline.Plan{}, configError(err)
	}
	if p.Name == "" {
		if abs, err := filepath.Abs(f.dir); err == nil {
			p.Name = filepath.Base(abs)
		}
	}
	opts := f.opts
	if fs.Changed("changed") {
		opts.Changed = append([]string{}, f.changed...)
	}
	ev, err := localrun.BuildEvent(f.dir, opts)
	if err != nil {
		return nil, ev, pipeline.Plan{}, &exitError{code: exitUsage, err: err}
	}
	return p, ev, pipeline.Decide(p, ev), nil
}

// configError prints every error of an invalid pipeline file on its own
// line, file:line:col first, which editors and terminals link to.
func configError(err error) error {
	var errs pipeline.Errors
	if errors.As(err, &errs) {
		return &exitError{code: exitUsage, err: errors.New(errs.Error())}
	}
	return &exitError{code: exitUsage, err: err}
}
