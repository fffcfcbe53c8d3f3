package ghclient

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/rs/zerolog"
)

const secretToken = "ghs_s3cr3tT0kenThatMustNeverBeLogged"

func TestLoggingKeysAndNoSecrets(t *testing.T) {
	srv := newScripted(t, reply{status: 201, body: `{"token":"` + secretToken + `"}`})
	var buf bytes.Buffer
	logger := zerolog.New(&buf).Level(zerolog.DebugLevel)
	rt := newRouter("/api/v3")
	setAuth := func(next http.RoundTripper) http.RoundTripper {
		return roundTripperFunc(func(r *http.Request) (*http.Response, error) {
			r = r.Clone(r.Context())
			r.Header.Set("Authorization", "token "+secretToken)
			return next.RoundTrip(r)
		})
	}
	c := httpClient(t, setAuth, newLogging(rt, 42, zerolog.Nop()))
	ctx := logger.WithContext(context.Background())
	if _, _, err := do(t, c, ctx, "POST", srv.URL+"/api/v3/repos/acme/widgets/check-runs?secret="+secretToken, `{}`); err != nil {
		t.Fatal(err)
	}
	if got := srv.requests()[0].auth; got != "token "+secretToken {
		t.Fatalf("setup: server saw Authorization %q", got)
	}
	out := buf.String()
	if strings.Contains(out, secretToken) || strings.Contains(strings.ToLower(out), "authorization") {
		t.Errorf("log leaks the credential: %s", out)
	}
	var line map[string]any
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("want one JSON line: %v: %s", err, out)
	}
	want := map[string]any{"level": "debug", "method": "POST", "route": "/repos/{owner}/{repo}/check-runs", "status": float64(201), "installation": float64(42)}
	for k, v := range want {
		if line[k] != v {
			t.Errorf("%s = %v, want %v", k, line[k], v)
		}
	}
	if _, ok := line["duration"]; !ok {
		t.Errorf("no duration in %v", line)
	}
	for _, raw := range []string{"acme", "widgets"} {
		if strings.Contains(out, raw) {
			t.Errorf("log has the raw path (%q): %s", raw, out)
		}
	}
}

func TestLoggingFallbackLogger(t *testing.T) {
	srv := newScripted(t, reply{status: 200})
	var buf bytes.Buffer
	c := httpClient(t, newLogging(newRouter(""), 0, zerolog.New(&buf).Level(zerolog.DebugLevel)))
	if _, _, err := do(t, c, context.Background(), "GET", srv.URL+"/rate_limit", ""); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"route":"/rate_limit"`) {
		t.Errorf("fallback logger got %q", buf.String())
	}
	// A context logger above debug silences the requests.
	buf.Reset()
	quiet := zerolog.New(&buf).Level(zerolog.InfoLevel)
	if _, _, err := do(t, c, quiet.WithContext(context.Background()), "GET", srv.URL+"/rate_limit", ""); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Errorf("info-level context logger logged %q", buf.String())
	}
}

func TestMetrics(t *testing.T) {
	srv := newScripted(t,
		reply{status: 200, header: map[string]string{"X-RateLimit-Remaining": "4999"}},
		reply{status: 404, header: map[string]string{"X-RateLimit-Remaining": "4998"}},
	)
	reg := prometheus.NewRegistry()
	m, err := newMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	// A second registration on the same registry shares the collectors.
	m2, err := newMetrics(reg)
	if err != nil || m2.requests != m.requests {
		t.Fatalf("second newMetrics: %v, shared=%v", err, m2.requests == m.requests)
	}
	rt := newRouter("/api/v3")
	c := httpClient(t, m.middleware(rt, "77"))
	ctx := context.Background()
	for _, p := range []string{"/api/v3/repos/acme/widgets/check-runs/123", "/api/v3/repos/other/thing/check-runs/456"} {
		if _, _, err := do(t, c, ctx, "GET", srv.URL+p, ""); err != nil {
			t.Fatal(err)
		}
	}
	closed := httpClient(t, m.middleware(rt, "77"))
	srv.Close()
	_, _, _ = do(t, closed, ctx, "PATCH", srv.URL+"/api/v3/repos/acme/widgets/check-runs/1", "{}")

	counts := map[string]float64{}
	gauges := map[string]float64{}
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		for _, mt := range mf.GetMetric() {
			switch mf.GetName() {
			case "stagegate_github_requests_total":
				counts[labels(mt)] = mt.GetCounter().GetValue()
			case "stagegate_github_rate_limit_remaining":
				gauges[labels(mt)] = mt.GetGauge().GetValue()
			}
		}
	}
	wantCounts := map[string]float64{
		"method=GET,route=/repos/{owner}/{repo}/check-runs/{id},status=200":     1,
		"method=GET,route=/repos/{owner}/{repo}/check-runs/{id},status=404":     1,
		"method=PATCH,route=/repos/{owner}/{repo}/check-runs/{id},status=error": 1,
	}
	if len(counts) != len(wantCounts) {
		t.Errorf("counters = %v, want %v", counts, wantCounts)
	}
	for k, v := range wantCounts {
		if counts[k] != v {
			t.Errorf("requests_total{%s} = %v, want %v", k, counts[k], v)
		}
	}
	if g := gauges["installation=77"]; g != 4998 || len(gauges) != 1 {
		t.Errorf("rate_limit_remaining = %v, want installation=77 at 4998 (the latest)", gauges)
	}
}

func labels(m *dto.Metric) string {
	var parts []string
	for _, l := range m.GetLabel() {
		parts = append(parts, l.GetName()+"="+l.GetValue())
	}
	return strings.Join(parts, ",")
}
