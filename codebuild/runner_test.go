//go:build unix

package codebuild_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ssm"

	"github.com/stagegate/stagegate/codebuild"
	"github.com/stagegate/stagegate/internal/awstest"
	"github.com/stagegate/stagegate/internal/codebuildfake"
	"github.com/stagegate/stagegate/pipeline"
	"github.com/stagegate/stagegate/pipeline/engine"
	"github.com/stagegate/stagegate/pipeline/runner"
	"github.com/stagegate/stagegate/pipeline/runner/local"
)

// syncBuf is an io.Writer tests read while the runner writes.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type env struct {
	cfg    aws.Config
	fake   *codebuildfake.Fake
	runner *codebuild.Runner
	bucket string
	ws     string
	out    string
	stdout *syncBuf
	stderr *syncBuf
}

func setup(t *testing.T) *env {
	t.Helper()
	cfg := awstest.Config(t)
	bucket := awstest.Name(t, "cb")
	if _, err := s3.NewFromConfig(cfg).CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		t.Fatal(err)
	}
	f := codebuildfake.New(t, cfg)
	f.Flush = 20 * time.Millisecond
	f.Project("web-build")
	e := &env{
		cfg: cfg, fake: f, bucket: bucket, ws: t.TempDir(),
		out: filepath.Join(t.TempDir(), "output"), stdout: &syncBuf{}, stderr: &syncBuf{},
		runner: &codebuild.Runner{
			Staging:           codebuild.Location{Bucket: bucket, Prefix: "staging"},
			HostCredentials:   true,
			Load:              func(context.Context) (aws.Config, error) { return cfg, nil },
			CodeBuildEndpoint: f.URL,
			LogsEndpoint:      f.URL,
			Poll:              50 * time.Millisecond,
		},
	}
	return e
}

func (e *env) spec(script string, vars ...string) runner.Spec {
	return runner.Spec{
		Script: script,
		Dir:    e.ws,
		Env:    append([]string{"PATH=/host/bin", "HOME=/host/home", "STAGEGATE_WORKSPACE=" + e.ws, "STAGEGATE_OUTPUT=" + e.out}, vars...),
		Stdout: e.stdout,
		Stderr: e.stderr,
		Remote: runner.Remote{
			Runner: &pipeline.RunnerSpec{Type: pipeline.RunnerCodeBuild, Project: "web-build", ComputeType: "BUILD_GENERAL1_SMALL"},
			RunID:  "run-1", Stage: "build", Action: "compile", Attempt: 1,
			Workspace: e.ws, OutputFile: e.out, Secret: map[string]bool{},
		},
	}
}

