package githubtest

import (
	"net/http"
	"testing"
)

func TestOutage(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t)
	get := func() int {
		req, _ := http.NewRequest(http.MethodGet, f.srv.APIURL()+"repos/acme/widgets", nil)
		req.Header.Set("Authorization", "token "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	restore := f.srv.Outage(http.MethodGet, "/repos/{owner}/{repo}", http.StatusBadGateway)
	if code := get(); code != http.StatusBadGateway {
		t.Errorf("during the outage: %d, want 502", code)
	}
	restore()
	if code := get(); code != http.StatusOK {
		t.Errorf("after the outage: %d, want 200", code)
	}
}
