package setup

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// credentialsFile is where the setup flow keeps the App's credentials,
// in the data dir.
const credentialsFile = "github-app.json"

// Credentials identify the GitHub App: what GitHub returns when an App is
// created from a manifest.
type Credentials struct {
	AppID         int64  `json:"app_id"`
	Slug          string `json:"slug"`
	HTMLURL       string `json:"html_url"`
	PrivateKey    string `json:"pem"`
	WebhookSecret string `json:"webhook_secret"`
	// ClientID and ClientSecret are the App's OAuth client, for signing
	// in to the pages.
	ClientID     string    `json:"client_id,omitempty"`
	ClientSecret string    `json:"client_secret,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
}

// LoadCredentials reads the credentials the setup flow stored; ok is
// false when there are none.
func LoadCredentials(dataDir string) (c Credentials, ok bool, err error) {
	raw, err := os.ReadFile(filepath.Join(dataDir, credentialsFile))
	if errors.Is(err, os.ErrNotExist) {
		return c, false, nil
	}
	if err != nil {
		return c, false, fmt.Errorf("read stored App credentials: %w", err)
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, false, fmt.Errorf("stored App credentials in %s: %w", filepath.Join(dataDir, credentialsFile), err)
	}
	return c, true, nil
}

// saveCredentials writes the credentials readable by this user only, and
// atomically, so a crash never leaves half a private key.
func saveCredentials(dataDir string, c Credentials) error {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	raw, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dataDir, credentialsFile+".*")
	if err != nil {
		return fmt.Errorf("store App credentials: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("store App credentials: %w", err)
	}
	if _, err := tmp.Write(raw); err != nil {
		tmp.Close()
		return fmt.Errorf("store App credentials: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("store App credentials: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dataDir, credentialsFile)); err != nil {
		return fmt.Errorf("store App credentials: %w", err)
	}
	return nil
}
