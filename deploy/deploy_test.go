package deploy_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// shared holds what several tests need and is built once: the binary
// built as the Dockerfile builds it, and the settings of its serve
// command.
var shared struct {
	dir string // removed by TestMain

	binOnce sync.Once
	bin     string
	binErr  error

	settingsOnce sync.Once
	settings     map[string]serveSetting
	settingsErr  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.dir != "" {
		os.RemoveAll(shared.dir)
	}
	os.Exit(code)
}

// testVersion is passed as the Dockerfile's VERSION build argument.
const testVersion = "deploy-test"

// goBuild is the Dockerfile's go build command.
type goBuild struct {
	stage *stage
	run   int      // index of its RUN in the stage
	env   []string // KEY=value from the stage's ENV and the command's prefix
	args  []string // after "go"
	out   string   // the -o path in the image
}

func findGoBuild(t *testing.T, df *dockerfile, buildArgs map[string]string) goBuild {
	t.Helper()
	for _, st := range df.stages {
		vars := map[string]string{}
		for _, in := range df.globalArgs {
			kv, err := in.keyValues()
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range kv {
				vars[k] = v
			}
		}
		var env []string
		for i, in := range st.instrs {
			switch in.cmd {
			case "ARG", "ENV":
				kv, err := in.keyValues()
				if err != nil {
					t.Fatal(err)
				}
				for k, v := range kv {
					if ba, ok := buildArgs[k]; ok && in.cmd == "ARG" {
						v = ba
					}
					vars[k] = v
					if in.cmd == "ENV" {
						env = append(env, k+"="+v)
					}
				}
			case "RUN":
				words, err := shellWords(in.args, func(k string) string { return vars[k] })
				if err != nil {
					t.Fatalf("Dockerfile line %d: %v", in.line, err)
				}
				for _, c := range commands(words) {
					j := 0
					for j < len(c) && strings.Contains(c[j], "=") && !strings.HasPrefix(c[j], "-") {
						j++ // VAR=value before the command
					}
					if len(c) < j+2 || c[j] != "go" || c[j+1] != "build" {
						continue
					}
					gb := goBuild{stage: st, run: i, env: append(slices.Clone(env), c[:j]...), args: slices.Clone(c[j+1:])}
					for k, a := range gb.args {
						if a == "-o" && k+1 < len(gb.args) {
							gb.out = gb.args[k+1]
						} else if v, ok := strings.CutPrefix(a, "-o="); ok {
							gb.out = v
						}
					}
					return gb
				}
			}
		}
	}
	t.Fatal("Dockerfile: no RUN go build")
	return goBuild{}
}

// envValue is the last value of KEY in a KEY=value list.
func envValue(env []string, key string) (string, bool) {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v, true
		}
	}
	return "", false
}

// imageBinary builds stagegate as `docker build` would: the Dockerfile's
// go build command, run in a copy of the repository that holds only what
// .dockerignore lets into the build context. That the build succeeds
// proves that the context holds every source and embedded file, and that
// the command needs no cgo.
func imageBinary(t *testing.T) string {
	t.Helper()
	shared.binOnce.Do(func() {
		shared.binErr = errors.New("the build stopped early: see the first test that failed")
		shared.bin, shared.binErr = buildImageBinary(t)
	})
	if shared.binErr != nil {
		t.Fatalf("building stagegate as the Dockerfile does: %v", shared.binErr)
	}
	return shared.bin
}

func buildImageBinary(t *testing.T) (string, error) {
	root := repoRoot(t)
	df := readDockerfile(t)
	di := readDockerignore(t)
	gb := findGoBuild(t, df, map[string]string{"VERSION": testVersion})

	dir, err := os.MkdirTemp("", "stagegate-deploy-test-")
	if err != nil {
		return "", err
	}
	shared.dir = dir
	ctxDir := filepath.Join(dir, "context")
	if err := copyContext(root, ctxDir, di); err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "stagegate")
	args := slices.Clone(gb.args)
	for k, a := range args {
		if a == "-o" && k+1 < len(args) {
			args[k+1] = bin
		} else if strings.HasPrefix(a, "-o=") {
			args[k] = "-o=" + bin
		}
	}
	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", err
	}
	cmd := exec.Command(goTool, args...)
	cmd.Dir = ctxDir
	// The host's GOFLAGS and go.work must not change the build; the
	// golang image uses its own toolchain, as GOTOOLCHAIN=local does.
	cmd.Env = append(withoutEnv(os.Environ(), "GOFLAGS", "GOWORK", "GOTOOLCHAIN", "CGO_ENABLED"), "GOWORK=off", "GOTOOLCHAIN=local")
	cmd.Env = append(cmd.Env, gb.env...)
	t.Logf("in the filtered build context: go %s", strings.Join(args, " "))
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", errors.New(err.Error() + "\n" + string(out))
	}
	return bin, nil
}

