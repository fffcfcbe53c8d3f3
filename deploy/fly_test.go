package deploy_test

import (
	"fmt"
	"net"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

// flyConfig is the part of Fly.io's fly.toml schema that stagegate's
// fly.toml uses, with flyctl's key names (internal/appconfig in
// github.com/superfly/flyctl). fly.toml may use no other key: one that
// this struct does not know is most likely misspelt, and flyctl would
// ignore it silently.
type flyConfig struct {
	App           string            `toml:"app"`
	PrimaryRegion string            `toml:"primary_region"`
	KillSignal    string            `toml:"kill_signal"`
	KillTimeout   flyDuration       `toml:"kill_timeout"`
	SwapSizeMB    int               `toml:"swap_size_mb"`
	Build         flyBuild          `toml:"build"`
	Deploy        *flyDeploy        `toml:"deploy"`
	Env           map[string]string `toml:"env"`
	Mounts        []flyMount        `toml:"mounts"`
	HTTPService   *flyHTTPService   `toml:"http_service"`
	Metrics       []flyMetrics      `toml:"metrics"`
	VM            []flyVM           `toml:"vm"`
}

type flyBuild struct {
	Dockerfile string            `toml:"dockerfile"`
	Args       map[string]string `toml:"args"`
}

type flyDeploy struct {
	Strategy string `toml:"strategy"`
}

type flyMount struct {
	Source                  string `toml:"source"`
	Destination             string `toml:"destination"`
	InitialSize             string `toml:"initial_size"`
	SnapshotRetention       int    `toml:"snapshot_retention"`
	AutoExtendSizeThreshold int    `toml:"auto_extend_size_threshold"`
	AutoExtendSizeIncrement string `toml:"auto_extend_size_increment"`
	AutoExtendSizeLimit     string `toml:"auto_extend_size_limit"`
}

type flyHTTPService struct {
	InternalPort       int  `toml:"internal_port"`
	ForceHTTPS         bool `toml:"force_https"`
	AutoStopMachines   any  `toml:"auto_stop_machines"` // "off", "stop", "suspend", or a bool
	AutoStartMachines  bool `toml:"auto_start_machines"`
	MinMachinesRunning int  `toml:"min_machines_running"`
	Concurrency        struct {
		Type      string `toml:"type"`
		SoftLimit int    `toml:"soft_limit"`
		HardLimit int    `toml:"hard_limit"`
	} `toml:"concurrency"`
	Checks []flyHTTPCheck `toml:"checks"`
}

type flyHTTPCheck struct {
	GracePeriod flyDuration       `toml:"grace_period"`
	Interval    flyDuration       `toml:"interval"`
	Timeout     flyDuration       `toml:"timeout"`
	Method      string            `toml:"method"`
	Path        string            `toml:"path"`
	Protocol    string            `toml:"protocol"`
	Headers     map[string]string `toml:"headers"`
}

type flyMetrics struct {
	Port int    `toml:"port"`
	Path string `toml:"path"`
}

type flyVM struct {
	Size     string `toml:"size"`
	Memory   string `toml:"memory"`
	CPUKind  string `toml:"cpu_kind"`
	CPUs     int    `toml:"cpus"`
	MemoryMB int    `toml:"memory_mb"`
}

// flyDuration is a duration written with its unit, such as "60s". flyctl
// also reads bare numbers, as seconds for kill_timeout but milliseconds
// for checks; fly.toml avoids the ambiguity.
type flyDuration struct{ time.Duration }

func (d *flyDuration) UnmarshalTOML(v any) error {
	s, ok := v.(string)
	if !ok {
		return fmt.Errorf("duration %v: write it as a string with a unit, such as \"30s\"", v)
	}
	var err error
	d.Duration, err = time.ParseDuration(s)
	return err
}

// shutdownAfterGrace is how long `stagegate serve` may still take after
// its shutdown grace: app.App.Serve waits grace+15s for the whole stop.
const shutdownAfterGrace = 15 * time.Second

// secretNames are the settings that must never be written in fly.toml or
// the Dockerfile; STAGEGATE_SECRET_* are pipelines' secrets.
var secretNames = []string{"STAGEGATE_APP_ID", "STAGEGATE_PRIVATE_KEY", "STAGEGATE_PRIVATE_KEY_FILE", "STAGEGATE_WEBHOOK_SECRET"}

func isSecretName(k string) bool {
	for _, s := range secretNames {
		if k == s {
			return true
		}
	}
	return strings.HasPrefix(k, "STAGEGATE_SECRET_") || strings.Contains(k, "PRIVATE_KEY") || strings.Contains(k, "WEBHOOK_SECRET")
}

func readFly(t *testing.T) *flyConfig {
	t.Helper()
	var fc flyConfig
	md, err := toml.DecodeFile(repoPath(t, "fly.toml"), &fc)
	if err != nil {
		t.Fatalf("fly.toml: %v", err)
	}
	for _, k := range md.Undecoded() {
		t.Errorf("fly.toml: unknown key %s (misspelt? flyctl ignores what it does not know)", k)
	}
	return &fc
}

// flyEnv is the environment fly.toml gives the server: the image's ENV
// overridden by [env]. Secrets come from `fly secrets set`.
func flyEnv(t *testing.T, fc *flyConfig) map[string]string {
	t.Helper()
	env := readDockerfile(t).final().env(t)
	for k, v := range fc.Env {
		env[k] = v
	}
	return env
}

// setting is what the server reads for one variable: its value in env,
// or the flag's default.
func setting(t *testing.T, env map[string]string, name string) string {
	t.Helper()
	if v, ok := env[name]; ok {
		return v
	}
	s, ok := serveSettings(t)[name]
	if !ok {
		t.Fatalf("stagegate serve has no setting %s", name)
	}
	return s.def
}

func portOf(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("listen address %q: %v", addr, err)
	}
	n, err := strconv.Atoi(p)
	if err != nil {
		t.Fatalf("listen address %q: port %q is not a number", addr, p)
	}
	return n
}

