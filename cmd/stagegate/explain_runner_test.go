//go:build unix

package main

import (
	"strings"
	"testing"
)

func TestExplainSaysWhereScriptsRun(t *testing.T) {
	dir := workTree(t, `stages:
  - name: build
    runner: {type: codebuild, project: web-build, compute_type: BUILD_GENERAL1_MEDIUM}
    actions:
      - name: compile
        run: make
      - name: lint
        run: make lint
        runner: {type: local}
`)
	res := stagegate(t, dir, nil, "explain", "--branch", "main")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if w := "build/compile runs as a build of CodeBuild project web-build, BUILD_GENERAL1_MEDIUM"; !strings.Contains(res.stdout, w) {
		t.Errorf("stdout lacks %q:\n%s", w, res.stdout)
	}
	if strings.Contains(res.stdout, "build/lint runs") {
		t.Errorf("explain lists a local action as remote:\n%s", res.stdout)
	}
}
