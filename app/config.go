package app

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/stagegate/stagegate/app/setup"
)

// Config is what `stagegate serve` needs to run. Every field comes from a
// flag or its environment variable; see cmd/stagegate/serve.go.
type Config struct {
	// Addr is the listen address.
	Addr string
	// AppID and PrivateKey identify the GitHub App.
	AppID      int64
	PrivateKey []byte
	// WebhookSecret signs GitHub's deliveries; required.
	WebhookSecret []byte
	// GitHubURL is the REST API base: https://api.github.com/ or a GitHub
	// Enterprise Server's https://HOST/api/v3/.
	GitHubURL string
	// Database is sqlite://PATH or postgres://...; empty means the
	// embedded database in DataDir (DatabaseURL).
	Database string
	// DataDir holds workspaces, logs and artifacts.
	DataDir string
	// PublicURL is where the app is reachable, for links on checks.
	PublicURL string
	// Retention is how long log lines and deliveries are kept; zero means
	// DefaultRetention.
	Retention time.Duration
	// MinFreeSpace is the free space of DataDir, in bytes, below which
	// log lines are not stored (webhooks still are); zero means no floor.
	MinFreeSpace uint64
	// OAuthClientID and OAuthClientSecret are the App's OAuth client, for
	// signing in to the pages (app/webauth); the setup flow stores them.
	// SessionKey seals the session cookies; empty means the key file in
	// DataDir (wire_webauth.go).
	OAuthClientID, OAuthClientSecret string
	SessionKey                       []byte
	// CodeBuildStaging is s3://bucket/prefix, where `runner: codebuild`
	// actions ship their workspace; empty turns that runner off.
	CodeBuildStaging string
	// ArtifactStore is s3://BUCKET/PREFIX to keep runs' artifacts in S3;
	// empty keeps them in DataDir alone (wire_artifacts.go).
	ArtifactStore string
	// SecretKey, when set (STAGEGATE_SECRET_KEY), seals the App's
	// credentials in the database, where every replica reads them.
	SecretKey string
}

// DefaultRetention is how long log lines and deliveries are kept.
const DefaultRetention = 30 * 24 * time.Hour

// minRetention keeps deliveries for as long as duplicates are looked for
// and failed ones redelivered.
const minRetention = 24 * time.Hour

// SettingError names the flag and environment variable of a bad
// setting, so that a failed start-up says in one line what to fix.
type SettingError struct {
	Flag, Env string
	Problem   string
}

func (e *SettingError) Error() string {
	return fmt.Sprintf("--%s (%s) %s", e.Flag, e.Env, e.Problem)
}

// hasCredentials reports whether any of the App's own settings was
// given. With none, stagegate serve starts in setup mode.
func (c *Config) hasCredentials() bool {
	return c.AppID != 0 || len(c.PrivateKey) != 0 || len(c.WebhookSecret) != 0
}

// validateSetup checks what setup mode needs: where GitHub will send the
// browser back and the webhooks.
func (c *Config) validateSetup() error {
	if c.PublicURL == "" {
		return &SettingError{"public-url", "STAGEGATE_PUBLIC_URL", "is required to create the GitHub App: GitHub sends its webhooks and your browser back there"}
	}
	if c.DataDir == "" {
		return &SettingError{"data-dir", "STAGEGATE_DATA_DIR", "is required: the App's credentials are stored there"}
	}
	if err := checkURL(c.PublicURL); err != nil {
		return &SettingError{"public-url", "STAGEGATE_PUBLIC_URL", err.Error()}
	}
	if err := checkURL(c.GitHubURL); err != nil {
		return &SettingError{"github-url", "STAGEGATE_GITHUB_URL", err.Error()}
	}
	return c.validateArtifactStore()
}

// Validate checks the configuration and returns the first problem.
func (c *Config) Validate() error {
	switch {
	case len(c.WebhookSecret) == 0:
		return &SettingError{"webhook-secret", "STAGEGATE_WEBHOOK_SECRET", "is required: GitHub signs every delivery with it"}
	case c.AppID <= 0:
		return &SettingError{"app-id", "STAGEGATE_APP_ID", "is required: the GitHub App's id"}
	case len(c.PrivateKey) == 0:
		return &SettingError{"private-key", "STAGEGATE_PRIVATE_KEY_FILE", "is required (or STAGEGATE_PRIVATE_KEY with the PEM itself)"}
	case !strings.Contains(string(c.PrivateKey), "PRIVATE KEY-----"):
		return &SettingError{"private-key", "STAGEGATE_PRIVATE_KEY_FILE", "is not a PEM private key"}
	case c.DataDir == "":
		return &SettingError{"data-dir", "STAGEGATE_DATA_DIR", "is required"}
	}
	if err := checkURL(c.GitHubURL); err != nil {
		return &SettingError{"github-url", "STAGEGATE_GITHUB_URL", err.Error()}
	}
	if c.PublicURL != "" {
		if err := checkURL(c.PublicURL); err != nil {
			return &SettingError{"public-url", "STAGEGATE_PUBLIC_URL", err.Error()}
		}
	}
	if c.Retention != 0 && c.Retention < minRetention {
		return &SettingError{"retention", "STAGEGATE_RETENTION", fmt.Sprintf("must be at least 24h: deliveries of the last day are needed to tell duplicates, not %v", c.Retention)}
	}
	if db := c.DatabaseURL(); !strings.HasPrefix(db, "sqlite://") && !strings.HasPrefix(db, "postgres://") && !strings.HasPrefix(db, "postgresql://") {
		// Only the scheme is shown: the rest may hold a password.
		scheme, _, _ := strings.Cut(db, "://")
		return &SettingError{"database", "STAGEGATE_DATABASE", fmt.Sprintf("must be sqlite://PATH or postgres://USER:PASSWORD@HOST/DB, not %q", scheme+"://...")}
	}
	if err := c.validateArtifactStore(); err != nil {
		return err
	}
	return checkOldDefaultDatabase(c)
}

func checkURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("is not a URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return errors.New("must be an http or https URL with a host, such as https://api.github.com/")
	}
	return nil
}

// applyCredentials fills the configuration's App settings from the
// credentials, unless flags or the environment gave them.
func (c *Config) applyCredentials(creds setup.Credentials) {
	if c.AppID == 0 {
		c.AppID = creds.AppID
	}
	if len(c.PrivateKey) == 0 {
		c.PrivateKey = []byte(creds.PrivateKey)
	}
	if len(c.WebhookSecret) == 0 {
		c.WebhookSecret = []byte(creds.WebhookSecret)
	}
	if c.OAuthClientID == "" && c.OAuthClientSecret == "" {
		c.OAuthClientID, c.OAuthClientSecret = creds.ClientID, creds.ClientSecret
	}
}
