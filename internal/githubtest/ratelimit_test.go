package githubtest

import (
	"net/http"
	"strconv"
	"testing"
)

func TestRateLimitHeadersAndExhaustion(t *testing.T) {
	f := newFixture(t, WithRateLimit(3))
	tok := f.token(t)
	get := func() *http.Response {
		req, _ := http.NewRequest(http.MethodGet, f.srv.APIURL()+"repos/acme/widgets", nil)
		req.Header.Set("Authorization", "token "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for want := 2; want >= 0; want-- {
		resp := get()
		if resp.StatusCode != 200 || resp.Header.Get("X-RateLimit-Remaining") != strconv.Itoa(want) ||
			resp.Header.Get("X-RateLimit-Limit") != "3" || resp.Header.Get("X-RateLimit-Reset") == "" {
			t.Fatalf("status %d, remaining %q, want 200 and %d", resp.StatusCode, resp.Header.Get("X-RateLimit-Remaining"), want)
		}
	}
	if resp := get(); resp.StatusCode != http.StatusForbidden || resp.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("over the limit: %d remaining %q, want 403 and 0", resp.StatusCode, resp.Header.Get("X-RateLimit-Remaining"))
	}
}
