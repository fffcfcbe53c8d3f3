package githubtest

import (
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/google/go-github/v60/github"
)

// withoutPerm is DefaultPermissions minus the named permissions.
func withoutPerm(names ...string) map[string]string {
	p := DefaultPermissions()
	for _, n := range names {
		delete(p, n)
	}
	return p
}

// code is a response's status code, 0 without a response.
func code(resp *github.Response) int {
	if resp == nil {
		return 0
	}
	return resp.StatusCode
}

// ghErr returns the GitHub error behind err (nil if err is not one).
func ghErr(err error) *github.ErrorResponse {
	var e *github.ErrorResponse
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// fatalCatcher is a testing.TB whose Fatalf records the message and ends
// the calling goroutine, so a test can prove a helper refuses bad input.
type fatalCatcher struct {
	testing.TB
	mu  sync.Mutex
	msg string
}

func (f *fatalCatcher) Fatalf(format string, args ...any) {
	f.mu.Lock()
	f.msg = fmt.Sprintf(format, args...)
	f.mu.Unlock()
	runtime.Goexit()
}

func (f *fatalCatcher) Helper() {}

// fatal runs fn on its own goroutine and returns the Fatalf message it
// ended with ("" if it returned normally).
func (f *fatalCatcher) fatal(fn func()) string {
	f.mu.Lock()
	f.msg = ""
	f.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	<-done
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.msg
}

// errText flattens a GitHub error body for matching: the message, then
// each error as a string or as "resource code field: message".
func errText(t *testing.T, r response) string {
	t.Helper()
	if r.status < 400 {
		return ""
	}
	m := r.object(t)
	s := fmt.Sprint(m["message"])
	errs, _ := m["errors"].([]any)
	for _, e := range errs {
		switch x := e.(type) {
		case string:
			s += " | " + x
		case map[string]any:
			s += fmt.Sprintf(" | %v %v %v: %v", x["resource"], x["code"], x["field"], x["message"])
		}
	}
	return s
}