// withoutEnv drops the named variables from an environment.
func withoutEnv(env []string, names ...string) []string {
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return slices.Contains(names, k)
	})
}

// copyContext copies the files of root that .dockerignore lets into the
// build context to dst.
func copyContext(root, dst string, di *dockerignore) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		if ex, _ := di.excluded(rel); ex {
			if d.IsDir() && !di.hasExceptions() {
				return filepath.SkipDir
			}
			if !d.IsDir() {
				return nil
			}
		}
		target := filepath.Join(dst, filepath.FromSlash(rel))
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		case d.Type().IsRegular():
			return copyFile(p, target)
		}
		return nil
	})
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, info.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// serveSetting is one flag of `stagegate serve`: its environment variable
// and default, as its help prints them.
type serveSetting struct {
	flag, def string
}

// serveSettings reads `stagegate serve --help` of the built binary: every
// STAGEGATE_* variable it names, with the default of its flag. The help is
// the binary's own account of its settings, so no source is parsed.
func serveSettings(t *testing.T) map[string]serveSetting {
	t.Helper()
	bin := imageBinary(t)
	shared.settingsOnce.Do(func() {
		shared.settingsErr = errors.New("stopped early: see the first test that failed")
		out, err := exec.Command(bin, "serve", "--help").CombinedOutput()
		if err != nil {
			shared.settingsErr = errors.New(err.Error() + "\n" + string(out))
			return
		}
		shared.settings, shared.settingsErr = parseServeHelp(string(out)), nil
		if len(shared.settings) == 0 {
			shared.settingsErr = errors.New("no STAGEGATE_ variables in `stagegate serve --help`:\n" + string(out))
		}
	})
	if shared.settingsErr != nil {
		t.Fatal(shared.settingsErr)
	}
	return shared.settings
}

var (
	helpFlag    = regexp.MustCompile(`^\s+(?:-\w, )?--([a-z][a-z0-9-]*)\b(.*)$`)
	helpEnv     = regexp.MustCompile(`\$?\b(STAGEGATE_[A-Z0-9_]+)`)
	helpDefault = regexp.MustCompile(`\(default "((?:[^"\\]|\\.)*)"\)`)
)

func parseServeHelp(help string) map[string]serveSetting {
	out := map[string]serveSetting{}
	for _, line := range strings.Split(help, "\n") {
		m := helpFlag.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		def := ""
		if d := helpDefault.FindStringSubmatch(m[2]); d != nil {
			def, _ = strconv.Unquote(`"` + d[1] + `"`)
		}
		for _, e := range helpEnv.FindAllStringSubmatch(m[2], -1) {
			s := serveSetting{flag: m[1]}
			if strings.Contains(m[2], "($"+e[1]+")") {
				s.def = def // the flag's own variable
			}
			out[e[1]] = s
		}
	}
	return out
}

func TestParseServeHelp(t *testing.T) {
	got := parseServeHelp(`Usage:
  stagegate serve [flags]

Flags:
      --addr string             listen address ($STAGEGATE_ADDR) (default ":8080")
      --private-key string      the App's private key, a PEM file (or STAGEGATE_PRIVATE_KEY with the PEM itself) ($STAGEGATE_PRIVATE_KEY_FILE)
  -h, --help                    help for serve
`)
	want := map[string]serveSetting{
		"STAGEGATE_ADDR":             {"addr", ":8080"},
		"STAGEGATE_PRIVATE_KEY":      {"private-key", ""},
		"STAGEGATE_PRIVATE_KEY_FILE": {"private-key", ""},
	}
	if len(got) != len(want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: got %+v, want %+v", k, got[k], w)
		}
	}
}

func TestDockerfileBuildsTheBinary(t *testing.T) {
	bin := imageBinary(t)
	out, err := exec.Command(bin, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("stagegate version: %v\n%s", err, out)
	}
	if !strings.HasPrefix(string(out), "stagegate "+testVersion+" ") {
		t.Errorf("stagegate version printed %q; the Dockerfile's -X main.version=$VERSION did not take", out)
	}
}

