//go:build unix

package local

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/stagegate/stagegate/pipeline/runner"
)

// Sandbox runs each command inside bubblewrap (bwrap): in new user, pid,
// ipc and uts namespaces with the network shared, without capabilities,
// on a minimal read-only view of the system where only the paths of its
// runner.Access are visible besides. Its pid namespace ends with the
// command, and everything left in it with it.
type Sandbox struct {
	// Bwrap is the bubblewrap program; "bwrap" on PATH when empty.
	Bwrap string
	// Expose are host paths shown read-only to every command, besides
	// the minimal system: toolchains under /opt, say.
	Expose []string
	// Hidden are host paths covered for every command, besides those of
	// the spec: the data dir and the database, as a second line behind
	// the minimal system, which shows neither.
	Hidden []string
	// Cgroups, when set, limits each command's resources.
	Cgroups *Cgroups

	// What this bwrap can do beyond its oldest supported version, as
	// Probe found: forbid user namespaces inside the sandbox (0.8), bound
	// the size of a tmpfs (0.6).
	disableUserns, tmpfsSize bool
	// tmpBytes replaces tmpSize when set: tests use less memory.
	tmpBytes int
}

// tmpSize bounds the sandbox's own /tmp, which is memory: builds' large
// files belong in TMPDIR, on disk.
const tmpSize = 1 << 30

