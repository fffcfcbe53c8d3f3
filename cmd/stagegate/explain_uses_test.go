//go:build unix

package main

import (
	"strings"
	"testing"
)

func TestExplainSaysWhatUsesDoes(t *testing.T) {
	dir := workTree(t, `aws: {role: "arn:aws:iam::123456789012:role/deploy", region: eu-west-1}
stages:
  - name: infra
    actions:
      - name: stack
        uses: aws/cloudformation
        with: {stack: web, template: infra/stack.yml}
  - name: site
    if: branch == "main"
    actions:
      - name: upload
        uses: aws/s3
        with: {bucket: www.example.com, source: dist, prefix: v1/, delete: true}
`)
	res := stagegate(t, dir, nil, "explain", "--branch", "main")
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	for _, w := range []string{
		"infra/stack (aws/cloudformation): create a change set of stack web from infra/stack.yml and show it, without executing it",
		"as role arn:aws:iam::123456789012:role/deploy",
		"site/upload (aws/s3): upload dist/ to s3://www.example.com/v1/, deleting keys under the prefix the source no longer has",
	} {
		if !strings.Contains(res.stdout, w) {
			t.Errorf("stdout lacks %q:\n%s", w, res.stdout)
		}
	}
	res = stagegate(t, dir, nil, "explain", "--branch", "feature/x")
	if strings.Contains(res.stdout, "site/upload") {
		t.Errorf("explain describes an integration of a stage that would not run:\n%s", res.stdout)
	}
}
