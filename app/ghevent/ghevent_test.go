package ghevent

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/internal/githubtest"
	"github.com/stagegate/stagegate/pipeline"
)

// payload loads a vendored webhook example, edited, as go-github's type.
func payload[T any](t *testing.T, name string, edit func(p map[string]any)) *T {
	t.Helper()
	p := githubtest.LoadWebhook(name)
	if edit != nil {
		edit(p)
	}
	raw, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	return &v
}

func TestPushEvent(t *testing.T) {
	commits := func(n int) []any {
		var cs []any
		for i := 0; i < n; i++ {
			cs = append(cs, map[string]any{"id": "c", "added": []any{"new.go"}, "modified": []any{"src/a.go", "README.md"}, "removed": []any{}})
		}
		return cs
	}
	tests := []struct {
		name     string
		file     string
		edit     func(p map[string]any)
		want     pipeline.Event
		wantNeed *CompareRange
		wantSkip string
	}{
		{name: "first push of the default branch", file: "push",
			want: pipeline.Event{Kind: pipeline.EventPush, Branch: "master", SHA: "6113728f27ae82c7b1a177c8d03f9e96e0adf246", Actor: "Codertocat"}},
		{name: "new feature branch compares with the default branch", file: "push",
			edit:     func(p map[string]any) { githubtest.SetPath(p, "ref", "refs/heads/feature/x") },
			want:     pipeline.Event{Kind: pipeline.EventPush, Branch: "feature/x", SHA: "6113728f27ae82c7b1a177c8d03f9e96e0adf246", Actor: "Codertocat"},
			wantNeed: &CompareRange{Base: "master", Head: "6113728f27ae82c7b1a177c8d03f9e96e0adf246"}},
		{name: "ordinary push lists its files", file: "push", edit: func(p map[string]any) {
			githubtest.SetPath(p, "created", false)
			githubtest.SetPath(p, "before", "aaaa")
			githubtest.SetPath(p, "commits", commits(2))
		}, want: pipeline.Event{Kind: pipeline.EventPush, Branch: "master", SHA: "6113728f27ae82c7b1a177c8d03f9e96e0adf246", Actor: "Codertocat",
			ChangedFiles: []string{"new.go", "src/a.go", "README.md"}}},
		{name: "twenty commits are all listed", file: "push", edit: func(p map[string]any) {
			githubtest.SetPath(p, "created", false)
			githubtest.SetPath(p, "before", "aaaa")
			githubtest.SetPath(p, "commits", commits(20))
		}, want: pipeline.Event{Kind: pipeline.EventPush, Branch: "master", SHA: "6113728f27ae82c7b1a177c8d03f9e96e0adf246", Actor: "Codertocat",
			ChangedFiles: []string{"new.go", "src/a.go", "README.md"}}},
		{name: "2,047 commits are all listed", file: "push", edit: func(p map[string]any) {
			githubtest.SetPath(p, "created", false)
			githubtest.SetPath(p, "before", "aaaa")
			githubtest.SetPath(p, "commits", commits(2047))
		}, want: pipeline.Event{Kind: pipeline.EventPush, Branch: "master", SHA: "6113728f27ae82c7b1a177c8d03f9e96e0adf246", Actor: "Codertocat",
			ChangedFiles: []string{"new.go", "src/a.go", "README.md"}}},
		{name: "2,048 commits may be truncated", file: "push", edit: func(p map[string]any) {
			githubtest.SetPath(p, "created", false)
			githubtest.SetPath(p, "before", "aaaa")
			githubtest.SetPath(p, "commits", commits(2048))
		}, want: pipeline.Event{Kind: pipeline.EventPush, Branch: "master", SHA: "6113728f27ae82c7b1a177c8d03f9e96e0adf246", Actor: "Codertocat"},
			wantNeed: &CompareRange{Base: "aaaa", Head: "6113728f27ae82c7b1a177c8d03f9e96e0adf246"}},
		{name: "force push compares with before", file: "push", edit: func(p map[string]any) {
			githubtest.SetPath(p, "created", false)
			githubtest.SetPath(p, "forced", true)
			githubtest.SetPath(p, "before", "bbbb")
		}, want: pipeline.Event{Kind: pipeline.EventPush, Branch: "master", SHA: "6113728f27ae82c7b1a177c8d03f9e96e0adf246", Actor: "Codertocat"},
			wantNeed: &CompareRange{Base: "bbbb", Head: "6113728f27ae82c7b1a177c8d03f9e96e0adf246"}},
		{name: "tag push needs no files", file: "push.tag",
			want: pipeline.Event{Kind: pipeline.EventPush, Tag: "simple-tag", SHA: "6113728f27ae82c7b1a177c8d03f9e96e0adf246", Actor: "Codertocat"}},
		{name: "annotated tag runs the commit, not the tag object", file: "push.tag", edit: func(p map[string]any) {
			githubtest.SetPath(p, "after", "7a3e5c0000000000000000000000000000000001")
		}, want: pipeline.Event{Kind: pipeline.EventPush, Tag: "simple-tag", SHA: "6113728f27ae82c7b1a177c8d03f9e96e0adf246", Actor: "Codertocat"}},
		{name: "tag of no commit starts nothing", file: "push.tag", edit: func(p map[string]any) {
			githubtest.SetPath(p, "head_commit", nil)
		}, wantSkip: "tag simple-tag points at no commit", want: pipeline.Event{Kind: pipeline.EventPush, Tag: "simple-tag", Actor: "Codertocat"}},
		{name: "deletion starts nothing", file: "push.tag_deleted", wantSkip: "push deleted refs/tags/simple-tag",
			want: pipeline.Event{Kind: pipeline.EventPush, Tag: "simple-tag", SHA: "0000000000000000000000000000000000000000", Actor: "Codertocat"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := payload[github.PushEvent](t, tt.file, tt.edit)
			ev, need, skip := PushEvent(e)
			if skip != tt.wantSkip {
				t.Errorf("skip = %q, want %q", skip, tt.wantSkip)
			}
			if ev.Kind != tt.want.Kind || ev.Branch != tt.want.Branch || ev.Tag != tt.want.Tag || ev.SHA != tt.want.SHA ||
				ev.Actor != tt.want.Actor || !slices.Equal(ev.ChangedFiles, tt.want.ChangedFiles) || (ev.ChangedFiles == nil) != (tt.want.ChangedFiles == nil) {
				t.Errorf("event = %+v\nwant    %+v", ev, tt.want)
			}
			if (need == nil) != (tt.wantNeed == nil) || need != nil && *need != *tt.wantNeed {
				t.Errorf("compare = %+v, want %+v", need, tt.wantNeed)
			}
		})
	}
}

