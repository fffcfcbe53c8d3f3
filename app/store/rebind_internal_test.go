package store

import (
	"path/filepath"
	"testing"
)

func TestRebind(t *testing.T) {
	pg := dialect{name: "postgres", dollar: true}
	tests := []struct{ in, sqlite, postgres string }{
		{"SELECT 1", "SELECT 1", "SELECT 1"},
		{"a = ? AND b = ?", "a = ? AND b = ?", "a = $1 AND b = $2"},
		{"a = '?' AND b = ?", "a = '?' AND b = ?", "a = '?' AND b = $1"},
		{"a = 'it''s ?' AND b IN (?, ?)", "a = 'it''s ?' AND b IN (?, ?)", "a = 'it''s ?' AND b IN ($1, $2)"},
	}
	for _, tt := range tests {
		if got := sqliteDialect.rebind(tt.in); got != tt.sqlite {
			t.Errorf("sqlite rebind(%q) = %q", tt.in, got)
		}
		if got := pg.rebind(tt.in); got != tt.postgres {
			t.Errorf("postgres rebind(%q) = %q, want %q", tt.in, got, tt.postgres)
		}
	}
}

func TestMigrationFiles(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	// Every .sql file of the source tree is embedded and read.
	onDisk, err := filepath.Glob(filepath.Join("migrations", "*.sql"))
	if err != nil {
		t.Fatal(err)
	}
	if len(onDisk) < 4 || len(ms) != len(onDisk) {
		t.Fatalf("%d migrations read, %d files in migrations/; want the same, and at least 4", len(ms), len(onDisk))
	}
	// Versions increase; numbers may be skipped (each change is given
	// its number ahead of time, and they merge in any order).
	for i, m := range ms {
		if m.version < 1 || (i > 0 && m.version <= ms[i-1].version) {
			t.Errorf("migration %s has version %d: versions must increase", m.name, m.version)
		}
	}
}
