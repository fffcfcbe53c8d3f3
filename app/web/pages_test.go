package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/app/web"
)

func TestGateRequirementsAndDeployButton(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	run := f.addRun(t, "acme/open", "main", []string{"hello"})
	must(t, f.db.SetRepoPrivate(ctx, "acme/open", false))
	must(t, f.db.UpsertStage(ctx, store.Stage{RunID: run.ID, Name: "production", Position: 1, Status: store.StatusInProgress, StartedAt: time.Now()}))
	must(t, f.db.RecordGate(ctx, store.GateState{RunID: run.ID, Stage: "production", Environment: "production", Decision: "needs approval",
		Requirements: `[{"Kind":"check","Name":"ci/lint","State":"met","Detail":"success","URL":"https://ci.example/lint/1"},
{"Kind":"status","Name":"evil","State":"failed","Detail":"<b>x</b>","URL":"javascript:alert(1)"},
{"Kind":"approval","Name":"approval","State":"waiting","Detail":"waiting for /deploy or the Deploy button","URL":""}]`}))

	_, body := f.get(t, "/acme/open/runs/"+run.ID, "writer")
	for _, want := range []string{
		`<a href="https://ci.example/lint/1" rel="noreferrer">ci/lint</a>`,
		`&lt;b&gt;x&lt;/b&gt;`,
		`name="environment" value="production"`,
		`Deploy to production`,
		// The stage waits at its gate, said in words.
		`waiting`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("run page lacks %q", want)
		}
	}
	if strings.Contains(body, "javascript:") {
		t.Error("a requirement's javascript: URL is linked")
	}
	if _, body := f.get(t, "/acme/open/runs/"+run.ID, "reader"); strings.Contains(body, "Deploy to production") {
		t.Error("a reader is shown the Deploy button")
	}
}

func TestArtifacts(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	run := f.addRun(t, "acme/open", "main", nil)
	must(t, f.db.SetRepoPrivate(ctx, "acme/open", false))
	dir := t.TempDir()
	runDir := filepath.Join(dir, run.ID)
	must(t, os.MkdirAll(filepath.Join(runDir, "dist"), 0o755))
	must(t, os.WriteFile(filepath.Join(runDir, "dist", "app.html"), []byte("<script>alert(1)</script>"), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, "secret"), []byte("outside"), 0o644))
	must(t, os.Symlink(filepath.Join(dir, "secret"), filepath.Join(runDir, "dist", "link")))
	must(t, f.db.UpsertStage(ctx, store.Stage{RunID: run.ID, Name: "build", Status: store.StatusCompleted, Conclusion: "success",
		Artifacts: []string{"dist/app.html", "dist/link", "../secret"}}))
	s, err := web.New(web.Config{Store: f.db, Artifacts: web.DirArtifacts{Dir: func(r store.Run) string { return filepath.Join(dir, r.ID) }}})
	must(t, err)
	mux := http.NewServeMux()
	s.Routes(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	base := srv.URL + "/acme/open/runs/" + run.ID

	resp, err := http.Get(base)
	must(t, err)
	resp.Body.Close()
	tests := []struct {
		path string
		want int
		body string
	}{
		{"/artifacts/dist/app.html", http.StatusOK, "<script>alert(1)</script>"},
		{"/artifacts/dist/link", http.StatusNotFound, ""},      // a link out of the run's directory
		{"/artifacts/..%2Fsecret", http.StatusNotFound, ""},    // recorded, but outside
		{"/artifacts/dist/other.txt", http.StatusNotFound, ""}, // never recorded
		{"/artifacts/dist%2F..%2F..%2Fsecret", http.StatusNotFound, ""},
	}
	for _, tt := range tests {
		resp, err := http.Get(base + tt.path)
		must(t, err)
		b := new(strings.Builder)
		_, _ = copyBody(b, resp)
		resp.Body.Close()
		if resp.StatusCode != tt.want || tt.body != "" && b.String() != tt.body {
			t.Errorf("%s: %d %q, want %d", tt.path, resp.StatusCode, b.String(), tt.want)
		}
		if resp.StatusCode == http.StatusOK {
			if ct, cd := resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"); ct != "application/octet-stream" || !strings.HasPrefix(cd, "attachment") {
				t.Errorf("%s served as %q, %q: a build's HTML must not render on stagegate's origin", tt.path, ct, cd)
			}
		}
	}
}

func TestRepositoryPageDeployments(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	must(t, f.db.SetRepoPrivate(ctx, "acme/open", false))
	for i, c := range []struct{ sha, conclusion, approver string }{{"aaaaaaa1", "success", "alice"}, {"bbbbbbb2", "failure", "bob"}} {
		r, err := f.db.CreateRun(ctx, store.Run{Repo: "acme/open", SHA: c.sha, Event: "push", Branch: "main", Pipeline: pipelineFile,
			CreatedAt: time.Now().Add(time.Duration(i) * time.Minute)})
		must(t, err)
		must(t, f.db.UpsertStage(ctx, store.Stage{RunID: r.ID, Name: "production", Status: store.StatusCompleted, Conclusion: c.conclusion,
			StartedAt: time.Now(), FinishedAt: time.Now()}))
		must(t, f.db.RecordGate(ctx, store.GateState{RunID: r.ID, Stage: "production", Environment: "production", Decision: "proceed", Requirements: "[]"}))
		must(t, f.db.RecordDeployment(ctx, store.Deployment{RunID: r.ID, Stage: "production", DeploymentID: int64(i + 1)}))
		must(t, f.db.Approve(ctx, store.Approval{Repo: "acme/open", SHA: c.sha, Kind: store.ApprovalDeploy, Scope: "production", Approver: c.approver}))
	}
	_, body := f.get(t, "/acme/open", "")
	cur := body[strings.Index(body, `class="current"`):]
	cur = cur[:strings.Index(cur, "</p>")]
	if !strings.Contains(cur, "aaaaaaa") || !strings.Contains(cur, "@alice") {
		t.Errorf("the current deployment is not the last that succeeded: %s", cur)
	}
	if !strings.Contains(body, "History (2)") || !strings.Contains(body, "@bob") {
		t.Error("the history does not list both deploys")
	}
	if !strings.Contains(body, "deploys to production") {
		t.Error("the pipeline does not show the deploy stage")
	}
}

func copyBody(b *strings.Builder, resp *http.Response) (int64, error) { return io.Copy(b, resp.Body) }