func TestPullRequestEvent(t *testing.T) {
	for _, action := range []string{"opened", "synchronize", "reopened"} {
		t.Run(action, func(t *testing.T) {
			e := payload[github.PullRequestEvent](t, "pull_request."+action, nil)
			ev, need, fork := PullRequestEvent(e)
			pr := e.GetPullRequest()
			want := pipeline.Event{Kind: pipeline.EventPullRequest, Branch: pr.GetHead().GetRef(), BaseBranch: pr.GetBase().GetRef(),
				SHA: pr.GetHead().GetSHA(), PR: pr.GetNumber(), Actor: e.GetSender().GetLogin()}
			if ev.Kind != want.Kind || ev.Branch != want.Branch || ev.BaseBranch != want.BaseBranch || ev.SHA != want.SHA ||
				ev.PR != want.PR || ev.Actor != want.Actor || ev.ChangedFiles != nil {
				t.Errorf("event = %+v, want %+v", ev, want)
			}
			if ev.PR == 0 || ev.SHA == "" || ev.BaseBranch == "" {
				t.Errorf("payload fields missing: %+v", ev)
			}
			if need == nil || need.Base != pr.GetBase().GetSHA() || need.Head != ev.SHA {
				t.Errorf("compare = %+v", need)
			}
			if fork {
				t.Error("a same-repository pull request counted as a fork")
			}
		})
	}
	e := payload[github.PullRequestEvent](t, "pull_request.opened", func(p map[string]any) {
		githubtest.SetPath(p, "pull_request.head.repo.full_name", "someone/Hello-World")
	})
	if _, _, fork := PullRequestEvent(e); !fork {
		t.Error("a pull request from another repository is a fork")
	}
}

func TestNeedsChangedFiles(t *testing.T) {
	stage := func(cond string) []*pipeline.Stage { return []*pipeline.Stage{{Name: "s", If: cond}} }
	tests := []struct {
		name string
		p    *pipeline.Pipeline
		kind pipeline.EventKind
		want bool
	}{
		{"no filters", &pipeline.Pipeline{Stages: stage("")}, pipeline.EventPush, false},
		{"push paths", &pipeline.Pipeline{On: &pipeline.Triggers{Push: &pipeline.PushTrigger{Paths: []string{"src/**"}}}, Stages: stage("")}, pipeline.EventPush, true},
		{"push paths on a pull request", &pipeline.Pipeline{On: &pipeline.Triggers{Push: &pipeline.PushTrigger{Paths: []string{"src/**"}}}, Stages: stage("")}, pipeline.EventPullRequest, false},
		{"pull request paths", &pipeline.Pipeline{On: &pipeline.Triggers{PullRequest: &pipeline.PullRequestTrigger{Paths: []string{"src/**"}}}, Stages: stage("")}, pipeline.EventPullRequest, true},
		{"condition reads changed files", &pipeline.Pipeline{Stages: stage(`changed("docs/**")`)}, pipeline.EventPush, true},
		{"condition on the branch", &pipeline.Pipeline{Stages: stage(`branch == "main"`)}, pipeline.EventPush, false},
	}
	for _, tt := range tests {
		if got := NeedsChangedFiles(tt.p, tt.kind); got != tt.want {
			t.Errorf("%s: NeedsChangedFiles = %v, want %v", tt.name, got, tt.want)
		}
	}
}
