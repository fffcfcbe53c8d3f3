package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// defaultDatabaseFile is the embedded database's file in the data dir
// when no --database is given: there it is kept with the credentials,
// away from the working directory, and hidden from builds with them.
const defaultDatabaseFile = "stagegate.db"

// DatabaseURL is the database to open: Database, or else the embedded
// database in DataDir.
func (c *Config) DatabaseURL() string {
	if c.Database != "" {
		return c.Database
	}
	return "sqlite://" + filepath.Join(c.DataDir, defaultDatabaseFile)
}

// checkOldDefaultDatabase stops a start that would leave an older
// version's database behind: its default was stagegate.db in the
// working directory. Starting over with an empty database would forget
// every run, approval and delivery, so the operator is told what to do.
func checkOldDefaultDatabase(c *Config) error {
	if c.Database != "" {
		return nil
	}
	old, err := filepath.Abs(defaultDatabaseFile)
	if err != nil {
		return nil
	}
	cur, err := filepath.Abs(filepath.Join(c.DataDir, defaultDatabaseFile))
	if err != nil || old == cur {
		return nil
	}
	if _, err := os.Stat(old); err != nil {
		return nil
	}
	if _, err := os.Stat(cur); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return &SettingError{"database", "STAGEGATE_DATABASE", fmt.Sprintf(
		"is not set, and its default is now %s, but %s (the old default) exists: move it and its -wal and -shm files into the data dir, or set --database sqlite://%s",
		cur, old, old)}
}
