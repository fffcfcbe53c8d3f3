package pipeline

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func stageIf(name, cond string) *Stage {
	return &Stage{Name: name, If: cond, Actions: []*Action{{Name: "a", Run: "true"}}}
}

func pipelineOn(on *Triggers, stages ...*Stage) *Pipeline {
	if len(stages) == 0 {
		stages = []*Stage{stageIf("build", "")}
	}
	return &Pipeline{Name: "test", On: on, Stages: stages}
}

func pushTo(branch string, files ...string) Event {
	return Event{Kind: EventPush, Branch: branch, SHA: "abc123", Actor: "octocat", ChangedFiles: files}
}

func pushOfTag(tag string) Event {
	return Event{Kind: EventPush, Tag: tag, SHA: "abc123", Actor: "octocat"}
}

func prInto(n int, head, base string, files ...string) Event {
	return Event{Kind: EventPullRequest, PR: n, Branch: head, BaseBranch: base, SHA: "abc123", Actor: "octocat", ChangedFiles: files}
}

// withChanged sets ChangedFiles exactly, since the helpers' variadic files
// cannot tell an empty list from an unknown one.
func withChanged(ev Event, files []string) Event {
	ev.ChangedFiles = files
	return ev
}

func TestDecideTrigger(t *testing.T) {
	releases := &Triggers{Push: &PushTrigger{Branches: []string{"main", "release/**", "!release/old"}}}
	const releasesList = "on.push.branches [main, release/**, !release/old]"
	tagsOnly := &Triggers{Push: &PushTrigger{Tags: []string{"v*"}}}
	branchesOnly := &Triggers{Push: &PushTrigger{Branches: []string{"main"}}}
	srcNoDocs := []string{"src/**", "!**/*.md"}
	const srcNoDocsList = "on.push.paths [src/**, !**/*.md]"
	prToMain := &Triggers{PullRequest: &PullRequestTrigger{Branches: []string{"main"}}}

	tests := []struct {
		name   string
		on     *Triggers
		ev     Event
		want   bool
		reason string
	}{
		// No on section.
		{
			name: "no on, branch push", on: nil, ev: pushTo("feature/x"), want: true,
			reason: "push to branch feature/x: the pipeline has no on section, so every push and pull request starts a run",
		},
		{
			name: "no on, tag push", on: nil, ev: pushOfTag("v1.0.0"), want: true,
			reason: "push of tag v1.0.0: the pipeline has no on section, so every push and pull request starts a run",
		},
		{
			name: "no on, pull request", on: nil, ev: prInto(12, "feature/x", "dev"), want: true,
			reason: "pull request #12 (feature/x → dev): the pipeline has no on section, so every push and pull request starts a run",
		},
		{
			name: "no on, no changed files", on: nil, ev: withChanged(pushTo("main"), []string{}), want: true,
			reason: "push to branch main: the pipeline has no on section, so every push and pull request starts a run",
		},
		{
			name: "push without a ref", on: branchesOnly, ev: Event{Kind: EventPush}, want: false,
			reason: "no run: push without a branch or tag does not match on.push.branches [main]",
		},
		{
			name: "unknown event kind", on: nil, ev: Event{Kind: "release", Tag: "v1"}, want: false,
			reason: `no run: "release" events do not trigger pipelines`,
		},

		// Which kinds of event the on section lists.
		{
			name: "push without on.push", on: prToMain, ev: pushTo("main"), want: false,
			reason: "no run: pushes do not trigger this pipeline (no on.push)",
		},
		{
			name: "pull request without on.pull_request", on: branchesOnly, ev: prInto(12, "feature/x", "main"), want: false,
			reason: "no run: pull requests do not trigger this pipeline (no on.pull_request)",
		},
		{
			name: "empty on section", on: &Triggers{}, ev: pushTo("main"), want: false,
			reason: "no run: pushes do not trigger this pipeline (no on.push)",
		},

		// Branch globs: order matters, the last matching glob wins.
		{
			name: "branch listed", on: releases, ev: pushTo("main"), want: true,
			reason: "push to branch main matches " + releasesList,
		},
		{
			name: "** crosses slashes", on: releases, ev: pushTo("release/1.0/x"), want: true,
			reason: "push to branch release/1.0/x matches " + releasesList,
		},
		{
			name: "later exclude wins", on: releases, ev: pushTo("release/old"), want: false,
			reason: "no run: push to branch release/old does not match " + releasesList,
		},
		{
			name: "branch not listed", on: releases, ev: pushTo("feature/x"), want: false,
			reason: "no run: push to branch feature/x does not match " + releasesList,
		},
		{
			name:   "later include wins over earlier exclude",
			on:     &Triggers{Push: &PushTrigger{Branches: []string{"!release/old", "release/**"}}},
			ev:     pushTo("release/old"),
			want:   true,
			reason: "push to branch release/old matches on.push.branches [!release/old, release/**]",
		},
		{
			name:   "* does not cross slashes",
			on:     &Triggers{Push: &PushTrigger{Branches: []string{"feature/*"}}},
			ev:     pushTo("feature/a/b"),
			want:   false,
			reason: "no run: push to branch feature/a/b does not match on.push.branches [feature/*]",
		},
		{
			name: "* within a segment",
			on:   &Triggers{Push: &PushTrigger{Branches: []string{"feature/*"}}},
			ev:   pushTo("feature/a"), want: true,
			reason: "push to branch feature/a matches on.push.branches [feature/*]",
		},

		// Branches versus tags, as in GitHub Actions.
		{
			name: "neither branches nor tags, branch", on: &Triggers{Push: &PushTrigger{}}, ev: pushTo("anything/goes"), want: true,
			reason: "push to branch anything/goes matches on.push (no branches or tags filter)",
		},
		{
			name: "neither branches nor tags, tag", on: &Triggers{Push: &PushTrigger{}}, ev: pushOfTag("v1"), want: true,
			reason: "push of tag v1 matches on.push (no branches or tags filter)",
		},
		{
			name: "tags only, tag matches", on: tagsOnly, ev: pushOfTag("v1.2.0"), want: true,
			reason: "push of tag v1.2.0 matches on.push.tags [v*]",
		},
		{
			name: "tags only, tag does not match", on: tagsOnly, ev: pushOfTag("nightly"), want: false,
			reason: "no run: push of tag nightly does not match on.push.tags [v*]",
		},
		{
			name: "tags only, branch push", on: tagsOnly, ev: pushTo("main"), want: false,
			reason: "no run: push to branch main: on.push.tags is set but on.push.branches is not, so branch pushes do not trigger this pipeline",
		},
		{
			name: "branches only, tag push", on: branchesOnly, ev: pushOfTag("v1"), want: false,
			reason: "no run: push of tag v1: on.push.branches is set but on.push.tags is not, so tag pushes do not trigger this pipeline",
		},
		{
			name: "both, tag checked against tags only",
			on:   &Triggers{Push: &PushTrigger{Branches: []string{"**"}, Tags: []string{"v1.*"}}},
			ev:   pushOfTag("v2.0"), want: false,
			reason: "no run: push of tag v2.0 does not match on.push.tags [v1.*]",
		},
		{
			name: "both, branch checked against branches only",
			on:   &Triggers{Push: &PushTrigger{Branches: []string{"main"}, Tags: []string{"**"}}},
			ev:   pushTo("dev"), want: false,
			reason: "no run: push to branch dev does not match on.push.branches [main]",
		},
		{
			name: "empty branches list counts as unset",
			on:   &Triggers{Push: &PushTrigger{Branches: []string{}}},
			ev:   pushOfTag("v1"), want: true,
			reason: "push of tag v1 matches on.push (no branches or tags filter)",
		},

		// Lists of only excludes mean "everything except".
		{
			name: "negative-only branches, other branch",
			on:   &Triggers{Push: &PushTrigger{Branches: []string{"!gh-pages", "!dependabot/**"}}},
			ev:   pushTo("feature/x"), want: true,
			reason: "push to branch feature/x matches on.push.branches [!gh-pages, !dependabot/**]",
		},
		{
			name: "negative-only branches, excluded branch",
			on:   &Triggers{Push: &PushTrigger{Branches: []string{"!gh-pages", "!dependabot/**"}}},
			ev:   pushTo("dependabot/npm/foo"), want: false,
			reason: "no run: push to branch dependabot/npm/foo does not match on.push.branches [!gh-pages, !dependabot/**]",
		},
		{
			name: "negative-only branches still exclude tags",
			on:   &Triggers{Push: &PushTrigger{Branches: []string{"!gh-pages"}}},
			ev:   pushOfTag("v1"), want: false,
			reason: "no run: push of tag v1: on.push.branches is set but on.push.tags is not, so tag pushes do not trigger this pipeline",
		},
		{
			name: "negative-only tags",
			on:   &Triggers{Push: &PushTrigger{Tags: []string{"!nightly-*"}}},
			ev:   pushOfTag("v1"), want: true,
			reason: "push of tag v1 matches on.push.tags [!nightly-*]",
		},
		{
			name: "negative-only paths, only excluded files",
			on:   &Triggers{Push: &PushTrigger{Paths: []string{"!docs/**"}}},
			ev:   pushTo("main", "docs/a.md"), want: false,
			reason: "no run: no changed file matches on.push.paths [!docs/**]",
		},
		{
			name: "negative-only paths, another file too",
			on:   &Triggers{Push: &PushTrigger{Paths: []string{"!docs/**"}}},
			ev:   pushTo("main", "docs/a.md", "go.mod"), want: true,
			reason: "push to branch main matches on.push (no branches or tags filter); changed file go.mod matches on.push.paths [!docs/**]",
		},

		// Pull requests filter on their base branch.
		{
			name: "pull request into main", on: prToMain, ev: prInto(12, "feature/x", "main"), want: true,
			reason: "pull request #12 (feature/x → main): base branch main matches on.pull_request.branches [main]",
		},
		{
			name: "pull request into dev", on: prToMain, ev: prInto(12, "feature/x", "dev"), want: false,
			reason: "no run: pull request #12 (feature/x → dev): base branch dev does not match on.pull_request.branches [main]",
		},
		{
			name: "head branch is not what is filtered", on: prToMain, ev: prInto(3, "main", "dev"), want: false,
			reason: "no run: pull request #3 (main → dev): base branch dev does not match on.pull_request.branches [main]",
		},
		{
			name: "pull request without branches filter",
			on:   &Triggers{PullRequest: &PullRequestTrigger{}},
			ev:   prInto(7, "a", "b"), want: true,
			reason: "pull request #7 (a → b) matches on.pull_request (no branches filter)",
		},
		{
			name: "pull request base glob",
			on:   &Triggers{PullRequest: &PullRequestTrigger{Branches: []string{"release/**"}}},
			ev:   prInto(8, "fix", "release/2.x"), want: true,
			reason: "pull request #8 (fix → release/2.x): base branch release/2.x matches on.pull_request.branches [release/**]",
		},

		// Paths: at least one changed file must match; per file the last
		// matching glob wins.
		{
			name: "source change",
			on:   &Triggers{Push: &PushTrigger{Branches: []string{"main"}, Paths: srcNoDocs}},
			ev:   pushTo("main", "README.md", "src/app/main.go"), want: true,
			reason: "push to branch main matches on.push.branches [main]; changed file src/app/main.go matches " + srcNoDocsList,
		},
		{
			name: "only markdown changed",
			on:   &Triggers{Push: &PushTrigger{Branches: []string{"main"}, Paths: srcNoDocs}},
			ev:   pushTo("main", "src/README.md", "docs/guide.md"), want: false,
			reason: "no run: no changed file matches " + srcNoDocsList,
		},
		{
			name: "changed files unknown",
			on:   &Triggers{Push: &PushTrigger{Branches: []string{"main"}, Paths: srcNoDocs}},
			ev:   withChanged(pushTo("main"), nil), want: true,
			reason: "push to branch main matches on.push.branches [main]; changed files are unknown, so " + srcNoDocsList + " was not applied",
		},
		{
			name: "nothing changed",
			on:   &Triggers{Push: &PushTrigger{Branches: []string{"main"}, Paths: srcNoDocs}},
			ev:   withChanged(pushTo("main"), []string{}), want: false,
			reason: "no run: no file changed, so nothing matches " + srcNoDocsList,
		},
		{
			name: "branch mismatch reported before paths",
			on:   &Triggers{Push: &PushTrigger{Branches: []string{"main"}, Paths: srcNoDocs}},
			ev:   pushTo("dev", "docs/a.md"), want: false,
			reason: "no run: push to branch dev does not match on.push.branches [main]",
		},
		{
			name: "pull request paths",
			on:   &Triggers{PullRequest: &PullRequestTrigger{Paths: []string{"src/**"}}},
			ev:   prInto(12, "feature/x", "main", "docs/a.md"), want: false,
			reason: "no run: no changed file matches on.pull_request.paths [src/**]",
		},
		{
			name: "pull request paths unknown",
			on:   &Triggers{PullRequest: &PullRequestTrigger{Paths: []string{"src/**"}}},
			ev:   prInto(12, "feature/x", "main"), want: true,
			reason: "pull request #12 (feature/x → main) matches on.pull_request (no branches filter); changed files are unknown, so on.pull_request.paths [src/**] was not applied",
		},
		{
			name: "tag pushes ignore paths",
			on:   &Triggers{Push: &PushTrigger{Tags: []string{"v*"}, Paths: []string{"src/**"}}},
			ev:   withChanged(pushOfTag("v1"), []string{}), want: true,
			reason: "push of tag v1 matches on.push.tags [v*]; on.push.paths does not apply to tag pushes",
		},

		// A Pipeline built in code skips the parser's glob validation.
		{
			name: "invalid branch glob",
			on:   &Triggers{Push: &PushTrigger{Branches: []string{"[main"}}},
			ev:   pushTo("main"), want: false,
			reason: `no run: on.push.branches has an invalid glob "[main"`,
		},
		{
			name: "invalid pull request glob",
			on:   &Triggers{PullRequest: &PullRequestTrigger{Branches: []string{"main", "{a"}}},
			ev:   prInto(1, "a", "main"), want: false,
			reason: `no run: on.pull_request.branches has an invalid glob "{a"`,
		},
		{
			name: "invalid path glob",
			on:   &Triggers{Push: &PushTrigger{Paths: []string{"src/**", "!{a"}}},
			ev:   pushTo("main", "src/a.go"), want: false,
			reason: `no run: on.push.paths has an invalid glob "!{a"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := pipelineOn(tt.on, stageIf("build", ""), stageIf("deploy", `branch == "main"`))
			got := Decide(p, tt.ev)
			if got.Triggered != tt.want || got.Reason != tt.reason {
				t.Errorf("Decide() = %v, %q\nwant        %v, %q", got.Triggered, got.Reason, tt.want, tt.reason)
			}
			if len(got.Stages) != len(p.Stages) {
				t.Fatalf("got %d stage plans, want %d", len(got.Stages), len(p.Stages))
			}
			if tt.want {
				return
			}
			wantStage := "not triggered: " + strings.TrimPrefix(tt.reason, "no run: ")
			for i, sp := range got.Stages {
				if sp.Stage != p.Stages[i] || sp.Run || sp.Reason != wantStage {
					t.Errorf("stage %d = {%s %v %q}, want {%s false %q}", i, sp.Stage.Name, sp.Run, sp.Reason, p.Stages[i].Name, wantStage)
				}
			}
		})
	}
}

func TestDecideStages(t *testing.T) {
	tests := []struct {
		name   string
		cond   string
		ev     Event
		run    bool
		reason string
		// prefix compares only the start of the reason, for error
		// messages whose wording belongs to expr.
		prefix bool
		failed bool
	}{
		{name: "no if", cond: "", ev: pushTo("feature/x"), run: true, reason: ""},
		{name: "blank if", cond: " \n", ev: pushTo("feature/x"), run: true, reason: ""},
		{
			name: "if true", cond: `branch == "main"`, ev: pushTo("main"), run: true,
			reason: "if `branch == \"main\"` was true on branch main",
		},
		{
			name: "if false on branch", cond: `branch == "main"`, ev: pushTo("feature/x"), run: false,
			reason: "skipped: if `branch == \"main\"` was false on branch feature/x",
		},
		{
			name: "if false on tag", cond: `branch == "main"`, ev: pushOfTag("v1"), run: false,
			reason: "skipped: if `branch == \"main\"` was false on tag v1",
		},
		{
			name: "if false on pull request", cond: `event == "push"`, ev: prInto(12, "feature/x", "main"), run: false,
			reason: "skipped: if `event == \"push\"` was false on pull request #12 (feature/x → main)",
		},
		{
			name: "tag condition", cond: `tag startsWith "v"`, ev: pushOfTag("v1.0"), run: true,
			reason: "if `tag startsWith \"v\"` was true on tag v1.0",
		},
		{
			name: "pull request fields", cond: `pr == 12 && base_branch == "main" && actor == "octocat"`,
			ev: prInto(12, "feature/x", "main"), run: true,
			reason: "if `pr == 12 && base_branch == \"main\" && actor == \"octocat\"` was true on pull request #12 (feature/x → main)",
		},
		{
			name: "multi-line if shown on one line", cond: "branch == \"main\"\n  && event == \"push\"\n",
			ev: pushTo("dev"), run: false,
			reason: "skipped: if `branch == \"main\" && event == \"push\"` was false on branch dev",
		},
		{
			name: "changed matches", cond: `changed("docs/**")`, ev: pushTo("main", "docs/guide.md"), run: true,
			reason: "if `changed(\"docs/**\")` was true on branch main",
		},
		{
			name: "changed does not match", cond: `changed("docs/**")`, ev: pushTo("main", "src/a.go"), run: false,
			reason: "skipped: if `changed(\"docs/**\")` was false on branch main",
		},
		{
			name: "changed with unknown files", cond: `changed("docs/**")`, ev: withChanged(pushTo("main"), nil), run: true,
			reason: "if `changed(\"docs/**\")` was true on branch main",
		},
		{
			name: "changed with nothing changed", cond: `changed("docs/**")`, ev: withChanged(pushTo("main"), []string{}), run: false,
			reason: "skipped: if `changed(\"docs/**\")` was false on branch main",
		},
		{
			name: "changed with exclude", cond: `changed("docs/**", "!docs/drafts/**")`, ev: pushTo("main", "docs/drafts/a.md"), run: false,
			reason: "skipped: if `changed(\"docs/**\", \"!docs/drafts/**\")` was false on branch main",
		},
		{
			name: "runtime error", cond: `changed_files[0] == "go.mod"`, ev: withChanged(pushTo("main"), []string{}), run: false,
			reason: "failed: if `changed_files[0] == \"go.mod\"` could not be evaluated on branch main: ", prefix: true, failed: true,
		},
		{
			name: "unknown name", cond: `nosuch == 1`, ev: pushTo("main"), run: false,
			reason: "failed: if `nosuch == 1` is invalid: ", prefix: true, failed: true,
		},
		{
			name: "not a bool", cond: `pr + 1`, ev: pushTo("main"), run: false,
			reason: "failed: if `pr + 1` is invalid: ", prefix: true, failed: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := stageIf("deploy", tt.cond)
			got := Decide(pipelineOn(nil, s), tt.ev)
			if !got.Triggered {
				t.Fatalf("not triggered: %s", got.Reason)
			}
			sp := got.Stages[0]
			ok := sp.Reason == tt.reason
			if tt.prefix {
				// The error must be named, on one line.
				ok = strings.HasPrefix(sp.Reason, tt.reason) && len(sp.Reason) > len(tt.reason) && !strings.Contains(sp.Reason, "\n")
			}
			if sp.Stage != s || sp.Run != tt.run || sp.Failed != tt.failed || !ok {
				t.Errorf("stage plan = {%v %v %q}, want {%v %v %q} (prefix %v)", sp.Run, sp.Failed, sp.Reason, tt.run, tt.failed, tt.reason, tt.prefix)
			}
		})
	}
}

