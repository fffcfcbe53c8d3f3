package awsint

import (
	"archive/zip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// A bundle holds the directory's regular files, never what a symbolic
// link points at, and an empty directory is an error, not an empty
// bundle.
func TestZipDir(t *testing.T) {
	ws := t.TempDir()
	secret := filepath.Join(t.TempDir(), "secret")
	for name, body := range map[string]string{"app/index.html": "hi", "app/js/a.js": "go()", "empty/.keep": ""} {
		p := filepath.Join(ws, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(body), 0o644)
	}
	os.WriteFile(secret, []byte("key"), 0o600)
	os.Symlink(secret, filepath.Join(ws, "app", "link"))
	os.Remove(filepath.Join(ws, "empty", ".keep"))
	root, err := os.OpenRoot(ws)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()

	f, n, err := zipDir(root, "app", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(f.Name())
	defer f.Close()
	info, _ := f.Stat()
	z, err := zip.NewReader(f, info.Size())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, zf := range z.File {
		names = append(names, zf.Name)
	}
	slices.Sort(names)
	if n != 2 || !slices.Equal(names, []string{"index.html", "js/a.js"}) {
		t.Errorf("%d files %v, want index.html and js/a.js only", n, names)
	}
	if _, _, err := zipDir(root, "empty", nil); err == nil || !strings.Contains(err.Error(), "no files") {
		t.Errorf("empty directory: %v", err)
	}
	if _, _, err := zipDir(root, "missing", nil); err == nil {
		t.Error("a missing directory zipped")
	}
	lw := &limitWriter{w: f, left: 3}
	if _, err := lw.Write([]byte("four")); err != errBundleTooLarge {
		t.Errorf("past the limit: %v", err)
	}
}
