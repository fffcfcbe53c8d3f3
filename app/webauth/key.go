package webauth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/stagegate/stagegate/internal/keyfile"
)

// KeyFile is where the session key is kept in the data dir, beside the
// App's credentials and the OIDC signing key.
const KeyFile = "session-key"

// KeySize is the session key's length: AES-256.
const KeySize = 32

// ParseKey reads a session key written as 64 hex digits (what KeyFile
// holds and what STAGEGATE_SESSION_KEY takes).
func ParseKey(s string) ([]byte, error) {
	k, err := hex.DecodeString(strings.TrimSpace(s))
	if err != nil || len(k) != KeySize {
		return nil, fmt.Errorf("a session key is %d hex digits (e.g. from `openssl rand -hex %d`)", 2*KeySize, KeySize)
	}
	return k, nil
}

// LoadOrCreateKey reads the session key from dataDir, generating and
// storing one (0600, atomically) on first start. Every replica that
// shares the data dir, or the environment variable, reads the same
// sessions.
func LoadOrCreateKey(dataDir string) ([]byte, error) {
	path := filepath.Join(dataDir, KeyFile)
	raw, err := os.ReadFile(path)
	if err == nil {
		k, perr := ParseKey(string(raw))
		if perr != nil {
			return nil, fmt.Errorf("session key %s: %w", path, perr)
		}
		return k, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read session key: %w", err)
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, fmt.Errorf("generate session key: %w", err)
	}
	err = keyfile.Create(dataDir, KeyFile, []byte(hex.EncodeToString(key)+"\n"))
	if errors.Is(err, os.ErrExist) {
		return LoadOrCreateKey(dataDir)
	}
	if err != nil {
		return nil, fmt.Errorf("store session key: %w", err)
	}
	return key, nil
}
