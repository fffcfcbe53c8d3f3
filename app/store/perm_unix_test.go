//go:build unix

package store_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// TestDatabaseFilesArePrivate: the database, its WAL and its shared
// memory file hold every delivery, log and approval; they are created
// 0600 whatever the umask, and a database left readable by an older
// version is made private when opened.
func TestDatabaseFilesArePrivate(t *testing.T) {
	// The umask is the process's; no test in this package runs in
	// parallel with this one.
	old := syscall.Umask(0)
	defer syscall.Umask(old)

	tests := []struct {
		name     string
		existing os.FileMode // 0: no file before Open
	}{
		{name: "new database"},
		{name: "database left world-readable", existing: 0o644},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "stagegate.db")
			if tt.existing != 0 {
				for _, suffix := range []string{"", "-wal", "-shm"} {
					if err := os.WriteFile(path+suffix, nil, tt.existing); err != nil {
						t.Fatal(err)
					}
				}
			}
			db := openAt(t, path)
			// A write, so that the WAL and the shared memory exist.
			if _, err := db.SQL().ExecContext(context.Background(), "CREATE TABLE perm_probe (x INTEGER)"); err != nil {
				t.Fatal(err)
			}
			for _, suffix := range []string{"", "-wal", "-shm"} {
				st, err := os.Stat(path + suffix)
				if err != nil {
					t.Fatalf("stat %s: %v", path+suffix, err)
				}
				if mode := st.Mode().Perm(); mode != 0o600 {
					t.Errorf("%s has mode %#o, want 0600", filepath.Base(path+suffix), mode)
				}
			}
		})
	}
}
