package webauth

import (
	"net/url"
	"strings"
	"testing"
)

func TestSafeNext(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/r/acme/web?x=1#L3", "/r/acme/web?x=1#L3"},
		{"/", "/"},
		{"", "/"},
		{"//evil.com", "/"},
		{"///evil.com", "/"},
		{"/\\evil.com", "/"},
		{"/a\\b", "/"},
		{"https://evil.com", "/"},
		{"http:/evil.com", "/"},
		{"javascript:alert(1)", "/"},
		{"evil.com", "/"},
		{"/\t/evil.com", "/"},
		{"/\n/evil.com", "/"},
		{"/" + strings.Repeat("a", 3000), "/"},
		{"/%2F%2Fevil.com", "/%2F%2Fevil.com"}, // a path on this site
	} {
		if got := safeNext(tc.in); got != tc.want {
			t.Errorf("safeNext(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzSafeNext: whatever comes in, the browser, resolving the result
// against this site, stays on this site.
func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/x", "//evil.com", "/\\evil.com", "https://evil.com", "/%09/evil.com", "/.//evil.com"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://ci.example.com/r/acme/web")
	f.Fuzz(func(t *testing.T, next string) {
		out := safeNext(next)
		// Browsers treat "\" as "/" and drop tabs and newlines.
		norm := strings.NewReplacer("\\", "/", "\t", "", "\n", "", "\r", "").Replace(out)
		u, err := base.Parse(norm)
		if err != nil {
			t.Fatalf("safeNext(%q) = %q does not parse: %v", next, out, err)
		}
		if u.Host != base.Host || u.Scheme != base.Scheme {
			t.Fatalf("safeNext(%q) = %q leads to %s", next, out, u)
		}
	})
}
