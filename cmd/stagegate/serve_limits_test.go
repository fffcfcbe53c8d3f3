package main

import (
	"strings"
	"testing"
	"time"
)

// Bad retention and free-space settings stop start-up naming the flag.
func TestServeRefusesBadLimits(t *testing.T) {
	tests := []struct {
		name string
		env  string
		want string
	}{
		{"retention under a day", "STAGEGATE_RETENTION=1h", "--retention (STAGEGATE_RETENTION) must be a duration of at least 24h"},
		{"retention not a duration", "STAGEGATE_RETENTION=soon", "--retention (STAGEGATE_RETENTION)"},
		{"floor not a size", "STAGEGATE_MIN_FREE_SPACE=lots", "--min-free-space (STAGEGATE_MIN_FREE_SPACE) must be a size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := stagegate(t, t.TempDir(), []string{"STAGEGATE_WEBHOOK_SECRET=s", tt.env}, "serve")
			if res.code != 2 || !strings.Contains(res.stderr, tt.want) {
				t.Fatalf("exit %d, stderr %q; want 2 and %q", res.code, res.stderr, tt.want)
			}
		})
	}
}

func TestParseRetention(t *testing.T) {
	for in, want := range map[string]time.Duration{"30d": 30 * 24 * time.Hour, "72h": 72 * time.Hour, "1d": 24 * time.Hour} {
		if got, err := parseRetention(in); err != nil || got != want {
			t.Errorf("parseRetention(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "23h", "0d", "-1d", "d"} {
		if _, err := parseRetention(in); err == nil {
			t.Errorf("parseRetention(%q) accepted", in)
		}
	}
}