func TestDockerfile(t *testing.T) {
	df := readDockerfile(t)
	fc := readFly(t)
	gb := findGoBuild(t, df, nil)
	final := df.final()

	t.Run("stages", func(t *testing.T) {
		if len(df.stages) < 2 {
			t.Fatalf("%d stages: build the binary in one, ship it in another without the Go toolchain", len(df.stages))
		}
		if gb.stage == final {
			t.Error("the binary is built in the final stage, so the image carries the Go toolchain")
		}
		if strings.HasPrefix(final.base, "golang") || df.stageNamed(final.base) != nil {
			t.Errorf("final stage FROM %s: want a small base without the Go toolchain", final.base)
		}
	})

	t.Run("build command", func(t *testing.T) {
		if v, _ := envValue(gb.env, "CGO_ENABLED"); v != "0" {
			t.Error("go build runs without CGO_ENABLED=0: the binary would need the build image's C library")
		}
		for _, want := range []string{"./cmd/stagegate", "-trimpath"} {
			if !slices.Contains(gb.args, want) {
				t.Errorf("go %s: no %s", strings.Join(gb.args, " "), want)
			}
		}
		if !slices.ContainsFunc(gb.args, func(a string) bool { return strings.Contains(a, "-X main.version=") }) {
			t.Error("go build does not set main.version from the VERSION build argument")
		}
		if gb.out == "" {
			t.Error("go build has no -o")
		}
	})

	t.Run("module download is a layer of its own", func(t *testing.T) {
		st := gb.stage
		copyMod := st.index(func(in instruction) bool {
			return in.cmd == "COPY" && strings.Contains(in.args, "go.mod") && strings.Contains(in.args, "go.sum")
		})
		download := st.index(func(in instruction) bool { return in.cmd == "RUN" && strings.Contains(in.args, "go mod download") })
		copyAll := st.index(func(in instruction) bool {
			f := strings.Fields(in.args)
			return in.cmd == "COPY" && len(in.flags) == 0 && len(f) == 2 && f[0] == "."
		})
		if copyMod < 0 || download < 0 || copyAll < 0 {
			t.Fatalf("want COPY go.mod go.sum, RUN go mod download, COPY . . in the build stage; got positions %d, %d, %d", copyMod, download, copyAll)
		}
		if !(copyMod < download && download < copyAll && copyAll < gb.run) {
			t.Errorf("order: COPY go.mod go.sum (%d), go mod download (%d), COPY . . (%d), go build (%d)", copyMod, download, copyAll, gb.run)
		}
	})

	var program string
	t.Run("final stage runs the built binary", func(t *testing.T) {
		for _, in := range final.all("COPY") {
			from, ok := in.flag("from")
			f := strings.Fields(in.args)
			if ok && (from == gb.stage.name || from == strconv.Itoa(slices.Index(df.stages, gb.stage))) && len(f) == 2 && path.Clean(f[0]) == path.Clean(gb.out) {
				program = f[1]
			}
		}
		if program == "" {
			t.Fatalf("the final stage does not COPY --from=%s %s", gb.stage.name, gb.out)
		}
		eps := final.all("ENTRYPOINT")
		if len(eps) == 0 {
			t.Fatal("no ENTRYPOINT")
		}
		ep := eps[len(eps)-1]
		if !strings.HasPrefix(ep.args, "[") {
			t.Errorf("ENTRYPOINT %s: use the exec form, or SIGTERM reaches a shell instead of stagegate", ep.args)
		}
		epList, err := ep.list()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(epList, program) {
			t.Errorf("ENTRYPOINT %q does not run %s", epList, program)
		}
		cmds := final.all("CMD")
		if len(cmds) == 0 {
			t.Fatal("no CMD")
		}
		if l, err := cmds[len(cmds)-1].list(); err != nil || len(l) == 0 || l[0] != "serve" {
			t.Errorf("CMD %q: want [\"serve\"]", l)
		}
		for _, in := range final.all("STOPSIGNAL") {
			if in.args != fc.KillSignal {
				t.Errorf("STOPSIGNAL %s, but fly.toml's kill_signal is %s", in.args, fc.KillSignal)
			}
		}
	})

	t.Run("git and a shell for pipelines", func(t *testing.T) {
		installs := map[string]bool{}
		for _, in := range final.all("RUN") {
			words, err := shellWords(in.args, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range commands(words) {
				for i := 0; i+1 < len(c); i++ {
					if c[i] == "apt-get" && c[i+1] == "install" || c[i] == "apk" && c[i+1] == "add" {
						for _, w := range c[i+2:] {
							installs[w] = true
						}
					}
				}
			}
		}
		// The source is fetched with git over HTTPS, and every action
		// runs in a bubblewrap sandbox; the base images considered here
		// all have /bin/sh.
		for _, pkg := range []string{"git", "ca-certificates", "bubblewrap"} {
			if !installs[pkg] {
				t.Errorf("the final stage does not install %s", pkg)
			}
		}
		if strings.Contains(final.base, "distroless") || final.base == "scratch" {
			t.Errorf("FROM %s has no /bin/sh for build commands", final.base)
		}
	})

	t.Run("non-root user owns the volume", func(t *testing.T) {
		users := final.all("USER")
		if len(users) == 0 {
			t.Fatal("no USER: the server would run as root")
		}
		user, _, _ := strings.Cut(users[len(users)-1].args, ":")
		if user == "root" || user == "0" || user == "" {
			t.Fatalf("USER %s is root", users[len(users)-1].args)
		}
		created := false
		for _, in := range final.all("RUN") {
			f := strings.Fields(in.args)
			for i, w := range f {
				if w != "useradd" && w != "adduser" {
					continue
				}
				rest := strings.Join(f[i:], " ")
				created = created || strings.Contains(rest, "--uid "+user+" ") || strings.Contains(rest, "-u "+user+" ") || slices.Contains(f[i:], user)
			}
		}
		if !created {
			t.Errorf("USER %s is not created by useradd or adduser in the final stage", user)
		}
		vol := volumes(t, final)
		volAt := final.index(func(in instruction) bool { return in.cmd == "VOLUME" })
		for _, v := range vol {
			owned := final.index(func(in instruction) bool {
				return in.cmd == "RUN" && strings.Contains(in.args, v) && (strings.Contains(in.args, "chown") || strings.Contains(in.args, "install -d"))
			})
			if owned < 0 || owned > volAt {
				t.Errorf("VOLUME %s is not made the user's before the VOLUME instruction (changes after it are discarded)", v)
			}
		}
	})

	t.Run("agrees with fly.toml", func(t *testing.T) {
		if fc.HTTPService == nil || len(fc.Mounts) == 0 {
			t.Fatal("fly.toml has no [http_service] or [[mounts]]")
		}
		port := strconv.Itoa(fc.HTTPService.InternalPort)
		exposed := false
		for _, in := range final.all("EXPOSE") {
			for _, p := range strings.Fields(in.args) {
				exposed = exposed || p == port || p == port+"/tcp"
			}
		}
		if !exposed {
			t.Errorf("the image does not EXPOSE fly.toml's internal_port %s", port)
		}
		dest := fc.Mounts[0].Destination
		if !slices.Contains(volumes(t, final), dest) {
			t.Errorf("the image declares no VOLUME %s, fly.toml's mount", dest)
		}
		env := final.env(t)
		for _, k := range []string{"STAGEGATE_ADDR", "STAGEGATE_DATABASE", "STAGEGATE_DATA_DIR"} {
			v, ok := env[k]
			if !ok {
				t.Errorf("the image sets no default %s", k)
				continue
			}
			if fv, ok := fc.Env[k]; ok && fv != v {
				t.Errorf("%s: the image says %q, fly.toml %q", k, v, fv)
			}
		}
		if p := portOf(t, env["STAGEGATE_ADDR"]); strconv.Itoa(p) != port {
			t.Errorf("the image's STAGEGATE_ADDR listens on %d, fly.toml's internal_port is %s", p, port)
		}
		for _, p := range []string{sqlitePath(t, env["STAGEGATE_DATABASE"]), env["STAGEGATE_DATA_DIR"]} {
			if !under(p, dest) {
				t.Errorf("the image keeps %s outside its VOLUME %s", p, dest)
			}
		}
	})

	t.Run("no secrets", func(t *testing.T) {
		for _, st := range df.stages {
			for _, in := range append(st.all("ENV"), st.all("ARG")...) {
				kv, err := in.keyValues()
				if err != nil {
					t.Fatal(err)
				}
				for k := range kv {
					if isSecretName(k) {
						t.Errorf("Dockerfile line %d: %s %s: secrets are given at run time, never in the image", in.line, in.cmd, k)
					}
				}
			}
		}
	})

	t.Run("copied files exist and are in the build context", func(t *testing.T) {
		di := readDockerignore(t)
		for _, st := range df.stages {
			for _, in := range append(st.all("COPY"), st.all("ADD")...) {
				if _, ok := in.flag("from"); ok {
					continue
				}
				srcs, err := in.list()
				if err != nil {
					t.Fatal(err)
				}
				for _, src := range srcs[:len(srcs)-1] {
					matches, err := filepath.Glob(repoPath(t, src))
					if err != nil || len(matches) == 0 {
						t.Errorf("Dockerfile line %d: %s %s: no such file in the repository", in.line, in.cmd, src)
						continue
					}
					if rel := path.Clean(src); rel != "." {
						if ex, by := di.excluded(rel); ex {
							t.Errorf("Dockerfile line %d copies %s, which .dockerignore excludes (%s)", in.line, src, by)
						}
					}
				}
			}
		}
	})
}

// volumes lists a stage's VOLUME paths.
func volumes(t *testing.T, st *stage) []string {
	t.Helper()
	var out []string
	for _, in := range st.all("VOLUME") {
		l, err := in.list()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, l...)
	}
	return out
}

