package deploy_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

// TestFlyReplicasConfig checks fly.replicas.toml, the several-Machine
// variant on Postgres: keys flyctl knows, settings serve has, no secret
// (the database URL carries a password: it is a secret), no volume, two
// Machines at least, rolling deploys, and a kill timeout above the grace.
func TestFlyReplicasConfig(t *testing.T) {
	var fc flyConfig
	md, err := toml.DecodeFile(repoPath(t, "fly.replicas.toml"), &fc)
	if err != nil {
		t.Fatalf("fly.replicas.toml: %v", err)
	}
	for _, k := range md.Undecoded() {
		t.Errorf("fly.replicas.toml: unknown key %s (misspelt? flyctl ignores what it does not know)", k)
	}
	if _, err := os.Stat(repoPath(t, fc.Build.Dockerfile)); err != nil {
		t.Errorf("[build] dockerfile: %v", err)
	}
	settings := serveSettings(t)
	for k := range fc.Env {
		if isSecretName(k) || k == "STAGEGATE_DATABASE" {
			t.Errorf("[env] %s: a secret (the database URL holds a password); set it with `fly secrets set`", k)
		}
		if _, ok := settings[k]; !ok {
			t.Errorf("[env] %s is not a setting of stagegate serve (misspelt?)", k)
		}
	}
	if len(fc.Mounts) != 0 {
		t.Error("[[mounts]]: a volume attaches to one Machine; replicas keep their state in Postgres")
	}
	if fc.HTTPService == nil || fc.HTTPService.MinMachinesRunning < 2 {
		t.Error("[http_service] min_machines_running: want at least 2, or it is not replicas")
	}
	if fc.Deploy == nil || fc.Deploy.Strategy != "rolling" {
		t.Error(`[deploy] strategy: want "rolling", one Machine at a time`)
	}
	grace, err := time.ParseDuration(fc.Env["STAGEGATE_SHUTDOWN_GRACE"])
	if err != nil {
		t.Fatalf("STAGEGATE_SHUTDOWN_GRACE: %v", err)
	}
	if fc.KillTimeout.Duration < grace+15*time.Second {
		t.Errorf("kill_timeout %v: want at least the grace %v + 15s", fc.KillTimeout.Duration, grace)
	}
	if ttl, err := time.ParseDuration(fc.Env["STAGEGATE_LEASE_TTL"]); err != nil || ttl < time.Second {
		t.Errorf("STAGEGATE_LEASE_TTL %q: want a duration of at least 1s", fc.Env["STAGEGATE_LEASE_TTL"])
	}
	raw, err := os.ReadFile(repoPath(t, "fly.replicas.toml"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), "-----BEGIN") {
		t.Error("fly.replicas.toml holds a PEM block")
	}
}
