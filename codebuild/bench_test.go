//go:build unix

package codebuild_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/stagegate/stagegate/codebuild"
	"github.com/stagegate/stagegate/internal/awstest"
	"github.com/stagegate/stagegate/internal/codebuildfake"
	"github.com/stagegate/stagegate/pipeline"
	"github.com/stagegate/stagegate/pipeline/engine"
	"github.com/stagegate/stagegate/pipeline/runner"
	"github.com/stagegate/stagegate/pipeline/runner/local"
)

// timing records when the engine saw an action start and each stdout
// line.
type timing struct {
	mu      sync.Mutex
	started time.Time
	lines   map[string]time.Time
}

func (t *timing) Observe(e engine.Event) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch e := e.(type) {
	case engine.ActionStarted:
		t.started = e.Time
	case engine.LogLine:
		if e.Stream == engine.Stdout {
			t.lines[e.Text] = e.Time
		}
	}
}

// BenchmarkCodeBuild runs an action on CodeBuild (the wire fake, with
// moto's S3) through the engine, at the default poll interval, and
// reports the delay from the action's start (with a workspace of 200
// small files to zip and upload) to StartBuild reaching the fake, and from a log line's CloudWatch timestamp to the engine's
// Stdout line (what the check's log shows), p50 and p90. The fake writes
// its output to the log stream every 200ms, as an agent batches lines.
func BenchmarkCodeBuild(b *testing.B) {
	cfg := awstest.Config(b)
	bucket := awstest.Name(b, "cbbench")
	if _, err := s3.NewFromConfig(cfg).CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: &bucket}); err != nil {
		b.Fatal(err)
	}
	fake := codebuildfake.New(b, cfg)
	fake.Project("bench")
	cb := &codebuild.Runner{
		Staging: codebuild.Location{Bucket: bucket, Prefix: "bench"}, HostCredentials: true,
		Load:              func(context.Context) (aws.Config, error) { return cfg, nil },
		CodeBuildEndpoint: fake.URL, LogsEndpoint: fake.URL, Poll: codebuild.DefaultPoll,
	}
	a := &pipeline.Action{Name: "remote", Run: `for i in $(seq 1 20); do echo "line-$i"; sleep 0.15; done`,
		Runner: &pipeline.RunnerSpec{Type: pipeline.RunnerCodeBuild, Project: "bench"}}
	p := &pipeline.Pipeline{Name: "bench", Stages: []*pipeline.Stage{{Name: "build", Actions: []*pipeline.Action{a}}}}
	var toStart, logDelay []float64
	for i := 0; i < b.N; i++ {
		obs := &timing{lines: map[string]time.Time{}}
		e := &engine.Engine{Runner: &local.Runner{}, Observer: obs, Runners: map[string]runner.Runner{"codebuild": cb}}
		plan := pipeline.Plan{Triggered: true, Stages: []pipeline.StagePlan{{Stage: p.Stages[0], Run: true}}}
		ws := b.TempDir()
		// A small checkout to ship: 200 files of 1 KiB.
		for j := range 200 {
			if err := os.WriteFile(filepath.Join(ws, fmt.Sprintf("f%03d.txt", j)), bytes.Repeat([]byte{'a' + byte(j%26)}, 1024), 0o644); err != nil {
				b.Fatal(err)
			}
		}
		res := e.Run(context.Background(), engine.Run{ID: "bench", Pipeline: p, Plan: plan, Workspace: ws, TempDir: b.TempDir()})
		if res.Status != engine.StatusSuccess {
			b.Fatalf("run %s: %s", res.Status, res.Reason)
		}
		ids := fake.Builds()
		starts := fake.Starts()
		toStart = append(toStart, ms(starts[len(starts)-1].Time.Sub(obs.started)))
		for _, ev := range fake.Events(ids[len(ids)-1]) {
			text := strings.TrimSuffix(ev.Message, "\n")
			if !strings.HasPrefix(text, "line-") {
				continue
			}
			seen, ok := obs.lines[text]
			if !ok {
				b.Fatalf("line %q never reached the engine", text)
			}
			logDelay = append(logDelay, ms(seen.Sub(time.UnixMilli(ev.Timestamp))))
		}
	}
	b.ReportMetric(pct(toStart, 50), "start-p50-ms")
	b.ReportMetric(pct(logDelay, 50), "log-p50-ms")
	b.ReportMetric(pct(logDelay, 90), "log-p90-ms")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func pct(v []float64, p int) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[(len(s)-1)*p/100]
}
