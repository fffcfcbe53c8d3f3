// Package keyfile writes a key file the App generates on first start
// (the OIDC signing key, the session key): private from its first byte,
// and never over a key another process wrote first.
package keyfile

import (
	"fmt"
	"os"
	"path/filepath"
)

// Create writes data to dir/name, creating dir (0700) if need be. The file
// is 0600 before any byte is written. When dir/name exists already, from
// another process that started at the same time, the error wraps
// fs.ErrExist: the caller then reads that key instead of its own.
func Create(dir, name string, data []byte) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	tmp, err := os.CreateTemp(dir, name+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.Write(data)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	// Link, not rename: a second process starting at the same time must
	// not replace the key the first one already uses.
	return os.Link(tmp.Name(), filepath.Join(dir, name))
}
