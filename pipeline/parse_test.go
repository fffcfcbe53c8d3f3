package pipeline

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files and the committed schema")

func testFiles(t testing.TB, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files in testdata/%s: %v", dir, err)
	}
	return files
}

// TestInvalid parses each invalid file and compares every error with its
// golden file; go test -update rewrites them.
func TestInvalid(t *testing.T) {
	for _, path := range testFiles(t, "invalid") {
		name := filepath.Base(path)
		t.Run(strings.TrimSuffix(name, ".yml"), func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			p, err := Parse(name, data)
			if err == nil {
				t.Fatalf("Parse succeeded, want errors; got %d stages", len(p.Stages))
			}
			var errs Errors
			if !errors.As(err, &errs) {
				t.Fatalf("error is %T, not Errors: %v", err, err)
			}
			got := err.Error() + "\n"
			golden := strings.TrimSuffix(path, ".yml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("errors differ from %s\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
			for _, e := range errs {
				if e.File != name || e.Line < 1 || e.Col < 1 {
					t.Errorf("error without a position in %s: %+v", name, e)
				}
			}
		})
	}
}

func TestValidFilesParse(t *testing.T) {
	for _, path := range testFiles(t, "valid") {
		t.Run(filepath.Base(path), func(t *testing.T) {
			p, err := ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			checkInvariants(t, p)
		})
	}
}

