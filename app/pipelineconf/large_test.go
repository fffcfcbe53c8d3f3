package pipelineconf

import (
	"strings"
	"testing"

	"github.com/stagegate/stagegate/internal/githubtest"
)

// A pipeline file over 1 MB comes from the contents API only with the raw
// media type: github.com answers JSON with encoding "none", older servers
// 403 too_large. Either way the file is refused with a clear error at
// line 1, never taken for "no file" or retried as an outage.
func TestLoadTooLarge(t *testing.T) {
	big := "stages: []\n# " + strings.Repeat("x", 1<<20) + "\n"
	for _, tc := range []struct {
		name string
		opts []githubtest.Option
		org  bool
	}{
		{name: "encoding none"},
		{name: "403 too_large", opts: []githubtest.Option{githubtest.WithLargeContentsForbidden()}},
		{name: "org default, 403 too_large", opts: []githubtest.Option{githubtest.WithLargeContentsForbidden()}, org: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := githubtest.New(t, tc.opts...)
			files := map[string]string{".stagegate.yml": big}
			orgFiles := map[string]string{".stagegate.yml": orgFile}
			if tc.org {
				files, orgFiles = map[string]string{"README.md": "x"}, map[string]string{".stagegate.yml": big}
			}
			sha := srv.AddRepo("acme", "widgets").Commit("main", files, "c")
			srv.AddRepo("acme", ".github").Commit("main", orgFiles, "org")
			c, err := Load(testCtx(t), contents(t, srv, srv.AddInstallation("acme")), "acme", "widgets", sha)
			if err != nil {
				t.Fatalf("Load: %v; want an invalid file, not an error (which would be retried and show nothing)", err)
			}
			if c.Valid() || len(c.Errors) != 1 {
				t.Fatalf("Load = %+v; want one error", c)
			}
			e := c.Errors[0]
			if e.Line != 1 || !strings.Contains(e.Msg, "too large") || !strings.Contains(e.Msg, "1 MB") ||
				tc.org != (e.File == "acme/.github/.stagegate.yml") {
				t.Errorf("error = %+v", e)
			}
		})
	}
}
