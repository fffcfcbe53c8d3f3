//go:build unix

package local

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/stagegate/stagegate/pipeline/runner"
)

// The cgroup v2 controllers whose limits an action gets, and the file
// of each that sets it.
var cgroupLimits = []struct{ controller, file string }{
	{"pids", "pids.max"},
	{"memory", "memory.max"},
	{"cpu", "cpu.weight"},
}

// CgroupSupport is what cgroup v2 lets stagegate limit.
type CgroupSupport struct {
	// Dir is stagegate's own cgroup; empty without cgroup v2.
	Dir string
	// Controllers can be limited; Missing cannot, for Reason.
	Controllers, Missing []string
	Reason               string
}

// Message says what cannot be limited and why, or "" when all can.
func (s CgroupSupport) Message() string {
	if len(s.Missing) == 0 {
		return ""
	}
	var files []string
	for _, l := range cgroupLimits {
		if slices.Contains(s.Missing, l.controller) {
			files = append(files, l.file)
		}
	}
	return fmt.Sprintf("actions' %s cannot be limited: %s", strings.Join(files, ", "), s.Reason)
}

// DetectCgroups finds which limits stagegate can set. root is where
// cgroup v2 is mounted (/sys/fs/cgroup) and self the contents of
// /proc/self/cgroup. Controllers are usable only where they are enabled
// for stagegate's cgroup and that cgroup is writable by it: delegated,
// as systemd does for a unit with Delegate=yes.
func DetectCgroups(root string, self []byte) CgroupSupport {
	all := make([]string, len(cgroupLimits))
	for i, l := range cgroupLimits {
		all[i] = l.controller
	}
	none := func(why string) CgroupSupport { return CgroupSupport{Missing: all, Reason: why} }
	path, ok := unifiedPath(self)
	if !ok {
		return none("this machine has no cgroup v2 hierarchy (cgroup v1 only)")
	}
	if _, err := os.Stat(filepath.Join(root, "cgroup.controllers")); err != nil {
		if _, uerr := os.Stat(filepath.Join(root, "unified", "cgroup.controllers")); uerr == nil {
			return none("the cgroup hierarchy is hybrid: the controllers belong to cgroup v1, and cgroup v2 (" +
				filepath.Join(root, "unified") + ") has none")
		}
		return none("cgroup v2 is not mounted at " + root + " (the controllers are cgroup v1's, or none)")
	}
	dir := filepath.Join(root, filepath.FromSlash(path))
	enabled, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return none(fmt.Sprintf("stagegate's cgroup %s cannot be read: %v", path, err))
	}
	s := CgroupSupport{Dir: dir}
	have := strings.Fields(string(enabled))
	for _, c := range all {
		if slices.Contains(have, c) {
			s.Controllers = append(s.Controllers, c)
		} else {
			s.Missing = append(s.Missing, c)
		}
	}
	if len(s.Missing) > 0 {
		s.Reason = fmt.Sprintf("the controllers are not enabled for stagegate's cgroup %s (delegate them: systemd Delegate=yes)", path)
	}
	for _, f := range []string{dir, filepath.Join(dir, "cgroup.subtree_control"), filepath.Join(dir, "cgroup.procs")} {
		if err := syscall.Access(f, 2 /* W_OK */); err != nil {
			return none(fmt.Sprintf("stagegate's cgroup %s is not delegated to it (%s: %v); run it under systemd with Delegate=yes", path, filepath.Base(f), err))
		}
	}
	return s
}

// unifiedPath is the cgroup v2 path in /proc/self/cgroup: the "0::" line.
func unifiedPath(self []byte) (string, bool) {
	sc := bufio.NewScanner(bytes.NewReader(self))
	for sc.Scan() {
		if p, ok := strings.CutPrefix(sc.Text(), "0::"); ok {
			return p, true
		}
	}
	return "", false
}

