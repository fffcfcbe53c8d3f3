package engine

import (
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseOutputs(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		want     map[string]string
		warnings int
	}{
		{"empty", "", map[string]string{}, 0},
		{"pairs", "a=1\nB_2=two words\n", map[string]string{"a": "1", "B_2": "two words"}, 0},
		{"value with =", "url=https://x/?a=b\n", map[string]string{"url": "https://x/?a=b"}, 0},
		{"empty value", "a=\n", map[string]string{"a": ""}, 0},
		{"crlf", "a=1\r\nb=2\r\n", map[string]string{"a": "1", "b": "2"}, 0},
		{"no final newline", "a=1", map[string]string{"a": "1"}, 0},
		{"later wins", "a=1\na=2\n", map[string]string{"a": "2"}, 0},
		{"blank lines", "\n  \na=1\n\n", map[string]string{"a": "1"}, 0},
		{"heredoc", "notes<<EOF\nline 1\n\nline=3\nEOF\nafter=x\n", map[string]string{"notes": "line 1\n\nline=3", "after": "x"}, 0},
		{"heredoc empty", "e<<END\nEND\n", map[string]string{"e": ""}, 0},
		{"heredoc delimiter must match whole line", "n<<EOF\nEOF not\nEOF\n", map[string]string{"n": "EOF not"}, 0},
		{"heredoc with = in delimiter", "n<<a=b\nx\na=b\n", map[string]string{"n": "x"}, 0},
		{"unclosed heredoc", "a=1\nn<<EOF\nx\n", map[string]string{"a": "1"}, 1},
		{"empty delimiter", "n<<\nx\n", map[string]string{}, 1},
		{"malformed line", "a=1\njust text\nb=2\n", map[string]string{"a": "1", "b": "2"}, 1},
		{"bad key", "1a=1\nx-y=2\n=3\nok=4\n", map[string]string{"ok": "4"}, 3},
		{"bad heredoc key", "x y<<EOF\nv\nEOF\n", map[string]string{}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, warnings := parseOutputs([]byte(tt.in))
			if !maps.Equal(got, tt.want) {
				t.Errorf("outputs %q, want %q", got, tt.want)
			}
			if len(warnings) != tt.warnings {
				t.Errorf("warnings %q, want %d", warnings, tt.warnings)
			}
		})
	}
}

func TestReadOutputsLimitsSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out")
	big := "a=1\n" + strings.Repeat("b=xxxxxxxxxxxxxxxx\n", maxOutputFile/16)
	if err := os.WriteFile(path, []byte(big), 0o600); err != nil {
		t.Fatal(err)
	}
	outs, warnings, err := readOutputs(path)
	if err != nil {
		t.Fatal(err)
	}
	if outs["a"] != "1" || len(warnings) == 0 || !strings.Contains(warnings[0], "larger") {
		t.Errorf("outputs %d, warnings %q", len(outs), warnings)
	}
	if outs, _, err := readOutputs(filepath.Join(t.TempDir(), "missing")); err != nil || len(outs) != 0 {
		t.Errorf("missing file: %v %v", outs, err)
	}
}

func TestEnvName(t *testing.T) {
	for in, want := range map[string]string{
		"build":        "BUILD",
		"deploy-prod":  "DEPLOY_PROD",
		"v1.2":         "V1_2",
		"image_tag":    "IMAGE_TAG",
		"héllo":        "H__LLO",
		"MixedCase_09": "MIXEDCASE_09",
	} {
		if got := envName(in); got != want {
			t.Errorf("envName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestActionEnvLayers(t *testing.T) {
	base := map[string]string{"PATH": "/bin", "A": "base", "B": "base"}
	got := actionEnv(base,
		map[string]string{"B": "stage", "C": "stage"},
		map[string]string{"C": "action", "STAGEGATE_RUN_ID": "forged", "BAD=NAME": "x", "": "y"},
		[]stageOutputs{{stage: "build-1", outputs: map[string]string{"ver": "1", "VER": "2"}}},
		map[string]string{"STAGEGATE_RUN_ID": "r1"})
	want := []string{"A=base", "B=stage", "C=action", "PATH=/bin", "STAGEGATE_OUTPUT_BUILD_1_VER=1", "STAGEGATE_RUN_ID=r1"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("env\n got %q\nwant %q", got, want)
	}
	if base["B"] != "base" {
		t.Error("actionEnv changed the base")
	}
}