func TestDecideErrorReasons(t *testing.T) {
	// Pin the whole reason once, so a change in how errors are trimmed
	// shows up; the message itself is expr's.
	ev := withChanged(pushTo("main"), []string{})
	got := Decide(pipelineOn(nil,
		stageIf("compile", `nosuch == 1`),
		stageIf("runtime", `changed_files[0] == "go.mod"`),
	), ev)
	want := []string{
		"failed: if `nosuch == 1` is invalid: unknown name nosuch (1:1)",
		"failed: if `changed_files[0] == \"go.mod\"` could not be evaluated on branch main: index out of range: 0 (array length is 0) (1:14)",
	}
	for i, w := range want {
		if got.Stages[i].Reason != w {
			t.Errorf("stage %d reason = %q\nwant             %q", i, got.Stages[i].Reason, w)
		}
	}
}

func TestDecideUsesPrecompiledCondition(t *testing.T) {
	prog, err := compileCondition(`event == "pull_request"`)
	if err != nil {
		t.Fatal(err)
	}
	// If and cond disagree on purpose: the parser's program is what runs,
	// and If is only the text shown.
	s := stageIf("deploy", `true`)
	s.cond = prog
	got := Decide(pipelineOn(nil, s), pushTo("main"))
	want := "skipped: if `true` was false on branch main"
	if sp := got.Stages[0]; sp.Run || sp.Reason != want {
		t.Errorf("stage plan = {%v %q}, want {false %q}", sp.Run, sp.Reason, want)
	}

	noSource := stageIf("deploy", "")
	noSource.cond = prog
	got = Decide(pipelineOn(nil, noSource), prInto(1, "a", "main"))
	want = "if `(compiled condition)` was true on pull request #1 (a → main)"
	if sp := got.Stages[0]; !sp.Run || sp.Reason != want {
		t.Errorf("stage plan = {%v %q}, want {true %q}", sp.Run, sp.Reason, want)
	}
}

