package awsint_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stagegate/stagegate/internal/awstest"
)

// Through moto: the function's JSON object becomes the outputs, nested
// values as JSON text, and names that cannot be variables are skipped.
func TestInvokeOutputsFromMoto(t *testing.T) {
	fn := awstest.Name(t, "smoke")
	newFunction(t, fn)
	awstest.LambdaResults(t, awstest.Region, `{"status": "ok", "count": 3, "nested": {"a": [1, 2]}, "none": null, "bad-key": "x"}`)
	r := hostRunner(t)
	var log []string
	c := call(t.TempDir(), "aws/invoke", map[string]any{"function": fn, "payload": `{"url": "https://example.com"}`}, &log)
	res, err := r.Run(context.Background(), c)
	if err != nil {
		t.Fatalf("%v\n%s", err, strings.Join(log, "\n"))
	}
	want := map[string]string{"status": "ok", "count": "3", "nested": `{"a":[1,2]}`, "none": ""}
	if !maps.Equal(res.Outputs, want) {
		t.Errorf("outputs %v, want %v", res.Outputs, want)
	}
	if !hasLine(log, "warning:", `"bad-key" cannot be an output's name`) || !hasLine(log, "invoking function "+fn) {
		t.Errorf("log:\n%s", strings.Join(log, "\n"))
	}
}

// invokeFake speaks Lambda's Invoke
// (https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html):
// the function's error is the X-Amz-Function-Error header with the
// error's JSON as the payload, and LogType Tail returns the log's end in
// X-Amz-Log-Result, base64.
type invokeFake struct {
	mu        sync.Mutex
	got, path string
	gotQuery  string
	logType   string
	fnErr     string
	answer    string
}

func (f *invokeFake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, _ := io.ReadAll(r.Body)
	f.got, f.path, f.gotQuery, f.logType = string(b), r.URL.Path, r.URL.Query().Get("Qualifier"), r.Header.Get("X-Amz-Log-Type")
	w.Header().Set("X-Amz-Log-Result", base64.StdEncoding.EncodeToString([]byte("START RequestId: 1\nchecking https://example.com\nEND RequestId: 1\n")))
	w.Header().Set("X-Amz-Executed-Version", "7")
	if f.fnErr != "" {
		w.Header().Set("X-Amz-Function-Error", f.fnErr)
	}
	fmt.Fprint(w, f.answer)
}

func TestInvokeAnswers(t *testing.T) {
	tests := []struct {
		name    string
		with    map[string]any
		fnErr   string
		answer  string
		wantErr string
		wantOut map[string]string
		wantLog string
	}{
		{"function error", map[string]any{"function": "smoke", "payload": `{"url":"x"}`, "qualifier": "live"}, "Unhandled",
			`{"errorMessage": "smoke test failed:\n502 from /health", "errorType": "Error", "trace": []}`,
			"aws/invoke: smoke failed (Unhandled): Error: smoke test failed: 502 from /health", nil, ""},
		{"huge error", map[string]any{"function": "smoke"}, "Handled", `"` + strings.Repeat("e", 10_000) + `"`,
			strings.Repeat("e", 100) + "…", nil, ""},
		{"not an object", map[string]any{"function": "smoke"}, "", `"done"`, "", map[string]string{},
			"the function returned no JSON object, so no outputs"},
		{"empty", map[string]any{"function": "smoke"}, "", ``, "", map[string]string{}, ""},
		{"object", map[string]any{"function": "smoke"}, "", `{"url": "https://x", "n": 1.5, "ok": true, "l": [1]}`, "",
			map[string]string{"url": "https://x", "n": "1.5", "ok": "true", "l": "[1]"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &invokeFake{fnErr: tt.fnErr, answer: tt.answer}
			r := fakeRunner(t, f)
			var log []string
			res, err := r.Run(context.Background(), call(t.TempDir(), "aws/invoke", tt.with, &log))
			all := strings.Join(log, "\n")
			if tt.wantErr == "" && err != nil {
				t.Fatalf("%v\n%s", err, all)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			}
			if err != nil && len(err.Error()) > 5000 {
				t.Errorf("error of %d bytes, want it bounded", len(err.Error()))
			}
			if tt.wantErr == "" && (len(res.Outputs) != len(tt.wantOut) || !maps.Equal(res.Outputs, tt.wantOut)) {
				t.Errorf("outputs %v, want %v", res.Outputs, tt.wantOut)
			}
			if tt.wantLog != "" && !hasLine(log, tt.wantLog) {
				t.Errorf("log lacks %q:\n%s", tt.wantLog, all)
			}
			if !hasLine(log, "| checking https://example.com") {
				t.Errorf("log lacks the function's own log:\n%s", all)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			wantBody := "{}"
			if p, ok := tt.with["payload"].(string); ok {
				wantBody = p
			}
			var v any
			if f.got != wantBody || json.Unmarshal([]byte(f.got), &v) != nil || f.logType != "Tail" || f.path != "/2015-03-31/functions/smoke/invocations" {
				t.Errorf("request %s body %q log type %q, want body %q", f.path, f.got, f.logType, wantBody)
			}
			if q, _ := tt.with["qualifier"].(string); f.gotQuery != q {
				t.Errorf("qualifier %q, want %q", f.gotQuery, q)
			}
		})
	}
}
