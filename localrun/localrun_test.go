package localrun

import (
	"errors"
	"strings"
	"testing"

	"github.com/stagegate/stagegate/pipeline"
)

func TestBuildEvent(t *testing.T) {
	repo := newRepo(t)
	head, err := ReadHead(repo)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		dir     string
		opts    EventOptions
		want    pipeline.Event
		wantErr string
	}{
		{name: "push of the checked-out branch", dir: repo, opts: EventOptions{Actor: "me"},
			want: pipeline.Event{Kind: pipeline.EventPush, Branch: "main", SHA: head.SHA, Actor: "me"}},
		{name: "explicit branch keeps HEAD's sha", dir: repo, opts: EventOptions{Branch: "release/1", Actor: "me"},
			want: pipeline.Event{Kind: pipeline.EventPush, Branch: "release/1", SHA: head.SHA, Actor: "me"}},
		{name: "tag push", dir: repo, opts: EventOptions{Tag: "v1.0.0", SHA: "abc", Actor: "me"},
			want: pipeline.Event{Kind: pipeline.EventPush, Tag: "v1.0.0", SHA: "abc", Actor: "me"}},
		{name: "pull request", dir: repo, opts: EventOptions{Kind: "pull_request", Base: "main", Branch: "feat", PR: 4, Actor: "me", Changed: []string{"a.go"}},
			want: pipeline.Event{Kind: pipeline.EventPullRequest, Branch: "feat", BaseBranch: "main", SHA: head.SHA, PR: 4, Actor: "me", ChangedFiles: []string{"a.go"}}},
		{name: "outside a repository with flags", dir: t.TempDir(), opts: EventOptions{Branch: "main", Actor: "me"},
			want: pipeline.Event{Kind: pipeline.EventPush, Branch: "main", Actor: "me"}},
		{name: "outside a repository without flags", dir: t.TempDir(), opts: EventOptions{}, wantErr: "name it with --branch or --tag"},
		{name: "unknown event", dir: repo, opts: EventOptions{Kind: "release"}, wantErr: `--event must be push or pull_request, not "release"`},
		{name: "pull request without base", dir: repo, opts: EventOptions{Kind: "pull_request"}, wantErr: "--base is required"},
		{name: "base on a push", dir: repo, opts: EventOptions{Base: "main"}, wantErr: "--base applies only"},
		{name: "tag and branch", dir: repo, opts: EventOptions{Tag: "v1", Branch: "main"}, wantErr: "not both"},
		{name: "tag on a pull request", dir: repo, opts: EventOptions{Kind: "pull_request", Base: "main", Tag: "v1"}, wantErr: "--tag applies only"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := BuildEvent(tt.dir, tt.opts)
			if tt.wantErr != "" {
				var ue *UsageError
				if !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want usage error containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Kind != tt.want.Kind || got.Branch != tt.want.Branch || got.Tag != tt.want.Tag ||
				got.BaseBranch != tt.want.BaseBranch || got.SHA != tt.want.SHA || got.PR != tt.want.PR ||
				got.Actor != tt.want.Actor || strings.Join(got.ChangedFiles, ",") != strings.Join(tt.want.ChangedFiles, ",") {
				t.Errorf("BuildEvent = %+v\nwant          %+v", got, tt.want)
			}
			if (got.ChangedFiles == nil) != (tt.want.ChangedFiles == nil) {
				t.Errorf("changed files unknown = %v, want %v", got.ChangedFiles == nil, tt.want.ChangedFiles == nil)
			}
		})
	}
}

func TestSelect(t *testing.T) {
	p := &pipeline.Pipeline{Stages: []*pipeline.Stage{
		{Name: "build"}, {Name: "test"}, {Name: "ship", Environment: "production"}, {Name: "docs"},
	}}
	plan := pipeline.Plan{Triggered: true, Stages: []pipeline.StagePlan{
		{Stage: p.Stages[0], Run: true}, {Stage: p.Stages[1], Run: true},
		{Stage: p.Stages[2], Run: true}, {Stage: p.Stages[3], Run: false, Reason: "skipped: if false"},
	}}
	tests := []struct {
		name    string
		names   []string
		want    []string // "run" or the reason, per stage
		wantErr string
	}{
		{name: "all but deploys", want: []string{"run", "run",
			"skipped: deploys to production; a local run deploys only with --stage ship", "skipped: if false"}},
		{name: "only named", names: []string{"test"}, want: []string{"skipped: not selected with --stage", "run",
			"skipped: not selected with --stage", "skipped: if false"}},
		{name: "named deploy runs", names: []string{"build", "ship"}, want: []string{"run", "skipped: not selected with --stage", "run", "skipped: if false"}},
		{name: "a named stage keeps its own reason", names: []string{"docs"}, want: []string{"skipped: not selected with --stage",
			"skipped: not selected with --stage", "skipped: not selected with --stage", "skipped: if false"}},
		{name: "unknown name", names: []string{"lint"}, wantErr: `no stage "lint"; the stages are build, test, ship, docs`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Select(p, plan, tt.names)
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Stages) != len(tt.want) {
				t.Fatalf("%d stage plans, want %d", len(got.Stages), len(tt.want))
			}
			for i, sp := range got.Stages {
				g := "run"
				if !sp.Run {
					g = sp.Reason
				}
				if g != tt.want[i] {
					t.Errorf("stage %s: %q, want %q", sp.Stage.Name, g, tt.want[i])
				}
			}
			if !plan.Stages[0].Run || !plan.Stages[2].Run {
				t.Error("Select changed the plan it was given")
			}
		})
	}
}