func TestDecideStagesInOrder(t *testing.T) {
	p := pipelineOn(&Triggers{Push: &PushTrigger{Branches: []string{"**"}}},
		stageIf("build", ""),
		stageIf("docs", `changed("docs/**")`),
		stageIf("staging", `branch == "main"`),
		stageIf("production", `tag != ""`),
	)
	got := Decide(p, pushTo("main", "src/a.go"))
	want := []StagePlan{
		{Stage: p.Stages[0], Run: true},
		{Stage: p.Stages[1], Run: false, Reason: "skipped: if `changed(\"docs/**\")` was false on branch main"},
		{Stage: p.Stages[2], Run: true, Reason: "if `branch == \"main\"` was true on branch main"},
		{Stage: p.Stages[3], Run: false, Reason: "skipped: if `tag != \"\"` was false on branch main"},
	}
	if !got.Triggered || !reflect.DeepEqual(got.Stages, want) {
		t.Errorf("Decide() = %+v\nwant stages %+v", got, want)
	}
}

func TestDecideIsPure(t *testing.T) {
	p := pipelineOn(&Triggers{Push: &PushTrigger{Branches: []string{"!gh-pages"}, Paths: []string{"!docs/**"}}},
		stageIf("build", `branch == "main"`),
	)
	globs := append([]string(nil), p.On.Push.Branches...)
	ev := pushTo("main", "src/a.go")
	first := Decide(p, ev)
	second := Decide(p, ev)
	if !reflect.DeepEqual(first, second) {
		t.Errorf("Decide is not deterministic:\n%+v\n%+v", first, second)
	}
	if p.Stages[0].cond != nil {
		t.Error("Decide cached a compiled condition on the Stage")
	}
	if !reflect.DeepEqual(p.On.Push.Branches, globs) {
		t.Errorf("Decide changed on.push.branches to %q", p.On.Push.Branches)
	}
}

