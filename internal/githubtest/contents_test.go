package githubtest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Files from 1 to 100 MB come whole only with the raw media type.
func TestLargeContents(t *testing.T) {
	big := strings.Repeat("x", maxInlineContent) + "\n" // 1 MB and a byte
	for _, tc := range []struct {
		name      string
		opts      []Option
		wantJSON  int
		wantError string
	}{
		{name: "github.com answers encoding none", wantJSON: http.StatusOK},
		{name: "older servers answer too_large", opts: []Option{WithLargeContentsForbidden()}, wantJSON: http.StatusForbidden, wantError: "too_large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, tc.opts...)
			sha := f.repo.Commit("main", map[string]string{"big.txt": big, "small.txt": "small\n"}, "big")
			tok := f.token(t)
			get := func(path, accept string) (int, string, []byte) {
				t.Helper()
				req, _ := http.NewRequest("GET", f.repo.APIURL()+"/contents/"+path+"?ref="+sha, nil)
				req.Header.Set("Authorization", "token "+tok)
				if accept != "" {
					req.Header.Set("Accept", accept)
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, resp.Header.Get("Content-Type"), b
			}
			code, _, body := get("big.txt", "application/vnd.github+json")
			var obj struct {
				Encoding, Content, Message string
				Size                       int
				Errors                     []struct{ Code string }
			}
			if err := json.Unmarshal(body, &obj); err != nil || code != tc.wantJSON {
				t.Fatalf("JSON of a 1 MB+ file: %d %s (%v)", code, body[:min(len(body), 200)], err)
			}
			if tc.wantError == "" && (obj.Encoding != "none" || obj.Content != "" || obj.Size != len(big)) {
				t.Errorf("JSON of a 1 MB+ file: encoding %q, %d bytes of content, size %d", obj.Encoding, len(obj.Content), obj.Size)
			}
			if tc.wantError != "" && (len(obj.Errors) != 1 || obj.Errors[0].Code != tc.wantError || obj.Message != tooLargeMessage) {
				t.Errorf("403 of a 1 MB+ file: %+v", obj)
			}
			for _, accept := range []string{"application/vnd.github.raw", "application/vnd.github.v3.raw", "application/vnd.github.raw+json"} {
				code, ctype, body := get("big.txt", accept)
				if code != http.StatusOK || string(body) != big || !strings.HasPrefix(ctype, "application/vnd.github.raw") {
					t.Errorf("raw (%s) of a 1 MB+ file: %d %q, %d bytes", accept, code, ctype, len(body))
				}
			}
			if code, _, body := get("small.txt", "application/vnd.github.raw"); code != http.StatusOK || string(body) != "small\n" {
				t.Errorf("raw of a small file: %d %q", code, body)
			}
		})
	}
}