// systemDirs are shown read-only when they are directories, and as the
// same symlinks when they are symlinks (merged /usr).
var systemDirs = []string{"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}

// etcFiles are what of /etc programs need to run, resolve names, trust
// certificates and find their alternatives; not the rest, which may hold
// the machine's own configuration and credentials.
var etcFiles = []string{
	"alternatives", "ca-certificates", "ca-certificates.conf", "debian_version", "gai.conf",
	"gitconfig", "group", "host.conf", "hosts", "ld.so.cache", "ld.so.conf",
	"ld.so.conf.d", "localtime", "mime.types", "nsswitch.conf", "os-release", "passwd", "pki",
	"protocols", "resolv.conf", "services", "shells", "ssh/ssh_config", "ssh/ssh_config.d",
	// Not ssl/private, where the machine's own TLS keys are.
	"ssl/certs", "ssl/openssl.cnf", "timezone",
}

// mountKind orders mounts at the same path: the last one wins, and a
// path both writable and read-only ends read-only.
type mountKind int

const (
	mountHidden mountKind = iota
	mountHiddenFile
	mountWritable
	mountReadOnly
)

type mount struct {
	kind mountKind
	path string
}

// args is bwrap's command line for one command, up to the program.
func (s *Sandbox) args(spec runner.Spec) []string {
	a := make([]string, 0, 96)
	a = append(a,
		"--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
		"--hostname", "stagegate", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
	)
	for _, d := range systemDirs {
		if target, err := os.Readlink(d); err == nil {
			a = append(a, "--symlink", target, d)
		} else if st, err := os.Stat(d); err == nil && st.IsDir() {
			a = append(a, "--ro-bind", d, d)
		}
	}
	for _, f := range etcFiles {
		p := "/etc/" + f
		if _, err := os.Stat(p); err == nil {
			a = append(a, "--ro-bind", p, p)
		}
	}
	if s.disableUserns {
		// Nested user namespaces are how most kernel exploits begin.
		a = append(a, "--disable-userns")
	}
	a = append(a, "--proc", "/proc", "--dev", "/dev")
	if s.tmpfsSize {
		size := tmpSize
		if s.tmpBytes > 0 {
			size = s.tmpBytes
		}
		a = append(a, "--size", strconv.Itoa(size))
	}
	a = append(a, "--tmpfs", "/tmp")

	mounts := s.mounts(spec)
	var hidden []string
	for _, m := range mounts {
		switch m.kind {
		case mountHidden:
			a = append(a, "--tmpfs", m.path)
			hidden = append(hidden, m.path)
		case mountHiddenFile:
			a = append(a, "--ro-bind", "/dev/null", m.path)
		case mountWritable:
			a = append(a, "--bind", m.path, m.path)
		case mountReadOnly:
			a = append(a, "--ro-bind", m.path, m.path)
		}
	}
	// The tmpfs of a hidden path and the root are read-only once the
	// paths inside them are mounted.
	for _, h := range hidden {
		a = append(a, "--remount-ro", h)
	}
	a = append(a, "--remount-ro", "/")
	if spec.Dir != "" {
		a = append(a, "--chdir", spec.Dir)
	}
	return append(a, "--")
}

// wrapped is what the runner keeps of a command it put in the sandbox.
type wrapped struct {
	cg           *actionCgroup
	infoR, infoW *os.File
}

func (w *wrapped) close() {
	closeAll(w.infoR, w.infoW)
	if w.cg != nil {
		w.cg.remove()
	}
}

// wrap makes cmd run its program inside the sandbox, in the command's
// own cgroup when there are Cgroups. The caller closes what it returns
// once the command has ended.
func (s *Sandbox) wrap(cmd *exec.Cmd, spec runner.Spec) (*wrapped, error) {
	// bwrap would report a missing directory only as an exit status.
	if st, err := os.Stat(spec.Dir); err != nil {
		return nil, fmt.Errorf("working directory: %w", err)
	} else if !st.IsDir() {
		return nil, fmt.Errorf("working directory %s: %w", spec.Dir, errNoDir)
	}
	bwrap, err := s.path()
	if err != nil {
		return nil, fmt.Errorf("the sandbox needs bubblewrap (apt-get install bubblewrap): %w", err)
	}
	w := &wrapped{}
	if w.infoR, w.infoW, err = os.Pipe(); err != nil {
		return nil, fmt.Errorf("sandbox info pipe: %w", err)
	}
	// bwrap tells on fd 3 the host pid of the sandbox's init.
	cmd.ExtraFiles = []*os.File{w.infoW}
	args := append([]string{"bwrap", "--info-fd", "3"}, s.args(spec)...)
	cmd.Args = append(append(args, cmd.Path), cmd.Args[1:]...)
	cmd.Path = bwrap
	if s.Cgroups == nil {
		return w, nil
	}
	if w.cg, err = s.Cgroups.create(spec.Limits); err != nil {
		w.close()
		return nil, err
	}
	intoCgroup(cmd.SysProcAttr, int(w.cg.fd.Fd()))
	return w, nil
}

// mounts are the spec's paths that exist, parents before what they
// contain. Hidden paths are covered only where the rest shows them: one
// no mount shows is invisible already, and covering it would show its
// name.
//
// A mount's source is resolved by the kernel, symlinks followed, on the
// host. So a path inside a writable one, whose components an action may
// have replaced by symlinks, is mounted only while it has none; and Dir,
// which comes from the repository (`dir:`), is never mounted when a path
// already shows it: it is entered inside the sandbox, where a symlink
// leads only to what the sandbox shows.
func (s *Sandbox) mounts(spec runner.Spec) []mount {
	writable := cleanAbs(spec.Access.Writable)
	readOnly := slices.Concat(cleanAbs(spec.Access.ReadOnly), cleanAbs(s.Expose))
	var ms []mount
	add := func(kind mountKind, paths []string) {
		for _, p := range paths {
			if _, err := os.Lstat(p); err != nil {
				continue
			}
			if slices.ContainsFunc(writable, func(w string) bool { return p != w && within(p, w) }) {
				if real, err := filepath.EvalSymlinks(p); err != nil || real != p {
					continue
				}
			}
			ms = append(ms, mount{kind, p})
		}
	}
	add(mountWritable, writable)
	add(mountReadOnly, readOnly)
	if dir := cleanAbs([]string{spec.Dir}); len(dir) == 1 &&
		!slices.ContainsFunc(slices.Concat(writable, readOnly), func(p string) bool { return within(dir[0], p) }) {
		add(mountWritable, dir)
	}
	var shown []string
	for _, m := range ms {
		shown = append(shown, m.path)
	}
	shown = append(shown, systemDirs...)
	for _, f := range etcFiles {
		shown = append(shown, "/etc/"+f)
	}
	for _, h := range slices.Concat(spec.Access.Hidden, s.Hidden) {
		if !filepath.IsAbs(h) {
			continue
		}
		h = filepath.Clean(h)
		st, err := os.Stat(h)
		if err != nil || !slices.ContainsFunc(shown, func(p string) bool { return within(h, p) }) {
			continue
		}
		if st.IsDir() {
			ms = append(ms, mount{mountHidden, h})
		} else {
			ms = append(ms, mount{mountHiddenFile, h})
		}
	}
	slices.SortStableFunc(ms, func(x, y mount) int {
		if d := depth(x.path) - depth(y.path); d != 0 {
			return d
		}
		if c := strings.Compare(x.path, y.path); c != 0 {
			return c
		}
		return int(x.kind) - int(y.kind)
	})
	return slices.CompactFunc(ms, func(x, y mount) bool { return x == y })
}

// cleanAbs is the absolute paths among paths, cleaned.
func cleanAbs(paths []string) []string {
	var out []string
	for _, p := range paths {
		if filepath.IsAbs(p) {
			out = append(out, filepath.Clean(p))
		}
	}
	return out
}

// within reports whether p is dir or inside it.
func within(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

func depth(p string) int { return strings.Count(p, "/") }

// Command is the command line that runs argv in the sandbox for spec,
// as the runner builds it less the descriptor bwrap reports on: what a
// benchmark compares the runner with.
func (s *Sandbox) Command(spec runner.Spec, argv ...string) ([]string, error) {
	bwrap, err := s.path()
	if err != nil {
		return nil, err
	}
	return append(append([]string{bwrap}, s.args(spec)...), argv...), nil
}
