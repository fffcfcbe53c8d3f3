// Package codebuildfake is a wire-level fake of AWS CodeBuild and
// CloudWatch Logs for tests, reached through the SDK's BaseEndpoint. Both
// speak JSON 1.1 (X-Amz-Target CodeBuild_20161006.<Op> and
// Logs_20140328.<Op>). It really runs builds: it downloads the source
// zip from S3 (moto), resolves Parameter Store variables from SSM (moto),
// runs the buildspec's build commands with bash in a temporary directory,
// writes their output as log events in batches, honours exported
// variables and the artifacts override (a zip uploaded to S3), and stops
// a build on StopBuild. It can be told to fail a phase, time a build out,
// or throttle an operation.
package codebuildfake

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// Fake is a running fake. Its methods are safe for concurrent use.
type Fake struct {
	// URL is the endpoint of both services.
	URL string
	// Flush is how often a build's new output lines are written to its
	// log stream as one batch of events.
	Flush time.Duration

	aws aws.Config
	tb  testing.TB
	wg  sync.WaitGroup

	mu         sync.Mutex
	projects   map[string]bool
	builds     map[string]*build
	tokens     map[string]string
	streams    map[string]*stream
	failPhase  map[string]string
	throttle   map[string]int
	buildLimit time.Duration
	artifact   []byte
	emptyPages bool
	starts     []Start
	stops      []string
	seq        int
}

// Start is a StartBuild request as it arrived.
type Start struct {
	Time time.Time
	Body []byte
}

// New starts a fake whose builds reach S3 and SSM with cfg (moto). It
// stops, killing running builds, when the test ends.
func New(tb testing.TB, cfg aws.Config) *Fake {
	f := &Fake{
		Flush:     200 * time.Millisecond,
		aws:       cfg,
		tb:        tb,
		projects:  map[string]bool{},
		builds:    map[string]*build{},
		tokens:    map[string]string{},
		streams:   map[string]*stream{},
		failPhase: map[string]string{},
		throttle:  map[string]int{},
	}
	srv := httptest.NewServer(f)
	f.URL = srv.URL
	tb.Cleanup(func() {
		f.mu.Lock()
		for _, b := range f.builds {
			b.cancel(errStopped)
		}
		f.mu.Unlock()
		f.wg.Wait()
		srv.Close()
	})
	return f
}

// Project creates a build project; StartBuild of another fails as
// CodeBuild's does.
func (f *Fake) Project(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.projects[name] = true
}

// FailPhase makes the next builds fail in phase (such as DOWNLOAD_SOURCE
// or POST_BUILD) with message as the phase's context.
func (f *Fake) FailPhase(phase, message string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.failPhase[phase] = message
}

// Throttle makes the next n calls of op (such as BatchGetBuilds or
// GetLogEvents) fail with ThrottlingException.
func (f *Fake) Throttle(op string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.throttle[op] = n
}

// TimeoutAfter makes builds time out after d, as a build past its
// timeoutInMinutes does; zero turns it off.
func (f *Fake) TimeoutAfter(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.buildLimit = d
}

// EmptyPages makes GetLogEvents answer every page of events with an empty
// page and a new token first, as CloudWatch Logs may: a reader must go on
// until the token repeats.
func (f *Fake) EmptyPages() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.emptyPages = true
}

// ReplaceArtifact makes the next builds upload data as their artifact
// instead of what their buildspec names, as a hostile build could.
func (f *Fake) ReplaceArtifact(data []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.artifact = data
}

// Starts returns the StartBuild requests received.
func (f *Fake) Starts() []Start {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Start(nil), f.starts...)
}

// Builds returns the ids of the builds started, in order.
func (f *Fake) Builds() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := make([]string, 0, len(f.builds))
	for id := range f.builds {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, b string) int { return f.builds[a].number - f.builds[b].number })
	return ids
}

// Stops returns the ids of the builds StopBuild was called for.
func (f *Fake) Stops() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.stops...)
}

// Event is a log event as the fake stored it.
type Event struct {
	Timestamp int64 // ms since the epoch, when the line was read
	Message   string
}

// Events returns a build's log events.
func (f *Fake) Events(buildID string) []Event {
	f.mu.Lock()
	defer f.mu.Unlock()
	b := f.builds[buildID]
	if b == nil {
		return nil
	}
	if s := f.streams[b.group+"/"+b.stream]; s != nil {
		return append([]Event(nil), s.events...)
	}
	return nil
}

// Status returns a build's status.
func (f *Fake) Status(buildID string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if b := f.builds[buildID]; b != nil {
		return b.status
	}
	return ""
}

// apiError is an error in JSON 1.1's shape
// (https://smithy.io/2.0/aws/protocols/aws-json-1_1-protocol.html).
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func invalid(format string, a ...any) *apiError {
	return &apiError{http.StatusBadRequest, "InvalidInputException", fmt.Sprintf(format, a...)}
}

func (f *Fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	service, op, _ := strings.Cut(target, ".")
	body, err := io.ReadAll(io.LimitReader(r.Body, 10<<20))
	if err != nil || r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-amz-json-1.1") ||
		!strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		writeErr(w, &apiError{http.StatusBadRequest, "SerializationException", "not a signed JSON 1.1 POST"})
		return
	}
	f.mu.Lock()
	if n := f.throttle[op]; n > 0 {
		f.throttle[op] = n - 1
		f.mu.Unlock()
		writeErr(w, &apiError{http.StatusBadRequest, "ThrottlingException", "Rate exceeded"})
		return
	}
	f.mu.Unlock()
	var out any
	switch service + "." + op {
	case "CodeBuild_20161006.StartBuild":
		out, err = f.startBuild(body)
	case "CodeBuild_20161006.BatchGetBuilds":
		out, err = f.batchGetBuilds(body)
	case "CodeBuild_20161006.StopBuild":
		out, err = f.stopBuild(body)
	case "Logs_20140328.GetLogEvents":
		out, err = f.getLogEvents(body)
	default:
		err = &apiError{http.StatusBadRequest, "UnknownOperationException", "unknown operation " + target}
	}
	if err != nil {
		writeErr(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	_ = json.NewEncoder(w).Encode(out)
}

func writeErr(w http.ResponseWriter, err error) {
	e, ok := err.(*apiError)
	if !ok {
		e = &apiError{http.StatusInternalServerError, "InternalFailure", err.Error()}
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Errortype", e.code)
	w.WriteHeader(e.status)
	_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.code, "message": e.msg})
}

// epoch is a timestamp as JSON 1.1 sends it: seconds since the epoch.
func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }
