package githubtest

import (
	"testing"
)

func TestHoldGit(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t)
	held, release := f.srv.HoldGit("acme", "widgets")
	done := make(chan error, 1)
	go func() {
		_, err := runGit(t, t.TempDir(), "x-access-token", tok, "clone", "--quiet", f.repo.CloneURL(), "c")
		done <- err
	}()
	<-held
	select {
	case err := <-done:
		t.Fatalf("the clone ended while its request was held: %v", err)
	default:
	}
	release()
	release() // a second call is harmless
	if err := <-done; err != nil {
		t.Fatalf("clone after release: %v", err)
	}
	// Later requests are not held.
	if out, err := runGit(t, t.TempDir(), "x-access-token", tok, "clone", "--quiet", f.repo.CloneURL(), "c"); err != nil {
		t.Fatalf("second clone: %v\n%s", err, out)
	}
}