func mustParse(t *testing.T, path string) *Pipeline {
	t.Helper()
	p, err := ParseFile(filepath.Join("testdata", "valid", path))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestFullExample(t *testing.T) {
	p := mustParse(t, "full.yml")
	want := &Pipeline{
		Name: "web",
		On: &Triggers{
			Push: &PushTrigger{
				Branches: []string{"main", "release/**", "!release/old"},
				Tags:     []string{"v*"},
				Paths:    []string{"src/**", "!**/*.md"},
			},
			PullRequest: &PullRequestTrigger{Branches: []string{"main"}, Paths: []string{"src/**"}},
		},
		Mode:    ModeSuperseded,
		Env:     map[string]string{"GOFLAGS": "-mod=readonly"},
		PassEnv: []string{"GOPATH"},
		Stages: []*Stage{
			{Name: "build", Pos: Pos{9, 5}, Actions: []*Action{
				{Name: "compile", Run: "go build -o bin/app ./...", Artifacts: []string{"bin/**"}, Pos: Pos{11, 9}},
			}},
			{Name: "test", Pos: Pos{14, 5}, Actions: []*Action{
				{Name: "unit", Run: "go test ./...", Timeout: Duration(15 * time.Minute), Retries: 1, Pos: Pos{16, 9}},
				{Name: "vet", Run: "go vet ./...", Pos: Pos{17, 9}},
			}},
			{Name: "deploy", Pos: Pos{18, 5}, If: `branch == "main"`, Environment: "production",
				Approval: ApprovalManual, Deployers: []string{"alice", "@acme/release"},
				Actions:   []*Action{{Name: "ship", Run: "./scripts/deploy.sh", Pos: Pos{24, 9}}},
				OnFailure: []*Action{{Name: "rollback", Run: "./scripts/rollback.sh", Pos: Pos{26, 9}}},
			},
		},
		File: filepath.Join("testdata", "valid", "full.yml"),
	}
	if p.Stages[2].cond == nil {
		t.Error("deploy stage's condition was not compiled")
	}
	for _, s := range p.Stages {
		s.cond = nil
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("parsed\n%s\nwant\n%s", dump(p), dump(want))
	}
}

func TestDefaults(t *testing.T) {
	p := mustParse(t, "minimal.yml")
	if p.Mode != ModeSuperseded || p.On != nil || p.Name != "" {
		t.Errorf("Mode %q, On %v, Name %q: want superseded, nil, empty", p.Mode, p.On, p.Name)
	}
	s := p.Stages[0]
	if s.Deploy() || s.Approval != "" || s.cond != nil {
		t.Errorf("plain stage: Deploy %v, Approval %q, cond %v", s.Deploy(), s.Approval, s.cond)
	}
	a := s.Actions[0]
	if a.EffectiveTimeout() != DefaultTimeout || a.EffectiveRunOrder() != 1 || a.Retries != 0 {
		t.Errorf("action defaults: %v %d %d", a.EffectiveTimeout(), a.EffectiveRunOrder(), a.Retries)
	}

	src := "stages:\n- {name: d, environment: prod, actions: [{name: a, run: a}]}\n"
	p, err := Parse("x.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if p.Stages[0].Approval != ApprovalNone {
		t.Errorf("deploy stage approval %q, want none", p.Stages[0].Approval)
	}
}

func TestFlowStyle(t *testing.T) {
	p := mustParse(t, "flow.yml")
	if p.On == nil || p.On.Push == nil || p.On.PullRequest == nil {
		t.Fatalf("on: [push, pull_request] gave %+v", p.On)
	}
	if !reflect.ValueOf(*p.On.Push).IsZero() || !reflect.ValueOf(*p.On.PullRequest).IsZero() {
		t.Errorf("short form has filters: %+v", p.On)
	}
	s := p.Stages[0]
	if s.Pos != (Pos{1, 37}) || s.Actions[1].Pos != (Pos{1, 84}) || s.Actions[1].RunOrder != 2 {
		t.Errorf("stage at %v, action b at %v with run_order %d", s.Pos, s.Actions[1].Pos, s.Actions[1].RunOrder)
	}
	p = mustParse(t, "on_short.yml")
	if p.On == nil || p.On.Push == nil || p.On.PullRequest != nil {
		t.Errorf("on: push gave %+v", p.On)
	}
	p = mustParse(t, "on_null.yml")
	if p.On.Push == nil || p.On.Push.Branches != nil || p.Mode != ModeParallel {
		t.Errorf("push: null gave %+v, mode %q", p.On.Push, p.Mode)
	}
	if p.Stages[0].cond == nil {
		t.Error("single-quoted condition not compiled")
	}
}

func TestAnchorsAndMergeKeys(t *testing.T) {
	p := mustParse(t, "anchors.yml")
	goenv := map[string]string{"GOFLAGS": "-mod=readonly", "CGO_ENABLED": "0", "GO_VERSION": "1.10", "VERBOSE": "true"}
	if !reflect.DeepEqual(p.Env, goenv) {
		t.Errorf("env %v, want %v (numbers kept as written)", p.Env, goenv)
	}
	compile := p.Stages[0].Actions[0]
	unit, race := p.Stages[1].Actions[0], p.Stages[1].Actions[1]
	report := p.Stages[1].OnFailure[0]
	if unit.Name != "unit" || unit.Run != "go test ./..." || unit.Retries != 0 || unit.Timeout != Duration(10*time.Minute) {
		t.Errorf("merged action unit: %+v", unit)
	}
	if race.Run != "go test -race ./...\n" || race.Retries != 2 || !reflect.DeepEqual(race.Env, goenv) {
		t.Errorf("merged action race: %+v", race)
	}
	if report.Name != "report" || report.Retries != 2 || report.Run != "./report.sh" {
		t.Errorf("flow merge: %+v", report)
	}
	if compile.Pos != (Pos{11, 9}) || unit.Pos != (Pos{18, 9}) || report.Pos != (Pos{27, 9}) {
		t.Errorf("positions: compile %v, unit %v, report %v", compile.Pos, unit.Pos, report.Pos)
	}
}

// TestEveryKeyDecoded guards the decoder against a key added to the model
// but never decoded: all_keys.yml sets each one to a non-zero value.
func TestEveryKeyDecoded(t *testing.T) {
	p := mustParse(t, "all_keys.yml")
	check := func(v any) {
		rv := reflect.Indirect(reflect.ValueOf(v))
		for f := range fieldsOf(rv.Type()) {
			if rv.FieldByIndex(f.Index).IsZero() {
				t.Errorf("%s.%s (%q) was not decoded from all_keys.yml", rv.Type().Name(), f.Name, yamlName(f))
			}
		}
	}
	check(p)
	check(p.On)
	check(p.On.Push)
	check(p.On.PullRequest)
	check(p.Stages[0])
	check(p.Stages[0].Actions[0].AWS)
	// An action runs a script or uses an integration: between them the
	// two actions set every key.
	a := reflect.ValueOf(p.Stages[0].Actions[0]).Elem()
	b := reflect.ValueOf(p.Stages[0].Actions[1]).Elem()
	for f := range fieldsOf(a.Type()) {
		if a.FieldByIndex(f.Index).IsZero() && b.FieldByIndex(f.Index).IsZero() {
			t.Errorf("Action.%s (%q) was not decoded from all_keys.yml", f.Name, yamlName(f))
		}
	}
	check(p.Environments["staging"])
}

func TestParseFileErrors(t *testing.T) {
	_, err := ParseFile(filepath.Join("testdata", "no-such-file.yml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want a wrapped ErrNotExist", err)
	}
	_, err = ParseFile(filepath.Join("testdata", "invalid", "missing.yml"))
	var errs Errors
	if !errors.As(err, &errs) || errs[0].File != filepath.Join("testdata", "invalid", "missing.yml") {
		t.Errorf("ParseFile error %v does not name the file", err)
	}
}

func TestAliasBomb(t *testing.T) {
	// A few kilobytes naming fifty million globs: 50 stages of 1000
	// actions of 1000 artifacts, through aliases.
	aliases := func(name string, n int) string {
		return "[" + strings.Repeat("*"+name+", ", n-1) + "*" + name + "]"
	}
	src := "x: &g a\n" +
		"y: &a {name: a, run: a, artifacts: " + aliases("g", 1000) + "}\n" +
		"z: &s {name: s, actions: " + aliases("a", 1000) + "}\n" +
		"stages: " + aliases("s", MaxStages) + "\n"
	// The error is the expansion limit's: an unbounded expansion would
	// not return, and the test would time out.
	_, err := Parse("bomb.yml", []byte(src))
	if err == nil || !strings.Contains(err.Error(), "through aliases") {
		t.Errorf("alias bomb: %v", err)
	}
}

func TestErrorsFormat(t *testing.T) {
	errs := Errors{
		{File: "f.yml", Line: 3, Col: 1, Msg: "b"},
		{File: "f.yml", Line: 1, Col: 7, Msg: "a"},
	}
	if got, want := errs.Error(), "f.yml:1:7: a\nf.yml:3:1: b"; got != want {
		t.Errorf("Errors.Error() = %q, want %q", got, want)
	}
	if errs[0].Line != 3 {
		t.Error("Errors.Error() reordered the receiver")
	}
}

func TestSuggest(t *testing.T) {
	keys := yamlKeys(reflect.TypeFor[Pipeline]())
	for word, want := range map[string]string{
		"stagse": "stages", "Stages": "stages", "stage": "stages", "nmae": "name",
		"pass-env": "pass_env", "secret": "secrets", "zzz": "", "o": "on", "environment": "environments",
	} {
		if got := suggest(word, keys); got != want {
			t.Errorf("suggest(%q) = %q, want %q", word, got, want)
		}
	}
}

func TestYAMLFeatures(t *testing.T) {
	p := mustParse(t, "yaml_features.yml")
	env := map[string]string{"VERSION": "1.10", "EMPTY": "", "QUOTED": "it's"}
	if p.Name != "2024" || !reflect.DeepEqual(p.Env, env) {
		t.Errorf("name %q, env %v", p.Name, p.Env)
	}
	s := p.Stages[0]
	if s.If != `event == "push" && branch != "wip"` || s.cond == nil {
		t.Errorf("folded if %q, compiled %v", s.If, s.cond != nil)
	}
	if s.Actions[0].Run != "echo one\necho two\n" {
		t.Errorf("literal run %q", s.Actions[0].Run)
	}
}

// TestYAML12Scalars checks that on, yes and off are strings, as in YAML
// 1.2, and not the booleans of YAML 1.1: `on:` must be a key.
func TestYAML12Scalars(t *testing.T) {
	src := "on: push\nenv: {A: on, B: yes, C: off, D: true, E: 0x1F, F: 1e3}\n" +
		"stages: [{name: s, actions: [{name: a, run: a}]}]\n"
	p, err := Parse("x.yml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"A": "on", "B": "yes", "C": "off", "D": "true", "E": "0x1F", "F": "1e3"}
	if p.On == nil || p.On.Push == nil || !reflect.DeepEqual(p.Env, want) {
		t.Errorf("on %+v, env %v", p.On, p.Env)
	}
}
