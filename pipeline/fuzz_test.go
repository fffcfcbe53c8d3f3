package pipeline

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, that a failure is always
// Errors with positions, and that what it accepts holds the invariants
// the rest of stagegate relies on.
func FuzzParse(f *testing.F) {
	for _, dir := range []string{"valid", "invalid"} {
		for _, path := range testFiles(f, dir) {
			data, err := os.ReadFile(path)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	// The shapes of the bombs, just past the limits.
	for _, bomb := range []string{
		"stages: " + strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1),
		"stages:\n" + strings.Repeat("- ", MaxDepth+1) + "x\n",
		"stages: " + strings.Repeat("{a: ", MaxDepth+1) + "1" + strings.Repeat("}", MaxDepth+1),
		"env:\n" + strings.Repeat("  K: v\n", MaxKeys+1),
		"\uFEFFstages: [{name: s, actions: [{name: a, run: x}]}]\n",
		"stages:\n  - name: s\n    actions:\n      - name: a\n        run: |\n          [[[[[[\n",
	} {
		f.Add([]byte(bomb))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := Parse("fuzz.yml", data)
		if err != nil {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("error %T %v is not a non-empty Errors", err, err)
			}
			for _, e := range errs {
				if e.Line < 1 || e.Col < 1 || e.Msg == "" {
					t.Fatalf("error without position or message: %+v", e)
				}
			}
			return
		}
		checkInvariants(t, p)
	})
}

// checkInvariants checks what a successfully parsed pipeline promises.
func checkInvariants(t *testing.T, p *Pipeline) {
	t.Helper()
	if len(p.Stages) == 0 {
		t.Fatal("pipeline with no stages")
	}
	switch p.Mode {
	case ModeSuperseded, ModeQueued, ModeParallel:
	default:
		t.Fatalf("mode %q", p.Mode)
	}
	stages := make(map[string]bool)
	forms := make(map[string]bool)
	for _, s := range p.Stages {
		if checkName(s.Name) != "" || stages[s.Name] || forms[envForm(s.Name)] {
			t.Fatalf("stage name %q invalid or not unique", s.Name)
		}
		stages[s.Name], forms[envForm(s.Name)] = true, true
		if s.Pos.Line < 1 || s.Pos.Col < 1 {
			t.Fatalf("stage %q at %v", s.Name, s.Pos)
		}
		if (s.If != "") != (s.cond != nil) {
			t.Fatalf("stage %q: if %q but compiled %v", s.Name, s.If, s.cond != nil)
		}
		if s.Deploy() != (s.Approval != "") {
			t.Fatalf("stage %q: environment %q, approval %q", s.Name, s.Environment, s.Approval)
		}
		if len(s.Actions) == 0 {
			t.Fatalf("stage %q has no actions", s.Name)
		}
		actions := make(map[string]bool)
		for _, a := range append(append([]*Action{}, s.Actions...), s.OnFailure...) {
			if checkName(a.Name) != "" || actions[a.Name] || (strings.TrimSpace(a.Run) == "") == (a.Uses == "") {
				t.Fatalf("stage %q: action %q invalid or not unique", s.Name, a.Name)
			}
			actions[a.Name] = true
			if a.Pos.Line < 1 || a.Pos.Col < 1 {
				t.Fatalf("action %q at %v", a.Name, a.Pos)
			}
			if a.Timeout < 0 || a.Timeout > Duration(maxTimeout) || a.Retries < 0 || a.Retries > 10 || a.RunOrder < 0 || a.RunOrder > 999 {
				t.Fatalf("action %q out of range: %+v", a.Name, a)
			}
		}
	}
}

// dump prints a pipeline with its positions, for test failures.
func dump(p *Pipeline) string {
	var b strings.Builder
	fmt.Fprintf(&b, "name=%q file=%q mode=%q env=%v pass_env=%v secrets=%v\n", p.Name, p.File, p.Mode, p.Env, p.PassEnv, p.Secrets)
	if p.On != nil {
		fmt.Fprintf(&b, "on: push=%+v pull_request=%+v\n", p.On.Push, p.On.PullRequest)
	}
	for _, s := range p.Stages {
		fmt.Fprintf(&b, "stage %+v\n", *s)
		for _, a := range append(append([]*Action{}, s.Actions...), s.OnFailure...) {
			fmt.Fprintf(&b, "  action %+v\n", *a)
		}
	}
	return b.String()
}

// FuzzCondition checks that compiling any `if:` never panics, and that
// whatever compiles evaluates, within its budgets, to a bool or an error.
func FuzzCondition(f *testing.F) {
	for _, seed := range []string{
		`branch == "main"`,
		`changed("src/**", "!**/*.md") && pr > 0`,
		`any(changed_files, # matches "^docs/")`,
		`let r = 1..3000; all(r, all(r, true))`,
		`let a = "ab"; let b = a + a; b + b == ""`,
		`repeat(repeat("ab", 100000), 100000) == ""`,
		`map(1..10, #) == []`,
		`get(["x"], 0) + get(["y"], 0) == "xy"`,
		`len(1..1000000000) > 0`,
		`(((((pr))))) == 1`,
	} {
		f.Add(seed)
	}
	ev := Event{Kind: EventPullRequest, Branch: "feature/x", BaseBranch: "main", PR: 7, ChangedFiles: []string{"src/a.go", "docs/b.md"}}
	f.Fuzz(func(t *testing.T, src string) {
		prog, err := compileCondition(src)
		if err != nil {
			return
		}
		_, _ = evalCondition(prog, ev, newMeter())
	})
}
