//go:build unix

package engine

import (
	"os"
	"path/filepath"
	"testing"
)

// TestStoreArtifactStaysInTheWorkspace: between the checks of
// collectArtifacts and the copy, an action still running can put a link
// where a directory was. The copy must then fail, not store the host
// file the link leads to.
func TestStoreArtifactStaysInTheWorkspace(t *testing.T) {
	ws, outside, store := t.TempDir(), t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(outside, "app"), []byte("host-only-canary"), 0o600); err != nil {
		t.Fatal(err)
	}
	// dist was a directory when it was checked; now it is a link out.
	if err := os.Symlink(outside, filepath.Join(ws, "dist")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ws, "plain.txt"), []byte("fine"), 0o644); err != nil {
		t.Fatal(err)
	}
	rs := &runState{workspace: ws, workspaceReal: ws, artifactDir: store}
	root, err := os.OpenRoot(ws)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	tests := []struct {
		src     string
		wantErr bool
	}{
		{src: "dist/app", wantErr: true},
		{src: "plain.txt", wantErr: false},
	}
	for _, tt := range tests {
		err := rs.storeArtifact(root, tt.src, tt.src)
		if (err != nil) != tt.wantErr {
			t.Errorf("storeArtifact(%s) = %v, want error %v", tt.src, err, tt.wantErr)
		}
	}
	if b, err := os.ReadFile(filepath.Join(store, "dist", "app")); err == nil {
		t.Errorf("a host file was stored through a link: %q", b)
	}
}
