//go:build unix

package engine_test

import (
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/stagegate/stagegate/pipeline/engine"
	"github.com/stagegate/stagegate/pipeline/runner/local"
)

// shellVars are variables the shell sets itself when it starts.
var shellVars = []string{"PWD", "OLDPWD", "SHLVL", "_"}

var stagegateVars = []string{
	"STAGEGATE", "STAGEGATE_RUN_ID", "STAGEGATE_SHA", "STAGEGATE_BRANCH", "STAGEGATE_TAG",
	"STAGEGATE_BASE_BRANCH", "STAGEGATE_EVENT", "STAGEGATE_PR", "STAGEGATE_ACTOR",
	"STAGEGATE_STAGE", "STAGEGATE_ACTION", "STAGEGATE_ATTEMPT", "STAGEGATE_ENVIRONMENT",
	"STAGEGATE_WORKSPACE", "STAGEGATE_OUTPUT", "STAGEGATE_ARTIFACTS",
}

// envOf parses the lines `env` printed into a map, leaving out what the
// shell adds.
func envOf(lines []string) map[string]string {
	m := map[string]string{}
	for _, l := range lines {
		k, v, ok := strings.Cut(l, "=")
		if !ok || slices.Contains(shellVars, k) {
			continue
		}
		m[k] = v
	}
	return m
}

func TestHostEnvironmentDoesNotLeak(t *testing.T) {
	t.Setenv("STAGEGATE_TEST_SECRET_KEY", "leak")
	t.Setenv("STAGEGATE_TEST_PASSED", "passed-value")
	t.Setenv("STAGEGATE_TEST_NOT_PASSED", "leak")
	t.Setenv("STAGEGATE_TEST_SECRET", "pipeline-secret-value")
	t.Setenv("STAGEGATE_TEST_UNNAMED_SECRET", "leak")

	tests := []struct {
		name     string
		withhold bool
		want     []string // names beyond the base and STAGEGATE_* ones
	}{
		{"trusted", false, []string{"STAGEGATE_TEST_PASSED", "STAGEGATE_TEST_SECRET", "CALLER_SECRET", "PIPELINE_VAR", "STAGE_VAR", "ACTION_VAR"}},
		// Untrusted code gets neither secrets nor pass_env.
		{"withheld", true, []string{"PIPELINE_VAR", "STAGE_VAR", "ACTION_VAR"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			st := stage("build", act("env", "env", actEnv("ACTION_VAR", "a")))
			st.Env = map[string]string{"STAGE_VAR": "s"}
			p := pipe(st)
			p.Env = map[string]string{"PIPELINE_VAR": "p"}
			p.PassEnv = []string{"STAGEGATE_TEST_PASSED", "STAGEGATE_TEST_ABSENT"}
			p.Secrets = []string{"STAGEGATE_TEST_SECRET"}
			res := f.run(t.Context(), p, func(r *engine.Run) {
				r.Secrets = map[string]string{"CALLER_SECRET": "caller-secret-value"}
				r.WithholdSecrets = tt.withhold
			})
			if res.Status != engine.StatusSuccess {
				t.Fatalf("run %s %q", res.Status, res.Reason)
			}
			lines := f.rec.lines("build", "env", engine.Stdout)
			if text := strings.Join(lines, "\n"); strings.Contains(text, "leak") || strings.Contains(text, "NOT_PASSED") || strings.Contains(text, "SECRET_KEY") {
				t.Errorf("the host's environment leaked:\n%s", text)
			}
			env := envOf(lines)
			want := append([]string{"PATH", "HOME", "LANG", "TMPDIR", "CI"}, stagegateVars...)
			want = append(want, tt.want...)
			slices.Sort(want)
			if got := slices.Sorted(maps.Keys(env)); !slices.Equal(got, want) {
				t.Errorf("variables\n got %v\nwant %v", got, want)
			}
			if !tt.withhold && (env["STAGEGATE_TEST_SECRET"] != "***" || env["CALLER_SECRET"] != "***") {
				t.Errorf("secrets not passed, or not masked: %q %q", env["STAGEGATE_TEST_SECRET"], env["CALLER_SECRET"])
			}
			if !tt.withhold && env["STAGEGATE_TEST_PASSED"] != "passed-value" || env["CI"] != "true" || env["STAGEGATE_BRANCH"] != "main" || env["STAGEGATE_ACTION"] != "env" {
				t.Errorf("unexpected values in %v", env)
			}
		})
	}
}

