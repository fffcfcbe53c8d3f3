package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/stagegate/stagegate/pipeline/runner"
	"github.com/stagegate/stagegate/pipeline/runner/local"
)

// benchLocalRun times `stagegate run` of 1 and of 30 trivial actions
// (3 stages of 10 parallel `true`) against bare sh running the same
// commands with the same parallelism, and derives the per-action overhead
// and the start-up cost:
//
//	overhead = (t30 - t1)/29 - bare30/30
//	start-up = t1 - (one sh -c true)
func benchLocalRun(rounds int) ([]row, error) {
	dir, err := os.MkdirTemp("", "stagegate-bench-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "stagegate")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/stagegate").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build stagegate: %w\n%s", err, out)
	}
	work := filepath.Join(dir, "work")
	if err := os.MkdirAll(work, 0o755); err != nil {
		return nil, fmt.Errorf("work dir: %w", err)
	}
	if out, err := exec.Command("git", "-C", work, "init", "-q", "-b", "main").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("git init: %w\n%s", err, out)
	}
	p1 := filepath.Join(dir, "one.yml")
	p30 := filepath.Join(dir, "thirty.yml")
	if err := os.WriteFile(p1, []byte(pipelineYAML(1, 1)), 0o644); err != nil {
		return nil, fmt.Errorf("write pipeline: %w", err)
	}
	if err := os.WriteFile(p30, []byte(pipelineYAML(3, 10)), 0o644); err != nil {
		return nil, fmt.Errorf("write pipeline: %w", err)
	}
	bwrap30, err := bwrapScript(dir, work, 3, 10)
	if err != nil {
		return nil, err
	}
	cmds := map[string][]string{
		"t1":      {bin, "run", "--sandbox=off", "--plain", "--dir", work, "--file", p1},
		"t30":     {bin, "run", "--sandbox=off", "--plain", "--dir", work, "--file", p30},
		"bare30":  {"/bin/sh", "-c", bareScript(3, 10)},
		"sh1":     {"/bin/sh", "-c", "true"},
		"s1":      {bin, "run", "--sandbox=required", "--plain", "--dir", work, "--file", p1},
		"s30":     {bin, "run", "--sandbox=required", "--plain", "--dir", work, "--file", p30},
		"bwrap30": {"/bin/sh", "-c", bwrap30},
	}
	order := []string{"t1", "t30", "bare30", "sh1", "s1", "s30", "bwrap30"}
	samples := map[string][]time.Duration{}
	// A warm-up round fills the page cache; it is not counted.
	for round := -1; round < rounds; round++ {
		for _, name := range order {
			d, err := timeCommand(cmds[name], work)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			if round >= 0 {
				samples[name] = append(samples[name], d)
			}
		}
	}
	m := map[string]time.Duration{}
	for name, s := range samples {
		m[name] = median(s)
	}
	overhead := (m["t30"]-m["t1"])/29 - m["bare30"]/30
	startup := m["t1"] - m["sh1"]
	sandboxed := (m["s30"]-m["s1"])/29 - m["bwrap30"]/30
	return []row{
		{"stagegate run, 1 action (t1)", ms(m["t1"]), "", ""},
		{"stagegate run, 3x10 actions (t30)", ms(m["t30"]), "", ""},
		{"bare sh, same 3x10 commands (bare30)", ms(m["bare30"]), "", ""},
		{"one sh -c true (sh1)", ms(m["sh1"]), "", ""},
		{"overhead per action = (t30-t1)/29 - bare30/30", ms(overhead), "<= 0.5 ms", verdict(overhead <= 500*time.Microsecond)},
		{"start-up = t1 - sh1", ms(startup), "<= 15 ms", verdict(startup <= 15*time.Millisecond)},
		{"sandboxed: stagegate run, 1 action (s1)", ms(m["s1"]), "", ""},
		{"sandboxed: stagegate run, 3x10 actions (s30)", ms(m["s30"]), "", ""},
		{"bare bwrap ... sh -e -c true, same 3x10 (bwrap30)", ms(m["bwrap30"]), "", ""},
		{"bare bwrap per action = bwrap30/30", ms(m["bwrap30"] / 30), "", ""},
		{"sandbox overhead per action = (s30-s1)/29 - bwrap30/30", ms(sandboxed), "<= 1 ms", verdict(sandboxed <= time.Millisecond)},
	}, nil
}

// bwrapScript runs the same commands as bareScript, each in bwrap with
// the arguments the runner gives an action of `stagegate run`: the cost
// of bubblewrap itself, against which the runner's is read.
func bwrapScript(dir, work string, stages, actions int) (string, error) {
	spec := runner.Spec{Dir: work, Access: runner.Access{ReadOnly: []string{filepath.Join(dir, "artifacts")}}}
	for _, d := range []string{"tmp", "out", "home"} {
		spec.Access.Writable = append(spec.Access.Writable, filepath.Join(dir, d))
	}
	spec.Access.Writable = append(spec.Access.Writable, work)
	for _, d := range append(slices.Clone(spec.Access.Writable), spec.Access.ReadOnly...) {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", fmt.Errorf("bwrap dirs: %w", err)
		}
	}
	argv, err := (&local.Sandbox{}).Command(spec, "/bin/sh", "-e", "-c", "true")
	if err != nil {
		return "", fmt.Errorf("bubblewrap (apt-get install bubblewrap): %w", err)
	}
	quoted := make([]string, len(argv))
	for i, a := range argv {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	line := strings.Join(quoted, " ") + " & "
	var b strings.Builder
	for range stages {
		for range actions {
			b.WriteString(line)
		}
		b.WriteString("wait\n")
	}
	return b.String(), nil
}

func pipelineYAML(stages, actions int) string {
	var b strings.Builder
	b.WriteString("stages:\n")
	for s := range stages {
		fmt.Fprintf(&b, "  - name: s%d\n    actions:\n", s)
		for a := range actions {
			fmt.Fprintf(&b, "      - { name: a%d, run: \"true\" }\n", a)
		}
	}
	return b.String()
}

// bareScript runs the same commands as the pipeline, with the runner's
// shell flags and the same parallelism: each stage's actions together.
func bareScript(stages, actions int) string {
	var b strings.Builder
	for range stages {
		for range actions {
			b.WriteString("/bin/sh -e -c true & ")
		}
		b.WriteString("wait\n")
	}
	return b.String()
}

func timeCommand(argv []string, dir string) (time.Duration, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	start := time.Now()
	out, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		return 0, fmt.Errorf("%w\n%s", err, out)
	}
	return d, nil
}

func median(s []time.Duration) time.Duration {
	s = slices.Clone(s)
	slices.Sort(s)
	return s[len(s)/2]
}

func ms(d time.Duration) string {
	return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
}
