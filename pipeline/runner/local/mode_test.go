//go:build linux

package local

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseMode(t *testing.T) {
	for _, s := range []string{"required", "auto", "off"} {
		if m, err := ParseMode(s); err != nil || string(m) != s {
			t.Errorf("ParseMode(%q) = %q, %v", s, m, err)
		}
	}
	for _, s := range []string{"", "on", "Required", "none"} {
		if _, err := ParseMode(s); err == nil {
			t.Errorf("ParseMode(%q) accepted", s)
		}
	}
}

// TestNewRunnerWithoutBwrap covers the three modes on a machine without
// bubblewrap.
func TestNewRunnerWithoutBwrap(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "bwrap")
	ctx := context.Background()

	_, _, err := NewRunner(ctx, Config{Mode: ModeRequired, Bwrap: missing})
	var se *SandboxError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "apt-get install bubblewrap") {
		t.Errorf("required: err = %v, want a SandboxError naming apt-get install bubblewrap", err)
	}

	r, notes, err := NewRunner(ctx, Config{Mode: ModeAuto, Bwrap: missing})
	if err != nil || r == nil || r.Sandbox != nil {
		t.Fatalf("auto: %+v, %v; want an unsandboxed runner", r, err)
	}
	if len(notes) != 1 || !strings.Contains(notes[0], "unsandboxed") || !strings.Contains(notes[0], "bubblewrap") {
		t.Errorf("auto notes = %q", notes)
	}

	r, notes, err = NewRunner(ctx, Config{Mode: ModeOff, Bwrap: missing})
	if err != nil || r.Sandbox != nil || len(notes) != 0 {
		t.Errorf("off: %+v, %q, %v", r, notes, err)
	}

	if _, _, err := NewRunner(ctx, Config{Mode: "sometimes"}); err == nil {
		t.Error("an unknown mode was accepted")
	}
}

// TestNewRunnerSandboxes checks that required and auto sandbox where
// bwrap works, and say what cgroups cannot limit.
func TestNewRunnerSandboxes(t *testing.T) {
	sandboxRunner(t) // skips or fails without a working sandbox
	for _, m := range []Mode{ModeRequired, ModeAuto} {
		r, notes, err := NewRunner(context.Background(), Config{Mode: m, Cgroups: true, CgroupRoot: t.TempDir()})
		if err != nil || r.Sandbox == nil {
			t.Fatalf("%s: %+v, %v", m, r, err)
		}
		if len(notes) != 1 || !strings.Contains(notes[0], "cannot be limited") {
			t.Errorf("%s: notes %q; want what cgroups cannot limit", m, notes)
		}
	}
	// Without cgroups asked for, as stagegate run: nothing to say.
	r, notes, err := NewRunner(context.Background(), Config{Mode: ModeAuto, CgroupRoot: t.TempDir()})
	if err != nil || r.Sandbox == nil || r.Sandbox.Cgroups != nil || len(notes) != 0 {
		t.Errorf("no cgroups: %+v, %q, %v", r, notes, err)
	}
}

func TestDiagnose(t *testing.T) {
	tests := []struct {
		name  string
		files map[string]string
		fix   string
	}{
		{name: "debian sysctl", files: map[string]string{"proc/sys/kernel/unprivileged_userns_clone": "0\n"}, fix: "kernel.unprivileged_userns_clone=1"},
		{name: "no user namespaces", files: map[string]string{"proc/sys/user/max_user_namespaces": "0\n"}, fix: "user.max_user_namespaces"},
		{name: "ubuntu apparmor", files: map[string]string{"proc/sys/kernel/apparmor_restrict_unprivileged_userns": "1\n"}, fix: "apparmor"},
		{name: "docker", files: map[string]string{".dockerenv": "", "proc/sys/user/max_user_namespaces": "100\n"}, fix: "--security-opt seccomp="},
		{name: "kubernetes", files: map[string]string{"proc/1/cgroup": "0::/kubepods/burstable/pod1\n"}, fix: "--security-opt"},
		{name: "unknown", files: map[string]string{}, fix: "unshare -Ur true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			for p, c := range tt.files {
				if err := os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(root, p), []byte(c), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			err := diagnose("bwrap: No permissions to creating new namespace", root)
			if !strings.Contains(err.Error(), tt.fix) || !strings.Contains(err.Error(), "No permissions") {
				t.Errorf("diagnosis %q lacks %q", err, tt.fix)
			}
		})
	}
}
