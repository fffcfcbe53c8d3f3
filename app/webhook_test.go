package app_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stagegate/stagegate/internal/githubtest"
)

func TestWebhookEndpoint(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": "stages: [{ name: s, actions: [{ name: a, run: 'true' }] }]\n"})
	push := h.repo.Webhook("push", nil)
	tests := []struct {
		name     string
		event    string
		guid     string
		body     []byte
		sign     func(body []byte) (header, value string)
		wantCode int
		wantBody string
	}{
		{name: "ping", event: "ping", body: h.repo.Webhook("ping", nil), wantCode: 200, wantBody: "pong"},
		{name: "uninteresting event", event: "star", body: []byte(`{"action":"created"}`), wantCode: 202, wantBody: "ignored"},
		{name: "queued", event: "push", body: push, wantCode: 202, wantBody: "queued"},
		{name: "no signature", event: "push", body: push, sign: func([]byte) (string, string) { return "", "" }, wantCode: 401},
		{name: "wrong secret", event: "push", body: push, sign: func(b []byte) (string, string) {
			return "X-Hub-Signature-256", githubtest.Sign([]byte("other"), b)
		}, wantCode: 401},
		{name: "malformed signature", event: "push", body: push, sign: func([]byte) (string, string) {
			return "X-Hub-Signature-256", "sha256=zz"
		}, wantCode: 401},
		{name: "SHA-1 only", event: "push", body: push, sign: func(b []byte) (string, string) {
			return "X-Hub-Signature", githubtest.SignSHA1([]byte(webhookSecret), b)
		}, wantCode: 401},
		{name: "signed but not JSON", event: "push", body: []byte("{not json"), wantCode: 400},
		{name: "missing event", event: "", body: push, wantCode: 400},
		{name: "missing delivery", event: "push", guid: "-", body: push, wantCode: 400},
		{name: "over 25 MB", event: "push", body: bytes.Repeat([]byte(" "), 25<<20+1), wantCode: 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodPost, h.srv.URL+"/webhook", bytes.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.event != "" {
				req.Header.Set("X-GitHub-Event", tt.event)
			}
			guid := tt.guid
			switch guid {
			case "-":
			case "":
				guid = githubtest.NewDeliveryID()
				req.Header.Set("X-GitHub-Delivery", guid)
			default:
				req.Header.Set("X-GitHub-Delivery", guid)
			}
			header, value := "X-Hub-Signature-256", githubtest.Sign([]byte(webhookSecret), tt.body)
			if tt.sign != nil {
				header, value = tt.sign(tt.body)
			}
			if header != "" {
				req.Header.Set(header, value)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantCode || !strings.Contains(string(b), tt.wantBody) {
				t.Errorf("%d %q, want %d %q", resp.StatusCode, b, tt.wantCode, tt.wantBody)
			}
			// What was refused, or is not acted on, is not stored (and so
			// never queued); what was accepted is.
			stored := guid != "-" && h.app.DeliveryStored(context.Background(), guid)
			if want := tt.wantCode == http.StatusAccepted && tt.event == "push"; stored != want {
				t.Errorf("delivery stored = %v, want %v", stored, want)
			}
		})
	}
}

func TestHealthReadinessAndMetrics(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": threeStages})
	sha := h.push("main", map[string]string{"a": "1"})
	h.waitChecks(sha, 20*time.Second)
	// The runs counter moves once the run is recorded finished, after its
	// checks.
	waitFor(t, func() bool { return h.runFinished(sha) })
	for path, want := range map[string]string{
		"/healthz":           "ok",
		"/readyz":            "ready",
		"/metrics":           `stagegate_webhook_deliveries_total{event="push",result="queued"} 1`,
		"/metrics#runs":      `stagegate_runs_total{conclusion="success"} 1`,
		"/metrics#queue":     `stagegate_queue_depth{queue="runs"}`,
		"/metrics#github":    `stagegate_github_requests_total{method="POST",route="/repos/{owner}/{repo}/check-runs",status="201"}`,
		"/metrics#ratelimit": `stagegate_github_rate_limit_remaining`,
	} {
		path, _, _ := strings.Cut(path, "#")
		resp, err := http.Get(h.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), want) {
			t.Errorf("GET %s = %d, lacks %q:\n%s", path, resp.StatusCode, want, b)
		}
	}
}

// A signed body sent again under a new X-GitHub-Delivery (the signature
// does not cover that header) is a duplicate, answered as a redelivery
// is and never stored or processed again.
func TestWebhookReplayUnderAnotherGUID(t *testing.T) {
	h := newHarness(t, map[string]string{".stagegate.yml": "stages: [{ name: s, actions: [{ name: a, run: 'true' }] }]\n"})
	_, body := h.pushBody("main", map[string]string{"a": "1"})
	first, replay := githubtest.NewDeliveryID(), githubtest.NewDeliveryID()
	steps := []struct {
		name       string
		guid       string
		body       []byte
		wantCode   int
		wantBody   string
		wantStored bool
	}{
		{"first delivery", first, body, 202, "queued", true},
		{"replay under a new GUID", replay, body, 200, "duplicate", false},
		{"GitHub's redelivery", first, body, 200, "duplicate", true},
		{"another body", githubtest.NewDeliveryID(), append([]byte(" "), body...), 202, "queued", true},
	}
	for _, s := range steps {
		code, text := h.send("push", s.guid, s.body)
		if code != s.wantCode || !strings.Contains(text, s.wantBody) {
			t.Errorf("%s: %d %q, want %d %q", s.name, code, text, s.wantCode, s.wantBody)
		}
		if stored := h.app.DeliveryStored(context.Background(), s.guid); stored != s.wantStored {
			t.Errorf("%s: stored = %v, want %v", s.name, stored, s.wantStored)
		}
	}
}
