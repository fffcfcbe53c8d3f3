//go:build unix

package source

import (
	"os"
	"path/filepath"
	"testing"
)

// TestRemoveReadOnlyTree: a build leaves directories without write
// permission (Go's module cache under HOME makes them 0555), which
// os.RemoveAll cannot empty as an ordinary user. Remove still removes
// them. Root ignores the modes, so this test bites where CI runs it as an
// unprivileged user (.ci/run).
func TestRemoveReadOnlyTree(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	deep := filepath.Join(dir, "home", "go", "pkg", "mod", "example.com", "m@v1")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(deep, "go.mod"), []byte("module m\n"), 0o444); err != nil {
		t.Fatal(err)
	}
	// A link out of the tree must not be followed: its target keeps its mode.
	outside := t.TempDir()
	if err := os.Chmod(outside, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(outside, 0o755) })
	if err := os.Symlink(outside, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	for d := deep; d != dir; d = filepath.Dir(d) {
		if err := os.Chmod(d, 0o555); err != nil {
			t.Fatal(err)
		}
	}
	if err := Remove(dir); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if _, err := os.Lstat(dir); !os.IsNotExist(err) {
		t.Errorf("%s is still there: %v", dir, err)
	}
	if st, err := os.Stat(outside); err != nil || st.Mode().Perm() != 0o555 {
		t.Errorf("the link's target changed: %v %v", st.Mode(), err)
	}
}