func TestBuildSucceedsWithOutputsAndWorkspaceChanges(t *testing.T) {
	e := setup(t)
	if err := os.WriteFile(filepath.Join(e.ws, "input.txt"), []byte("from an earlier stage\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	script := `cat input.txt
echo "greeting=$GREETING"
test "$STAGEGATE_WORKSPACE" = "$CODEBUILD_SRC_DIR"
test "$PATH" != /host/bin
mkdir -p dist && echo built > dist/app.bin && ln -s app.bin dist/current
echo "version=1.2.3" >> "$STAGEGATE_OUTPUT"
{ echo 'notes<<EOF'; echo 'two'; echo 'lines'; echo 'EOF'; } >> "$STAGEGATE_OUTPUT"`
	script += "\n" + `test "${EMPTY+set}" = set && test -z "$EMPTY" && echo empty-is-set`
	res, err := e.runner.Run(t.Context(), e.spec(script, "GREETING=hello", "EMPTY="))
	if err != nil || res.ExitCode != 0 || res.Killed {
		t.Fatalf("result %+v, %v; stdout:\n%s\nstderr:\n%s", res, err, e.stdout, e.stderr)
	}
	for _, w := range []string{"from an earlier stage\n", "greeting=hello\n", "empty-is-set\n", "Entering phase BUILD"} {
		if !strings.Contains(e.stdout.String(), w) {
			t.Errorf("stdout lacks %q:\n%s", w, e.stdout)
		}
	}
	if !strings.Contains(e.stderr.String(), "CodeBuild phase ") {
		t.Errorf("stderr does not follow the build's phases:\n%s", e.stderr)
	}
	out, err := os.ReadFile(e.out)
	if err != nil || string(out) != "version=1.2.3\nnotes<<EOF\ntwo\nlines\nEOF\n" {
		t.Errorf("outputs %q, %v", out, err)
	}
	if b, err := os.ReadFile(filepath.Join(e.ws, "dist", "app.bin")); err != nil || string(b) != "built\n" {
		t.Errorf("dist/app.bin %q, %v", b, err)
	}
	if target, err := os.Readlink(filepath.Join(e.ws, "dist", "current")); err != nil || target != "app.bin" {
		t.Errorf("dist/current links to %q, %v", target, err)
	}
	starts := e.fake.Starts()
	if len(starts) != 1 {
		t.Fatalf("%d StartBuild requests", len(starts))
	}
	var req map[string]any
	if err := json.Unmarshal(starts[0].Body, &req); err != nil {
		t.Fatal(err)
	}
	if req["sourceTypeOverride"] != "S3" || !strings.HasPrefix(req["sourceLocationOverride"].(string), e.bucket+"/staging/run-1/build/compile/1-") ||
		req["computeTypeOverride"] != "BUILD_GENERAL1_SMALL" {
		t.Errorf("StartBuild request %s", starts[0].Body)
	}
	if bytes.Contains(starts[0].Body, []byte("/host/home")) {
		t.Errorf("the request carries this machine's paths: %s", starts[0].Body)
	}
	// The staging objects are gone once the build has been brought back.
	list, err := s3.NewFromConfig(e.cfg).ListObjectsV2(t.Context(), &s3.ListObjectsV2Input{Bucket: &e.bucket})
	if err != nil || len(list.Contents) != 0 {
		t.Errorf("staging objects left: %d, %v", len(list.Contents), err)
	}
}

func TestFailingBuildShowsItsLogAndFailedPhase(t *testing.T) {
	e := setup(t)
	res, err := e.runner.Run(t.Context(), e.spec("echo compiling; echo 'error: undefined: x' >&2; exit 3"))
	if err != nil {
		t.Fatal(err)
	}
	if res.ExitCode == 0 || res.Killed {
		t.Fatalf("result %+v", res)
	}
	for _, w := range []string{"FAILED in phase BUILD", "COMMAND_EXECUTION_ERROR", "exit status 3"} {
		if !strings.Contains(res.Reason, w) {
			t.Errorf("reason %q lacks %q", res.Reason, w)
		}
	}
	for _, w := range []string{"compiling\n", "error: undefined: x\n", "Phase complete: BUILD State: FAILED"} {
		if !strings.Contains(e.stdout.String(), w) {
			t.Errorf("stdout lacks %q:\n%s", w, e.stdout)
		}
	}
	if _, err := os.Stat(e.out); !os.IsNotExist(err) {
		t.Errorf("a failed build wrote outputs: %v", err)
	}
}

func TestPhaseFailureAndTimeoutMapToResults(t *testing.T) {
	for _, tc := range []struct {
		name string
		arm  func(*codebuildfake.Fake)
		want []string
	}{
		{"fault in a phase", func(f *codebuildfake.Fake) { f.FailPhase("DOWNLOAD_SOURCE", "access denied to the source") },
			[]string{"FAILED in phase DOWNLOAD_SOURCE", "access denied to the source"}},
		{"CodeBuild's own timeout", func(f *codebuildfake.Fake) { f.TimeoutAfter(300 * time.Millisecond) },
			[]string{"timed out", "BUILD_TIMED_OUT"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t)
			tc.arm(e.fake)
			res, err := e.runner.Run(t.Context(), e.spec("sleep 5; echo done"))
			if err != nil || res.ExitCode == 0 || res.Killed {
				t.Fatalf("result %+v, %v", res, err)
			}
			for _, w := range tc.want {
				if !strings.Contains(res.Reason, w) {
					t.Errorf("reason %q lacks %q", res.Reason, w)
				}
			}
		})
	}
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCancelAndTimeoutStopTheBuild(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ending func(context.Context) (context.Context, context.CancelFunc)
		cancel bool
	}{
		{"cancelled run", context.WithCancel, true},
		{"action timeout", func(ctx context.Context) (context.Context, context.CancelFunc) {
			return context.WithTimeout(ctx, 3*time.Second)
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := setup(t)
			ctx, cancel := tc.ending(t.Context())
			defer cancel()
			if tc.cancel {
				go func() {
					waitFor(t, "the build's first line", func() bool { return strings.Contains(e.stdout.String(), "started-work") })
					cancel()
				}()
			}
			res, err := e.runner.Run(ctx, e.spec("echo started-work; sleep 60; echo never"))
			if err != nil || !res.Killed {
				t.Fatalf("result %+v, %v", res, err)
			}
			stops := e.fake.Stops()
			if len(stops) != 1 {
				t.Fatalf("StopBuild calls %v", stops)
			}
			if st := e.fake.Status(stops[0]); st != "STOPPED" {
				t.Errorf("the build is %s", st)
			}
			if strings.Contains(e.stdout.String(), "never") {
				t.Errorf("the build ran on:\n%s", e.stdout)
			}
		})
	}
}

func TestSecretsGoByReference(t *testing.T) {
	e := setup(t)
	const secret = "hunter2-very-secret-value"
	sum := sha256.Sum256([]byte(secret))
	spec := e.spec(`test "$(printf %s "$DEPLOY_TOKEN" | sha256sum | cut -c1-64)" = `+hex.EncodeToString(sum[:])+` && echo token-ok`, "DEPLOY_TOKEN="+secret, "PUBLIC=yes")
	spec.Remote.Secret["DEPLOY_TOKEN"] = true
	res, err := e.runner.Run(t.Context(), spec)
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("result %+v, %v; stdout:\n%s", res, err, e.stdout)
	}
	if !strings.Contains(e.stdout.String(), "token-ok") {
		t.Errorf("the build did not get the secret:\n%s", e.stdout)
	}
	body := e.fake.Starts()[0].Body
	if bytes.Contains(body, []byte(secret)) || bytes.Contains(body, []byte("hunter2")) {
		t.Fatalf("the StartBuild request holds the secret: %s", body)
	}
	var req struct {
		Vars []struct{ Name, Value, Type string } `json:"environmentVariablesOverride"`
	}
	if err := json.Unmarshal(body, &req); err != nil {
		t.Fatal(err)
	}
	var param string
	for _, v := range req.Vars {
		if v.Name == "DEPLOY_TOKEN" {
			if v.Type != "PARAMETER_STORE" {
				t.Errorf("DEPLOY_TOKEN goes as %s", v.Type)
			}
			param = v.Value
		}
	}
	if param == "" {
		t.Fatalf("no DEPLOY_TOKEN in %s", body)
	}
	// The parameter lived for the build only.
	if _, err := ssm.NewFromConfig(e.cfg).GetParameter(t.Context(), &ssm.GetParameterInput{Name: &param}); err == nil {
		t.Errorf("parameter %s outlived the build", param)
	}
}

func TestThrottledCallsAreRetried(t *testing.T) {
	e := setup(t)
	e.fake.Throttle("BatchGetBuilds", 2)
	e.fake.Throttle("GetLogEvents", 2)
	res, err := e.runner.Run(t.Context(), e.spec("echo through"))
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("result %+v, %v", res, err)
	}
	if !strings.Contains(e.stdout.String(), "through\n") {
		t.Errorf("stdout:\n%s", e.stdout)
	}
}

func TestHostileResultIsRefused(t *testing.T) {
	e := setup(t)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("../../escaped.txt")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write([]byte("owned"))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	e.fake.ReplaceArtifact(buf.Bytes())
	res, err := e.runner.Run(t.Context(), e.spec("echo fine"))
	if err != nil || res.ExitCode == 0 || !strings.Contains(res.Reason, "refused result archive") {
		t.Fatalf("result %+v, %v", res, err)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(filepath.Dir(e.ws)), "escaped.txt")); err == nil {
		t.Error("the archive wrote out of the workspace")
	}
}

// Through the engine, an action's timeout stops its build and the action
// ends timed_out; its retry starts a new build.
func TestEngineTimeoutStopsTheBuild(t *testing.T) {
	e := setup(t)
	a := &pipeline.Action{Name: "slow", Run: "echo begun; sleep 60", Timeout: pipeline.Duration(2 * time.Second), Retries: 1,
		Runner: &pipeline.RunnerSpec{Type: pipeline.RunnerCodeBuild, Project: "web-build"}}
	p := &pipeline.Pipeline{Name: "t", Stages: []*pipeline.Stage{{Name: "build", Actions: []*pipeline.Action{a}}}}
	eng := &engine.Engine{Runner: &local.Runner{}, Runners: map[string]runner.Runner{"codebuild": e.runner}}
	plan := pipeline.Plan{Triggered: true, Stages: []pipeline.StagePlan{{Stage: p.Stages[0], Run: true}}}
	res := eng.Run(t.Context(), engine.Run{ID: "run-t", Pipeline: p, Plan: plan, Workspace: e.ws, TempDir: t.TempDir()})
	ar := res.Stages[0].Actions[0]
	if ar.Status != engine.StatusTimedOut || ar.Attempts != 2 {
		t.Fatalf("action %s after %d attempts: %q", ar.Status, ar.Attempts, ar.Reason)
	}
	if len(e.fake.Starts()) != 2 || len(e.fake.Stops()) != 2 {
		t.Errorf("%d builds started, %d stopped; want 2 and 2", len(e.fake.Starts()), len(e.fake.Stops()))
	}
}

// An action's dir is where its script runs on CodeBuild too.
func TestBuildRunsInTheActionsDir(t *testing.T) {
	e := setup(t)
	if err := os.MkdirAll(filepath.Join(e.ws, "web app"), 0o755); err != nil {
		t.Fatal(err)
	}
	spec := e.spec(`echo "in=$(basename "$PWD")"; echo here > made.txt`)
	spec.Dir = filepath.Join(e.ws, "web app")
	res, err := e.runner.Run(t.Context(), spec)
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("result %+v, %v:\n%s", res, err, e.stdout)
	}
	if !strings.Contains(e.stdout.String(), "in=web app\n") {
		t.Errorf("stdout:\n%s", e.stdout)
	}
	if _, err := os.Stat(filepath.Join(e.ws, "web app", "made.txt")); err != nil {
		t.Error(err)
	}
}

// CloudWatch may answer with an empty page before more events: the last
// lines of a build, read after it ended, must not be lost to one.
func TestEmptyLogPagesDoNotEndTheLog(t *testing.T) {
	e := setup(t)
	e.fake.EmptyPages()
	res, err := e.runner.Run(t.Context(), e.spec("echo first; echo last"))
	if err != nil || res.ExitCode != 0 {
		t.Fatalf("result %+v, %v", res, err)
	}
	for _, w := range []string{"first\n", "last\n", "Phase complete: FINALIZING State: SUCCEEDED"} {
		if !strings.Contains(e.stdout.String(), w) {
			t.Errorf("stdout lacks %q:\n%s", w, e.stdout)
		}
	}
}
