//go:build unix

package local

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stagegate/stagegate/pipeline/runner"
)

// fakeCgroupFS lays out files as a cgroup filesystem shows them.
func fakeCgroupFS(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestDetectCgroups(t *testing.T) {
	delegated := map[string]string{
		"cgroup.controllers": "cpuset cpu io memory pids",
		"system.slice/stagegate.service/cgroup.controllers":     "cpu memory pids",
		"system.slice/stagegate.service/cgroup.subtree_control": "",
		"system.slice/stagegate.service/cgroup.procs":           "42\n",
	}
	const self = "0::/system.slice/stagegate.service\n"
	tests := []struct {
		name     string
		files    map[string]string
		self     string
		readOnly bool
		want     []string // controllers usable
		reason   string   // in Message
	}{
		{name: "delegated", files: delegated, self: self, want: []string{"pids", "memory", "cpu"}},
		{name: "cgroup v1 only", files: map[string]string{"cpu/tasks": ""}, self: "4:memory:/\n1:cpu:/\n", reason: "no cgroup v2 hierarchy"},
		{name: "hybrid", files: map[string]string{"unified/cgroup.controllers": "", "memory/tasks": ""}, self: "4:memory:/x\n0::/\n", reason: "hybrid"},
		{name: "v2 not mounted here", files: map[string]string{"other": ""}, self: "0::/\n", reason: "not mounted"},
		{name: "memory not delegated", files: map[string]string{
			"cgroup.controllers":                "cpu memory pids",
			"user.slice/cgroup.controllers":     "pids",
			"user.slice/cgroup.subtree_control": "",
			"user.slice/cgroup.procs":           "",
		}, self: "0::/user.slice\n", want: []string{"pids"}, reason: "not enabled for stagegate's cgroup /user.slice"},
		{name: "not writable", files: delegated, self: self, readOnly: true, reason: "not delegated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := fakeCgroupFS(t, tt.files)
			if tt.readOnly {
				if os.Geteuid() == 0 {
					// Root writes through any mode: make the files
					// unwritable by making one a directory's absence.
					_ = os.Remove(filepath.Join(root, "system.slice/stagegate.service/cgroup.procs"))
				} else {
					_ = os.Chmod(filepath.Join(root, "system.slice/stagegate.service/cgroup.procs"), 0o444)
				}
			}
			s := DetectCgroups(root, []byte(tt.self))
			if !slices.Equal(s.Controllers, tt.want) {
				t.Errorf("controllers = %v, want %v (%s)", s.Controllers, tt.want, s.Reason)
			}
			msg := s.Message()
			if tt.reason == "" && msg != "" {
				t.Errorf("message %q, want none", msg)
			}
			if tt.reason != "" && !strings.Contains(msg, tt.reason) {
				t.Errorf("message %q lacks %q", msg, tt.reason)
			}
			if len(s.Controllers) < 3 && !strings.Contains(msg, "cannot be limited") {
				t.Errorf("message %q does not say what cannot be limited", msg)
			}
		})
	}
}

// TestCgroupLimits enables a fake delegated cgroup and checks the files
// an action's cgroup gets: its limits, else the defaults, never above
// the maxima.
func TestCgroupLimits(t *testing.T) {
	root := fakeCgroupFS(t, map[string]string{
		"cgroup.controllers":         "cpu memory pids",
		"svc/cgroup.controllers":     "memory pids",
		"svc/cgroup.subtree_control": "",
		"svc/cgroup.procs":           "",
	})
	s := DetectCgroups(root, []byte("0::/svc\n"))
	cg, err := EnableCgroups(s,
		runner.Limits{Pids: 512, MemoryBytes: 1 << 30, CPUWeight: 100},
		runner.Limits{Pids: 1024, MemoryBytes: 4 << 30})
	if err != nil {
		t.Fatal(err)
	}
	read := func(p string) string {
		b, err := os.ReadFile(p)
		if err != nil {
			return "absent"
		}
		return strings.TrimSpace(string(b))
	}
	if got := read(filepath.Join(root, "svc/supervisor/cgroup.procs")); got != strconv.Itoa(os.Getpid()) {
		t.Errorf("supervisor/cgroup.procs = %q, want this process", got)
	}
	if got := read(filepath.Join(root, "svc/cgroup.subtree_control")); got != "+pids +memory" {
		t.Errorf("subtree_control = %q", got)
	}
	tests := []struct {
		name      string
		asked     runner.Limits
		pids, mem string
	}{
		{name: "defaults", pids: "512", mem: strconv.Itoa(1 << 30)},
		{name: "asked within the maxima", asked: runner.Limits{Pids: 100, MemoryBytes: 2 << 30}, pids: "100", mem: strconv.Itoa(2 << 30)},
		{name: "capped", asked: runner.Limits{Pids: 1 << 20, MemoryBytes: 1 << 40}, pids: "1024", mem: strconv.Itoa(4 << 30)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := cg.create(tt.asked)
			if err != nil {
				t.Fatal(err)
			}
			defer a.fd.Close()
			if got := read(filepath.Join(a.dir, "pids.max")); got != tt.pids {
				t.Errorf("pids.max = %s, want %s", got, tt.pids)
			}
			if got := read(filepath.Join(a.dir, "memory.max")); got != tt.mem {
				t.Errorf("memory.max = %s, want %s", got, tt.mem)
			}
			// cpu is not delegated here: its file is not written.
			if got := read(filepath.Join(a.dir, "cpu.weight")); got != "absent" {
				t.Errorf("cpu.weight = %s, want absent", got)
			}
		})
	}
}

func TestLimit(t *testing.T) {
	tests := []struct{ asked, def, max, want int64 }{
		{0, 0, 0, 0},
		{0, 10, 0, 10},
		{5, 10, 0, 5},
		{50, 10, 20, 20},
		{0, 0, 20, 20},
	}
	for _, tt := range tests {
		if got := limit(tt.asked, tt.def, tt.max); got != tt.want {
			t.Errorf("limit(%d, %d, %d) = %d, want %d", tt.asked, tt.def, tt.max, got, tt.want)
		}
	}
}