// Cgroups places each command in a cgroup of its own with limits, under
// stagegate's delegated cgroup.
type Cgroups struct {
	dir         string
	controllers []string
	// Default applies where a spec sets no limit; Max caps what a spec
	// may ask. Zero fields mean no default and no cap.
	Default, Max runner.Limits
	seq          atomic.Int64
}

// EnableCgroups prepares the delegated cgroup of s: cgroup v2 lets only
// a cgroup without processes hand controllers to its children, so this
// process moves into a child cgroup of its own, "supervisor", and the
// actions' cgroups become its siblings.
func EnableCgroups(s CgroupSupport, def, max runner.Limits) (*Cgroups, error) {
	if s.Dir == "" || len(s.Controllers) == 0 {
		return nil, errors.New("no cgroup controller can be used")
	}
	sup := filepath.Join(s.Dir, "supervisor")
	if err := os.MkdirAll(sup, 0o755); err != nil {
		return nil, fmt.Errorf("cgroup: %w", err)
	}
	if err := os.WriteFile(filepath.Join(sup, "cgroup.procs"), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, fmt.Errorf("cgroup: move stagegate into %s: %w", sup, err)
	}
	var enable []string
	for _, c := range s.Controllers {
		enable = append(enable, "+"+c)
	}
	if err := os.WriteFile(filepath.Join(s.Dir, "cgroup.subtree_control"), []byte(strings.Join(enable, " ")), 0o644); err != nil {
		return nil, fmt.Errorf("cgroup: enable %s in %s: %w", strings.Join(s.Controllers, ", "), s.Dir, err)
	}
	return &Cgroups{dir: s.Dir, controllers: s.Controllers, Default: def, Max: max}, nil
}

// actionCgroup is one command's cgroup.
type actionCgroup struct {
	dir string
	fd  *os.File
}

// create makes a command's cgroup with its limits, and opens it for
// starting the command inside (clone3 CLONE_INTO_CGROUP), so that not
// even its first instruction runs unlimited.
func (c *Cgroups) create(l runner.Limits) (*actionCgroup, error) {
	dir := filepath.Join(c.dir, fmt.Sprintf("action-%d-%d", os.Getpid(), c.seq.Add(1)))
	if err := os.Mkdir(dir, 0o755); err != nil {
		return nil, fmt.Errorf("cgroup: %w", err)
	}
	values := map[string]int64{
		"pids.max":   limit(l.Pids, c.Default.Pids, c.Max.Pids),
		"memory.max": limit(l.MemoryBytes, c.Default.MemoryBytes, c.Max.MemoryBytes),
		"cpu.weight": limit(min(l.CPUWeight, 10000), c.Default.CPUWeight, c.Max.CPUWeight),
	}
	for _, cl := range cgroupLimits {
		v := values[cl.file]
		if v == 0 || !slices.Contains(c.controllers, cl.controller) {
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, cl.file), []byte(strconv.FormatInt(v, 10)), 0o644); err != nil {
			_ = os.Remove(dir)
			return nil, fmt.Errorf("cgroup: set %s: %w", cl.file, err)
		}
	}
	fd, err := os.Open(dir)
	if err != nil {
		_ = os.Remove(dir)
		return nil, fmt.Errorf("cgroup: %w", err)
	}
	return &actionCgroup{dir: dir, fd: fd}, nil
}

// limit is the value a command gets: what it asks, else the default,
// never above the maximum. 0 means none.
func limit(asked, def, max int64) int64 {
	v := asked
	if v <= 0 {
		v = def
	}
	if max > 0 && (v <= 0 || v > max) {
		v = max
	}
	return v
}

// remove kills what is left in the cgroup and removes it.
func (a *actionCgroup) remove() {
	_ = os.WriteFile(filepath.Join(a.dir, "cgroup.kill"), []byte("1"), 0o644)
	_ = a.fd.Close()
	_ = os.Remove(a.dir)
}