func TestDecideEdgeCases(t *testing.T) {
	if got := Decide(nil, pushTo("main")); got.Triggered || got.Reason != "no run: no pipeline" {
		t.Errorf("Decide(nil) = %+v", got)
	}
	got := Decide(&Pipeline{}, pushTo("main"))
	if !got.Triggered || got.Stages == nil || len(got.Stages) != 0 {
		t.Errorf("Decide(no stages) = %+v, want triggered with an empty, non-nil Stages", got)
	}
}

func ExampleDecide() {
	p := &Pipeline{
		On: &Triggers{
			Push:        &PushTrigger{Branches: []string{"main", "release/**"}},
			PullRequest: &PullRequestTrigger{Branches: []string{"main"}},
		},
		Stages: []*Stage{
			{Name: "test"},
			{Name: "deploy", If: `branch == "main"`},
		},
	}
	for _, ev := range []Event{
		{Kind: EventPush, Branch: "main"},
		{Kind: EventPullRequest, PR: 12, Branch: "feature/x", BaseBranch: "main"},
		{Kind: EventPush, Branch: "feature/x"},
	} {
		plan := Decide(p, ev)
		fmt.Println(plan.Reason)
		for _, sp := range plan.Stages {
			line := fmt.Sprintf("  %s: run=%v", sp.Stage.Name, sp.Run)
			if sp.Reason != "" {
				line += " " + sp.Reason
			}
			fmt.Println(line)
		}
	}
	// Output:
	// push to branch main matches on.push.branches [main, release/**]
	//   test: run=true
	//   deploy: run=true if `branch == "main"` was true on branch main
	// pull request #12 (feature/x → main): base branch main matches on.pull_request.branches [main]
	//   test: run=true
	//   deploy: run=false skipped: if `branch == "main"` was false on pull request #12 (feature/x → main)
	// no run: push to branch feature/x does not match on.push.branches [main, release/**]
	//   test: run=false not triggered: push to branch feature/x does not match on.push.branches [main, release/**]
	//   deploy: run=false not triggered: push to branch feature/x does not match on.push.branches [main, release/**]
}