func TestEnvLayersAndReservedNames(t *testing.T) {
	f := newFixture(t)
	st := stage("build", act("show",
		`echo "$LAYER $STAGE_ONLY $STAGEGATE_RUN_ID $STAGEGATE_STAGE $PATH $TMPDIR"`,
		actEnv("LAYER", "action", "STAGEGATE_RUN_ID", "forged", "STAGEGATE_STAGE", "forged", "PATH", "/custom/bin:/usr/bin:/bin")))
	st.Env = map[string]string{"LAYER": "stage", "STAGE_ONLY": "s"}
	p := pipe(st)
	p.Env = map[string]string{"LAYER": "pipeline"}
	tmp := t.TempDir()
	res := f.run(t.Context(), p, func(r *engine.Run) {
		r.TempDir = tmp
		r.LookupEnv = func(string) (string, bool) { return "", false }
	})
	if res.Status != engine.StatusSuccess {
		t.Fatalf("run %s %q", res.Status, res.Reason)
	}
	got := f.rec.lines("build", "show", engine.Stdout)
	want := "action s run-1 build /custom/bin:/usr/bin:/bin " + tmp + "/tmp"
	if len(got) != 1 || got[0] != want {
		t.Errorf("printed %q, want %q", got, want)
	}
}

func TestEnvWithoutHostVariables(t *testing.T) {
	// PATH, HOME and LANG come from the host's own environment, not from
	// LookupEnv, which the App points at its pass_env namespace.
	t.Setenv("PATH", "")
	t.Setenv("HOME", "") // restores HOME after the test
	os.Unsetenv("HOME")
	t.Setenv("LANG", "")
	f := newFixture(t)
	f.engine.Runner = &local.Runner{Shell: "/bin/sh"}
	res := f.run(t.Context(), pipe(stage("s", act("env", "/usr/bin/env"))), func(r *engine.Run) {
		r.LookupEnv = func(string) (string, bool) { return "", false }
	})
	if res.Status != engine.StatusSuccess {
		t.Fatalf("run %s %q", res.Status, res.Reason)
	}
	env := envOf(f.rec.lines("s", "env", engine.Stdout))
	if env["PATH"] == "" || env["LANG"] != "C.UTF-8" {
		t.Errorf("PATH %q LANG %q; want defaults", env["PATH"], env["LANG"])
	}
	if _, ok := env["HOME"]; ok {
		t.Errorf("HOME set to %q without a host HOME", env["HOME"])
	}
}

func TestHostBasicsComeFromTheHost(t *testing.T) {
	t.Setenv("HOME", "/home/builder")
	t.Setenv("LANG", "en_GB.UTF-8")
	f := newFixture(t)
	res := f.run(t.Context(), pipe(stage("s", act("env", "env"))), func(r *engine.Run) {
		r.LookupEnv = func(string) (string, bool) { return "", false }
	})
	if res.Status != engine.StatusSuccess {
		t.Fatalf("run %s %q", res.Status, res.Reason)
	}
	env := envOf(f.rec.lines("s", "env", engine.Stdout))
	if env["HOME"] != "/home/builder" || env["LANG"] != "en_GB.UTF-8" || env["PATH"] != os.Getenv("PATH") {
		t.Errorf("HOME %q LANG %q PATH %q; want the host's", env["HOME"], env["LANG"], env["PATH"])
	}
}