// sqlitePath is the file of a sqlite:// database URL, as app/store reads it.
func sqlitePath(t *testing.T, url string) string {
	t.Helper()
	p, ok := strings.CutPrefix(url, "sqlite://")
	if !ok {
		t.Fatalf("STAGEGATE_DATABASE %q: want sqlite://PATH", url)
	}
	return p
}

// under reports whether p is dir or inside it.
func under(p, dir string) bool {
	p, dir = path.Clean(p), path.Clean(dir)
	return p == dir || strings.HasPrefix(p, strings.TrimSuffix(dir, "/")+"/")
}

func TestFlyConfig(t *testing.T) {
	fc := readFly(t)
	env := flyEnv(t, fc)

	t.Run("app", func(t *testing.T) {
		if fc.App == "" {
			t.Error("app is empty")
		}
		if len(fc.PrimaryRegion) != 3 {
			t.Errorf("primary_region %q: want a region code such as ams", fc.PrimaryRegion)
		}
		if fc.Build.Dockerfile == "" {
			t.Fatal("[build] names no dockerfile")
		}
		if _, err := os.Stat(repoPath(t, fc.Build.Dockerfile)); err != nil {
			t.Errorf("[build] dockerfile: %v", err)
		}
		if len(fc.VM) != 1 || fc.VM[0].Size == "" && fc.VM[0].CPUKind == "" {
			t.Errorf("[[vm]]: want one, with a size; got %+v", fc.VM)
		}
	})

	t.Run("env holds settings of serve and no secrets", func(t *testing.T) {
		settings := serveSettings(t)
		for k, v := range fc.Env {
			if isSecretName(k) {
				t.Errorf("[env] %s: secrets are set with `fly secrets set`, never in fly.toml", k)
				continue
			}
			if _, ok := settings[k]; !ok {
				t.Errorf("[env] %s is not a setting of stagegate serve (misspelt?)", k)
			}
			if strings.Contains(v, "PRIVATE KEY") {
				t.Errorf("[env] %s holds a private key", k)
			}
		}
		raw, err := os.ReadFile(repoPath(t, "fly.toml"))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), "-----BEGIN") {
			t.Error("fly.toml holds a PEM block")
		}
	})

	t.Run("port", func(t *testing.T) {
		if fc.HTTPService == nil {
			t.Fatal("no [http_service]")
		}
		addr := setting(t, env, "STAGEGATE_ADDR")
		if got, want := fc.HTTPService.InternalPort, portOf(t, addr); got != want {
			t.Errorf("[http_service] internal_port = %d, but the server listens on %q", got, addr)
		}
		if !fc.HTTPService.ForceHTTPS {
			t.Error("[http_service] force_https is off: webhooks would be accepted over plain HTTP")
		}
		for _, m := range fc.Metrics {
			if m.Port != fc.HTTPService.InternalPort {
				t.Errorf("[[metrics]] port %d: the server serves /metrics on %d", m.Port, fc.HTTPService.InternalPort)
			}
		}
	})

	t.Run("one machine, always on", func(t *testing.T) {
		hs := fc.HTTPService
		if hs == nil {
			t.Fatal("no [http_service]")
		}
		// SQLite has one writer and the volume attaches to one Machine;
		// a stopped Machine misses webhooks and kills running pipelines.
		if v := hs.AutoStopMachines; v != "off" && v != false {
			t.Errorf("auto_stop_machines = %v, want \"off\"", v)
		}
		if hs.MinMachinesRunning < 1 {
			t.Errorf("min_machines_running = %d, want 1", hs.MinMachinesRunning)
		}
		if len(fc.Mounts) != 1 {
			t.Errorf("%d [[mounts]], want 1: the database lives on it", len(fc.Mounts))
		}
	})

	t.Run("volume holds the database and the data dir", func(t *testing.T) {
		if len(fc.Mounts) == 0 {
			t.Fatal("no [[mounts]]")
		}
		m := fc.Mounts[0]
		if m.Source == "" || !path.IsAbs(m.Destination) {
			t.Fatalf("[[mounts]] %+v: want a source and an absolute destination", m)
		}
		db := sqlitePath(t, setting(t, env, "STAGEGATE_DATABASE"))
		dataDir := setting(t, env, "STAGEGATE_DATA_DIR")
		for name, p := range map[string]string{"STAGEGATE_DATABASE": db, "STAGEGATE_DATA_DIR": dataDir} {
			if !path.IsAbs(p) || !under(p, m.Destination) {
				t.Errorf("%s %q is not on the volume at %s: it would be lost at every deploy", name, p, m.Destination)
			}
		}
		// app/store opens the file but does not create its directory, and
		// on a new volume only the mount point exists.
		if dir := path.Dir(db); dir != path.Clean(m.Destination) {
			t.Errorf("the database's directory %s does not exist on a new volume; put the file at the top of %s", dir, m.Destination)
		}
	})

	t.Run("checks", func(t *testing.T) {
		hs := fc.HTTPService
		if hs == nil || len(hs.Checks) == 0 {
			t.Fatal("[http_service] has no checks")
		}
		health := false
		for _, c := range hs.Checks {
			health = health || c.Path == "/healthz"
			if c.Method != "" && !strings.EqualFold(c.Method, "GET") {
				t.Errorf("check %s: method %s; the server answers GET", c.Path, c.Method)
			}
			if c.Interval.Duration <= 0 || c.Timeout.Duration <= 0 || c.GracePeriod.Duration <= 0 {
				t.Errorf("check %s: set interval, timeout and grace_period", c.Path)
			}
			if c.Timeout.Duration >= c.Interval.Duration {
				t.Errorf("check %s: timeout %v is not below the interval %v", c.Path, c.Timeout, c.Interval)
			}
		}
		if !health {
			t.Error("no check of GET /healthz")
		}
		// That the server answers these paths with 200 is checked by
		// TestServeWithFlyEnv, on the real binary.
	})

	t.Run("kill timeout covers the shutdown grace", func(t *testing.T) {
		if fc.KillSignal != "SIGTERM" {
			t.Errorf("kill_signal = %q; stagegate stops gracefully on SIGTERM", fc.KillSignal)
		}
		grace, err := time.ParseDuration(setting(t, env, "STAGEGATE_SHUTDOWN_GRACE"))
		if err != nil {
			t.Fatalf("STAGEGATE_SHUTDOWN_GRACE: %v", err)
		}
		if need := grace + shutdownAfterGrace; fc.KillTimeout.Duration < need {
			t.Errorf("kill_timeout = %v: running pipelines get %v, and the stop up to %v more; Fly would kill the Machine first", fc.KillTimeout, grace, shutdownAfterGrace)
		}
	})

	t.Run("public url", func(t *testing.T) {
		// The public URL is each deployment's own address: a value here
		// would ship one app's address to everyone who copies the file.
		if u, ok := fc.Env["STAGEGATE_PUBLIC_URL"]; ok {
			t.Errorf("fly.toml sets STAGEGATE_PUBLIC_URL = %s; leave it to each deployment", u)
		}
	})
}

func repoPath(t *testing.T, rel string) string {
	t.Helper()
	return filepath.Join(repoRoot(t), filepath.FromSlash(rel))
}

// repoRoot is the module's root, the directory above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	mod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil || !strings.Contains(string(mod), "module github.com/stagegate/stagegate\n") {
		t.Fatalf("%s is not the root of github.com/stagegate/stagegate: %v", root, err)
	}
	return root
}
