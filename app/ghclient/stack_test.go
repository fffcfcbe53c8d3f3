package ghclient

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-github/v60/github"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/stagegate/stagegate/internal/githubtest"
)

// TestInstallationStack checks how the middlewares compose on a real
// client: a failed token mint is retried (minting is idempotent), a read
// is retried, a check-run POST is not, every attempt is counted and
// logged, and the rate limit gauge follows the responses.
func TestInstallationStack(t *testing.T) {
	const tok = "ghs_stackTestTokenValue"
	var mu sync.Mutex
	hits := map[string]int{}
	hit := func(k string) int {
		mu.Lock()
		defer mu.Unlock()
		hits[k]++
		return hits[k]
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v3/app/installations/7/access_tokens", func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ") {
			t.Errorf("mint without a JWT")
		}
		if hit("mint") == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(map[string]string{"token": tok, "expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	})
	mux.HandleFunc("GET /api/v3/repos/acme/widgets", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "token "+tok {
			t.Errorf("read with Authorization %q", r.Header.Get("Authorization"))
		}
		if hit("get") == 1 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		w.Header().Set("X-RateLimit-Remaining", "4321")
		_, _ = w.Write([]byte(`{"full_name":"acme/widgets"}`))
	})
	mux.HandleFunc("POST /api/v3/repos/acme/widgets/check-runs", func(w http.ResponseWriter, r *http.Request) {
		hit("create")
		w.WriteHeader(http.StatusBadGateway)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	logs := &syncBuffer{}
	reg := prometheus.NewRegistry()
	c, err := New(Config{
		BaseURL: srv.URL + "/api/v3/", AppID: 1, PrivateKey: githubtest.New(t).PrivateKeyPEM(),
		Registry: reg, Retry: RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ctx = zerolog.New(logs).Level(zerolog.DebugLevel).WithContext(ctx)
	gh, err := c.Installation(ctx, 7)
	if err != nil {
		t.Fatal(err)
	}
	repo, _, err := gh.Repositories.Get(ctx, "acme", "widgets")
	if err != nil || repo.GetFullName() != "acme/widgets" {
		t.Fatalf("Get = %v, %v", repo, err)
	}
	_, _, err = gh.Checks.CreateCheckRun(ctx, "acme", "widgets", github.CreateCheckRunOptions{Name: "stagegate", HeadSHA: strings.Repeat("a", 40)})
	if err == nil {
		t.Fatal("create check run: want the 502")
	}
	mu.Lock()
	if hits["mint"] != 2 || hits["get"] != 2 || hits["create"] != 1 {
		t.Errorf("server hits = %v, want mint 2, get 2, create 1", hits)
	}
	mu.Unlock()

	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			got[mf.GetName()+"{"+labels(m)+"}"] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	for k, v := range map[string]float64{
		"stagegate_github_requests_total{method=POST,route=/app/installations/{id}/access_tokens,status=503}": 1,
		"stagegate_github_requests_total{method=POST,route=/app/installations/{id}/access_tokens,status=201}": 1,
		"stagegate_github_requests_total{method=GET,route=/repos/{owner}/{repo},status=502}":                  1,
		"stagegate_github_requests_total{method=GET,route=/repos/{owner}/{repo},status=200}":                  1,
		"stagegate_github_requests_total{method=POST,route=/repos/{owner}/{repo}/check-runs,status=502}":      1,
		"stagegate_github_rate_limit_remaining{installation=7}":                                               4321,
	} {
		if got[k] != v {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
	out := logs.String()
	if n := strings.Count(out, `"message":"github request"`); n != 5 {
		t.Errorf("%d requests logged, want 5 (every attempt):\n%s", n, out)
	}
	if strings.Contains(out, tok) || strings.Contains(out, "Bearer") {
		t.Errorf("credentials in the logs:\n%s", out)
	}
}
