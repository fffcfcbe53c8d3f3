package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/stagegate/stagegate/app"
	"github.com/stagegate/stagegate/pipeline/runner/local"
)

// sandboxFlags are the sandbox settings of run and serve.
type sandboxFlags struct {
	mode, expose, limits, maxLimits string
	serve                           bool
}

func (s *sandboxFlags) register(fs *pflag.FlagSet, def string) {
	fs.StringVar(&s.mode, "sandbox", def, "run actions in a bubblewrap sandbox: required, auto (fall back with a warning) or off ($STAGEGATE_SANDBOX)")
	fs.StringVar(&s.expose, "sandbox-expose", "", "host paths, comma-separated, that actions may read besides /usr and the basics of /etc, such as toolchains under /opt ($STAGEGATE_SANDBOX_EXPOSE)")
	if s.serve {
		fs.StringVar(&s.limits, "action-limits", "", "default cgroup limits of each action where cgroup v2 is delegated, as pids=512,memory=4G,cpu=100 ($STAGEGATE_ACTION_LIMITS)")
		fs.StringVar(&s.maxLimits, "max-action-limits", "", "the most any action may get, in the same form ($STAGEGATE_MAX_ACTION_LIMITS)")
	}
}

// runner makes the local runner the flags ask for. hidden are paths to
// cover inside the sandbox besides those it never shows. Notes are said
// once, at start.
func (s *sandboxFlags) runner(ctx context.Context, fs *pflag.FlagSet, grace time.Duration, hidden []string) (*local.Runner, []string, error) {
	for flag, env := range map[string]string{"sandbox": "STAGEGATE_SANDBOX", "sandbox-expose": "STAGEGATE_SANDBOX_EXPOSE", "action-limits": "STAGEGATE_ACTION_LIMITS", "max-action-limits": "STAGEGATE_MAX_ACTION_LIMITS"} {
		if f := fs.Lookup(flag); f != nil && !f.Changed {
			if v, ok := os.LookupEnv(env); ok {
				_ = f.Value.Set(v)
			}
		}
	}
	mode, err := local.ParseMode(s.mode)
	if err != nil {
		return nil, nil, usageError(&app.SettingError{Flag: "sandbox", Env: "STAGEGATE_SANDBOX", Problem: err.Error()})
	}
	def, err := local.ParseLimits(s.limits)
	if err != nil {
		return nil, nil, usageError(&app.SettingError{Flag: "action-limits", Env: "STAGEGATE_ACTION_LIMITS", Problem: err.Error()})
	}
	max, err := local.ParseLimits(s.maxLimits)
	if err != nil {
		return nil, nil, usageError(&app.SettingError{Flag: "max-action-limits", Env: "STAGEGATE_MAX_ACTION_LIMITS", Problem: err.Error()})
	}
	var abs []string
	for _, h := range hidden {
		if h == "" {
			continue
		}
		if a, err := filepath.Abs(h); err == nil {
			abs = append(abs, a)
		}
	}
	var expose []string
	for _, p := range strings.Split(s.expose, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		if !filepath.IsAbs(p) {
			return nil, nil, usageError(&app.SettingError{Flag: "sandbox-expose", Env: "STAGEGATE_SANDBOX_EXPOSE", Problem: fmt.Sprintf("takes absolute paths, not %q", p)})
		}
		expose = append(expose, p)
	}
	r, notes, err := local.NewRunner(ctx, local.Config{
		Mode: mode, Grace: grace, Expose: expose, Hidden: abs,
		Cgroups: s.serve, DefaultLimits: def, MaxLimits: max,
	})
	if err != nil {
		return nil, nil, &exitError{code: exitFailed, err: fmt.Errorf("%w (--sandbox=required)", err)}
	}
	if mode == local.ModeOff && s.serve {
		// A server runs others' code: say so at every start.
		notes = append(notes, "the sandbox is off (--sandbox=off): actions run as this user and see all it sees")
	}
	return r, notes, nil
}