// listedPackage is what `go list -json` says of a package of the binary.
type listedPackage struct {
	ImportPath     string
	Dir            string
	GoFiles        []string
	CgoFiles       []string
	IgnoredGoFiles []string
	EmbedFiles     []string
	Module         *struct{ Main bool }
}

func TestDockerignore(t *testing.T) {
	root := repoRoot(t)
	di := readDockerignore(t)

	t.Run("keeps what the build needs", func(t *testing.T) {
		needed := map[string]string{"go.mod": "the module", "go.sum": "the module"}
		// The packages of the binary and the files they embed, for the
		// architectures Fly.io and most hosts run. Files of other
		// packages, such as internal/githubtest's testdata, which only
		// tests import, may stay out.
		for _, arch := range []string{"amd64", "arm64"} {
			cmd := exec.Command("go", "list", "-deps", "-json=ImportPath,Dir,GoFiles,CgoFiles,IgnoredGoFiles,EmbedFiles,Module", "./cmd/stagegate")
			cmd.Dir = root
			cmd.Env = append(withoutEnv(os.Environ(), "GOOS", "GOARCH", "CGO_ENABLED", "GOFLAGS"), "GOOS=linux", "GOARCH="+arch, "CGO_ENABLED=0")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("go list: %v\n%s", err, stderr.String())
			}
			dec := json.NewDecoder(bytes.NewReader(out))
			for {
				var p listedPackage
				if err := dec.Decode(&p); errors.Is(err, io.EOF) {
					break
				} else if err != nil {
					t.Fatal(err)
				}
				if p.Module == nil || !p.Module.Main {
					continue
				}
				rel, err := filepath.Rel(root, p.Dir)
				if err != nil {
					t.Fatal(err)
				}
				for _, files := range [][]string{p.GoFiles, p.CgoFiles, p.IgnoredGoFiles, p.EmbedFiles} {
					for _, f := range files {
						needed[path.Join(filepath.ToSlash(rel), f)] = p.ImportPath
					}
				}
			}
		}
		if !slices.ContainsFunc(slices.Collect(maps.Keys(needed)), func(f string) bool { return strings.HasPrefix(f, "app/store/migrations/") }) {
			t.Error("go list lists no embedded migrations: is the check blind?")
		}
		for f, why := range needed {
			if ex, by := di.excluded(f); ex {
				t.Errorf(".dockerignore's %q excludes %s, which the build of %s needs", by, f, why)
			}
		}
	})

	t.Run("keeps out what it does not need", func(t *testing.T) {
		// A small context uploads fast, and the binary is not rebuilt
		// when only these change.
		for _, f := range []string{".git/HEAD", "stagegate", "bin/stagegate", "stagegate.db", "stagegate.db-wal", "data/work/x", "engine.test", "app/app_test.go", "internal/githubtest/testdata/webhooks/push.json"} {
			if ex, _ := di.excluded(f); !ex {
				t.Errorf(".dockerignore lets %s into the build context", f)
			}
		}
	})
}
