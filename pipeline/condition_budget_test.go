package pipeline

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func fileWithIf(cond string) string {
	return fmt.Sprintf("stages:\n  - name: s\n    if: %q\n    actions: [{ name: a, run: 'true' }]\n", cond)
}

// What the planner would refuse to compile, validate refuses: functions
// that build values of any size, and expressions too long or too large.
func TestConditionRefusedAtValidate(t *testing.T) {
	tests := []struct {
		name, cond, want string
	}{
		{"repeat bomb of issue 8", `repeat(repeat("ab", 100000), 100000) == ""`, "repeat"},
		{"join", `join(changed_files, ",") == ""`, "join"},
		{"replace", `replace(branch, "", branch) == ""`, "replace"},
		{"split", `len(split(branch, "")) > 0`, "split"},
		{"string of a range", `len(string(1..10)) > 0`, "string"},
		{"map", `len(map(1..10, # * 2)) > 0`, "map"},
		{"reduce", `reduce(1..10, #acc + #acc, "x") == ""`, "reduce"},
		{"sortBy", `len(sortBy(changed_files, #)) > 0`, "sortBy"},
		{"toJSON", `toJSON(changed_files) == ""`, "toJSON"},
		{"now", `now().Year() > 2000`, "now"},
		{"too many nodes", strings.Repeat("pr + ", 600) + "pr > 0", "nodes"},
		{"too long", `branch == "` + strings.Repeat("a", maxConditionLen) + `"`, "at most 4096"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("p.yml", []byte(fileWithIf(tt.cond)))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one naming %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), "p.yml:3:") {
				t.Errorf("error %v not at the if: line", err)
			}
		})
	}
}

// What conditions are for still works.
// The budget is the plan's: many stages each spending most of a budget
// of their own add up to no more than one.
func TestConditionBudgetSharedByStages(t *testing.T) {
	var b strings.Builder
	b.WriteString("stages:\n")
	for i := range MaxStages {
		fmt.Fprintf(&b, "  - name: s%d\n    if: 'let r = 1..9000; all(r, true) && all(r, true)'\n    actions: [{ name: a, run: 'true' }]\n", i)
	}
	p, err := Parse("p.yml", []byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	plan := Decide(p, pushTo("main"))
	// Each stage spends 18,000 of the 100,000 steps: five run, the rest
	// fail for want of budget. On a loaded machine the plan's time budget
	// may run out first, so fewer may run, but never more, and never none.
	ran, failed := 0, 0
	for _, sp := range plan.Stages {
		switch {
		case sp.Run:
			ran++
		case sp.Failed && strings.Contains(sp.Reason, "budget"):
			failed++
		}
	}
	if ran < 1 || ran > 5 || failed != MaxStages-ran {
		t.Fatalf("%d stages ran and %d failed for want of budget; want at most 5 and the rest (%d)", ran, failed, MaxStages-5)
	}
}

func TestConditionAllowed(t *testing.T) {
	ev := pushTo("release/1", "src/a.go", "docs/b.md")
	tests := []struct {
		cond string
		want bool
	}{
		{`branch startsWith "release/" && changed("src/**")`, true},
		{`any(changed_files, hasPrefix(#, "docs/"))`, true},
		{`all(changed_files, # matches "^(src|docs)/")`, true},
		{`count(changed_files, lower(#) endsWith ".md") == 1`, true},
		{`"release/" + "1" == branch`, true},
		{`let p = "rel"; p + "ease/1" == branch`, true},
		{`len(filter(changed_files, # contains "/")) == 2 && pr == 0`, true},
		{`trimPrefix(branch, "release/") in ["1", "2"]`, true},
		{`1 + 2 * pr == 1`, true},
	}
	for _, tt := range tests {
		t.Run(tt.cond, func(t *testing.T) {
			p, err := Parse("p.yml", []byte(fileWithIf(tt.cond)))
			if err != nil {
				t.Fatal(err)
			}
			sp := Decide(p, ev).Stages[0]
			if sp.Run != tt.want || sp.Failed {
				t.Fatalf("run %v failed %v (%s), want run %v", sp.Run, sp.Failed, sp.Reason, tt.want)
			}
		})
	}
}

// Expressions that compile but would run without end, or build values
// of any size, end within their budgets, and their stage fails with the
// reason rather than being skipped.
func TestConditionRuntimeBudgets(t *testing.T) {
	// get() hides the type, so `+` cannot be told to be between strings
	// when the expression is compiled.
	doubling := `let a0 = get(["abcdefgh"], 0);`
	for i := range 40 {
		doubling += fmt.Sprintf(" let a%d = a%d + a%d;", i+1, i, i)
	}
	tests := []struct {
		name, cond, want string
	}{
		{"nested loops", `let r = 1..3000; all(r, all(r, all(r, true)))`, "budget"},
		{"string doubling", doubling + ` a40 == ""`, "longer than"},
		{"typed string doubling", `let a = "abcdefgh"; let b = a + a; let c = b + b; let d = c + c; let e = d + d; let f = e + e; let g = f + f; let h = g + g; let i = h + h; let j = i + i; let k = j + j; let l = k + k; k == ""`, "longer than"},
		{"huge range", `len(1..1000000000) > 0`, "memory budget"},
		{"ranges in a loop", `all(1..50000, len(1..50000) > 0)`, "budget"},
		{"changed in a loop", `let r = 1..90000; all(r, changed("**/a"))`, "budget"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse("p.yml", []byte(fileWithIf(tt.cond)))
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan StagePlan, 1)
			var alloc uint64
			go func() {
				var sp StagePlan
				alloc = allocated(func() { sp = Decide(p, pushTo("main", "src/a", "src/b")).Stages[0] })
				done <- sp
			}()
			var sp StagePlan
			select {
			case sp = <-done:
			case <-time.After(60 * time.Second):
				t.Fatal("the condition is still being evaluated after a minute")
			}
			if sp.Run || !sp.Failed || !strings.Contains(sp.Reason, tt.want) {
				t.Fatalf("run %v failed %v reason %q; want a failed stage saying %q", sp.Run, sp.Failed, sp.Reason, tt.want)
			}
			if alloc > 256<<20 {
				t.Errorf("allocated %d MB evaluating a condition", alloc>>20)
			}
		})
	}
}
