package pipelineconf

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v60/github"

	"github.com/stagegate/stagegate/internal/githubtest"
	"github.com/stagegate/stagegate/pipeline"
)

const (
	repoFile = "stages:\n  - name: test\n    actions:\n      - name: unit\n        run: go test ./...\n"
	orgFile  = "name: org-default\nstages:\n  - name: lint\n    actions:\n      - name: vet\n        run: go vet ./...\n"
	badFile  = "stages:\n  - name: test\n    actions:\n      - name: unit\n        rnu: oops\n"
)

// contents returns the installation's contents API on srv, as the App
// would use it (go-github, enterprise URLs, installation token).
func contents(t *testing.T, srv *githubtest.Server, inst int64) ContentsAPI {
	t.Helper()
	itr, err := ghinstallation.New(http.DefaultTransport, srv.AppID(), inst, srv.PrivateKeyPEM())
	if err != nil {
		t.Fatal(err)
	}
	itr.BaseURL = strings.TrimSuffix(srv.APIURL(), "/")
	gh, err := github.NewClient(&http.Client{Transport: itr}).WithEnterpriseURLs(srv.APIURL(), srv.APIURL())
	if err != nil {
		t.Fatal(err)
	}
	return gh.Repositories
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestLoad(t *testing.T) {
	cases := []struct {
		name     string
		repo     map[string]string // files of acme/widgets
		org      map[string]string // files of acme/.github; nil: no such repository
		want     Source
		wantPath string
		wantName string
		wantErr  error
		invalid  bool
	}{
		{name: "repo file wins over org default", repo: map[string]string{".stagegate.yml": repoFile}, org: map[string]string{".stagegate.yml": orgFile},
			want: SourceRepo, wantPath: ".stagegate.yml", wantName: "widgets"},
		{name: "org default when the repo has none", repo: map[string]string{"README.md": "x"}, org: map[string]string{".stagegate.yml": orgFile},
			want: SourceOrgDefault, wantPath: "acme/.github/.stagegate.yml", wantName: "org-default"},
		{name: "org default without name takes the repo's", repo: map[string]string{"README.md": "x"}, org: map[string]string{".stagegate.yml": repoFile},
			want: SourceOrgDefault, wantPath: "acme/.github/.stagegate.yml", wantName: "widgets"},
		{name: "none anywhere", repo: map[string]string{"README.md": "x"}, wantErr: ErrNoPipeline},
		{name: "org repo without the file", repo: map[string]string{"README.md": "x"}, org: map[string]string{"README.md": "org"}, wantErr: ErrNoPipeline},
		{name: "invalid repo file", repo: map[string]string{".stagegate.yml": badFile}, org: map[string]string{".stagegate.yml": orgFile},
			want: SourceRepo, wantPath: ".stagegate.yml", invalid: true},
		{name: "invalid org default", repo: map[string]string{"README.md": "x"}, org: map[string]string{".stagegate.yml": badFile},
			want: SourceOrgDefault, wantPath: "acme/.github/.stagegate.yml", invalid: true},
		{name: "directory named like the file", repo: map[string]string{".stagegate.yml/x": "y"},
			want: SourceRepo, wantPath: ".stagegate.yml", invalid: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := githubtest.New(t)
			sha := srv.AddRepo("acme", "widgets").Commit("main", tc.repo, "c")
			if tc.org != nil {
				srv.AddRepo("acme", ".github").Commit("main", tc.org, "org")
			}
			api := contents(t, srv, srv.AddInstallation("acme"))

			c, err := Load(testCtx(t), api, "acme", "widgets", sha)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || c != nil {
					t.Fatalf("Load = %v, %v; want %v", c, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Source != tc.want || c.Path != tc.wantPath {
				t.Errorf("source %s at %s, want %s at %s", c.Source, c.Path, tc.want, tc.wantPath)
			}
			if tc.invalid {
				if c.Valid() || c.Pipeline != nil || len(c.Errors) == 0 {
					t.Fatalf("want Errors, got pipeline %v errors %v", c.Pipeline, c.Errors)
				}
				for _, e := range c.Errors {
					if e.File != tc.wantPath || e.Line < 1 || e.Col < 1 {
						t.Errorf("error without a position in %s: %+v", tc.wantPath, e)
					}
				}
				return
			}
			if !c.Valid() || c.Pipeline.Name != tc.wantName || c.Pipeline.File != tc.wantPath {
				t.Errorf("pipeline %+v, errors %v; want name %q", c.Pipeline, c.Errors, tc.wantName)
			}
			wantRaw := tc.repo[".stagegate.yml"]
			if tc.want == SourceOrgDefault {
				wantRaw = tc.org[".stagegate.yml"]
			}
			if string(c.Raw) != wantRaw || c.BlobSHA == "" {
				t.Errorf("raw = %q (blob %q), want %q", c.Raw, c.BlobSHA, wantRaw)
			}
		})
	}
}

func TestLoadInvalidFilePositions(t *testing.T) {
	srv := githubtest.New(t)
	sha := srv.AddRepo("acme", "widgets").Commit("main", map[string]string{".stagegate.yml": badFile}, "bad")
	c, err := Load(testCtx(t), contents(t, srv, srv.AddInstallation("acme")), "acme", "widgets", sha)
	if err != nil {
		t.Fatal(err)
	}
	// The same file parsed locally gives the same errors, positions included.
	_, want := pipeline.Parse(".stagegate.yml", []byte(badFile))
	if c.Errors.Error() != want.Error() {
		t.Errorf("errors = %q, want %q", c.Errors, want)
	}
	if !strings.Contains(c.Errors.Error(), ".stagegate.yml:5:9:") {
		t.Errorf("want the misspelt key's position (5:9), got %q", c.Errors)
	}
}

func TestLoadReadsTheExactSHA(t *testing.T) {
	srv := githubtest.New(t)
	repo := srv.AddRepo("acme", "widgets")
	first := repo.Commit("main", map[string]string{".stagegate.yml": repoFile}, "first")
	repo.Commit("main", map[string]string{".stagegate.yml": orgFile}, "later") // the branch moves on
	removed := repo.Commit("main", map[string]string{".stagegate.yml": githubtest.Deleted}, "remove")
	srv.AddRepo("acme", ".github").Commit("main", map[string]string{".stagegate.yml": badFile}, "org")
	api := contents(t, srv, srv.AddInstallation("acme"))

	c, err := Load(testCtx(t), api, "acme", "widgets", first)
	if err != nil {
		t.Fatal(err)
	}
	if string(c.Raw) != repoFile || c.Source != SourceRepo {
		t.Errorf("read %q from %s, want the first commit's file", c.Raw, c.Source)
	}
	// At a commit without the file, the org default applies (here an
	// invalid one, which is still the org's answer).
	c, err = Load(testCtx(t), api, "acme", "widgets", removed)
	if err != nil || c.Source != SourceOrgDefault {
		t.Errorf("at the removal: %v, %v; want the org default", c, err)
	}
	calls := srv.CallsTo("GET /repos/{owner}/{repo}/contents/{path...}")
	if len(calls) != 3 {
		t.Fatalf("contents calls = %+v, want widgets at two shas, then .github", calls)
	}
	for i, want := range []string{"ref=" + first, "ref=" + removed, ""} {
		if calls[i].Query != want {
			t.Errorf("call %d (%s) query %q, want %q", i, calls[i].Path, calls[i].Query, want)
		}
	}
}

func TestLoadOrgDefaultAtDefaultBranch(t *testing.T) {
	srv := githubtest.New(t)
	sha := srv.AddRepo("acme", "widgets").Commit("main", map[string]string{"README.md": "x"}, "c")
	org := srv.AddRepo("acme", ".github")
	org.Commit("main", map[string]string{".stagegate.yml": orgFile}, "default")
	org.Commit("experiment", map[string]string{".stagegate.yml": badFile}, "not merged")
	c, err := Load(testCtx(t), contents(t, srv, srv.AddInstallation("acme")), "acme", "widgets", sha)
	if err != nil {
		t.Fatal(err)
	}
	if string(c.Raw) != orgFile {
		t.Errorf("read %q, want the default branch's file", c.Raw)
	}
}

// TestLoadOrgRepoNotCovered: an installation on selected repositories
// that leaves out a private .github gets 404 for it, as for a repository
// that does not exist; Load says that it could not see the repository,
// which "no file" (a visible .github without one) is not.
func TestLoadOrgRepoNotCovered(t *testing.T) {
	for _, tc := range []struct {
		name       string
		org        map[string]string // nil: no acme/.github
		selected   []string          // nil: all repositories
		notVisible bool
	}{
		{name: "private .github outside the selection", org: map[string]string{".stagegate.yml": orgFile}, selected: []string{"widgets"}, notVisible: true},
		{name: "no .github at all", selected: []string{"widgets"}, notVisible: true},
		{name: "visible .github without the file", org: map[string]string{"README.md": "x"}, selected: []string{"widgets", ".github"}},
		{name: "visible .github, all repositories", org: map[string]string{"README.md": "x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := githubtest.New(t)
			sha := srv.AddRepo("acme", "widgets").Commit("main", map[string]string{"README.md": "x"}, "c")
			if tc.org != nil {
				srv.AddRepo("acme", ".github").Commit("main", tc.org, "org")
			}
			c, err := Load(testCtx(t), contents(t, srv, srv.AddInstallation("acme", tc.selected...)), "acme", "widgets", sha)
			if c != nil || !errors.Is(err, ErrNoPipeline) || errors.Is(err, ErrOrgDefaultNotVisible) != tc.notVisible {
				t.Errorf("Load = %v, %v; want ErrNoPipeline, not visible %v", c, err, tc.notVisible)
			}
		})
	}
}

func TestLoadUnknownCommit(t *testing.T) {
	srv := githubtest.New(t)
	srv.AddRepo("acme", "widgets").Commit("main", map[string]string{"README.md": "x"}, "c")
	srv.AddRepo("acme", ".github").Commit("main", map[string]string{".stagegate.yml": orgFile}, "org")
	_, err := Load(testCtx(t), contents(t, srv, srv.AddInstallation("acme")), "acme", "widgets", strings.Repeat("ab", 20))
	if !errors.Is(err, ErrCommitNotFound) {
		t.Errorf("err = %v, want ErrCommitNotFound rather than the org default", err)
	}
}

func TestLoadInOrgRepoItself(t *testing.T) {
	srv := githubtest.New(t)
	org := srv.AddRepo("acme", ".github")
	org.Commit("main", map[string]string{".stagegate.yml": orgFile}, "org")
	sha := org.Commit("feature", map[string]string{".stagegate.yml": githubtest.Deleted}, "drop it")
	_, err := Load(testCtx(t), contents(t, srv, srv.AddInstallation("acme")), "acme", ".github", sha)
	if !errors.Is(err, ErrNoPipeline) {
		t.Errorf("err = %v, want ErrNoPipeline: the branch removed the file", err)
	}
}

// contentsRoute is the contents API's route as githubtest records it.
const contentsRoute = "/repos/{owner}/{repo}/contents/{path...}"

func TestLoadAPIErrors(t *testing.T) {
	for _, status := range []int{http.StatusInternalServerError, http.StatusForbidden, http.StatusUnauthorized} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			// Both files exist: an error taken for "no file" would load
			// the org default instead.
			srv := githubtest.New(t)
			sha := srv.AddRepo("acme", "widgets").Commit("main", map[string]string{".stagegate.yml": repoFile}, "c")
			srv.AddRepo("acme", ".github").Commit("main", map[string]string{".stagegate.yml": orgFile}, "org")
			api := contents(t, srv, srv.AddInstallation("acme"))
			srv.Outage("GET", contentsRoute, status)

			c, err := Load(testCtx(t), api, "acme", "widgets", sha)
			var er *github.ErrorResponse
			if c != nil || !errors.As(err, &er) || er.Response.StatusCode != status || errors.Is(err, ErrNoPipeline) {
				t.Fatalf("Load = %+v, %v; want GitHub's %d wrapped", c, err, status)
			}
			if want := "pipelineconf: reading .stagegate.yml of acme/widgets at " + sha + ": "; !strings.HasPrefix(err.Error(), want) {
				t.Errorf("err = %q, want it to start %q", err, want)
			}
			calls := srv.CallsTo("GET " + contentsRoute)
			if len(calls) != 1 || calls[0].Path != "/repos/acme/widgets/contents/.stagegate.yml" || calls[0].Status != status {
				t.Errorf("contents calls %+v; want the one failed read: the org default must not hide it", calls)
			}
		})
	}
	srv := githubtest.New(t)
	srv.AddRepo("acme", "widgets").Commit("main", map[string]string{".stagegate.yml": repoFile}, "c")
	if _, err := Load(testCtx(t), contents(t, srv, srv.AddInstallation("acme")), "acme", "", "x"); err == nil || !strings.Contains(err.Error(), "owner, repo and sha are required") {
		t.Errorf("empty repo: err = %v, want the arguments refused", err)
	}
	if calls := srv.CallsTo("GET " + contentsRoute); len(calls) != 0 {
		t.Errorf("empty repo: %d contents calls, want none", len(calls))
	}
}
