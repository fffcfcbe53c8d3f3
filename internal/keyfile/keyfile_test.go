package keyfile_test

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stagegate/stagegate/internal/keyfile"
)

func TestCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if err := keyfile.Create(dir, "k", []byte("first")); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(dir, "k"))
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode %o, want 600", perm)
	}
	// A second writer loses and is told so; the first key stays.
	if err := keyfile.Create(dir, "k", []byte("second")); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second Create: %v, want fs.ErrExist", err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "k")); string(b) != "first" {
		t.Errorf("key = %q, want the first writer's", b)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "k.*")); len(left) != 0 {
		t.Errorf("temporary files left behind: %v", left)
	}
}
