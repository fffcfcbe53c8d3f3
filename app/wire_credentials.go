package app

import (
	"context"
	"errors"
	"fmt"

	"github.com/stagegate/stagegate/app/setup"
	"github.com/stagegate/stagegate/app/store"
)

// The App's credentials for replicas: setup stores them in the data dir
// of the machine it ran on, and, with STAGEGATE_SECRET_KEY, sealed in the
// database too, where a replica that has no file finds them.

// withSecretStore opens the database and the key for fn; it does nothing
// without a key.
func withSecretStore(ctx context.Context, cfg Config, fn func(*store.DB, *store.SecretKey) error) error {
	if cfg.SecretKey == "" {
		return nil
	}
	key, err := store.ParseSecretKey(cfg.SecretKey)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.DatabaseURL())
	if err != nil {
		return err
	}
	defer func() { _ = db.Close() }()
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	return fn(db, key)
}

// sharedCredentials reads the credentials another replica's setup
// stored in the database; ok is false when there are none or no key.
func sharedCredentials(ctx context.Context, cfg Config) (creds setup.Credentials, ok bool, err error) {
	err = withSecretStore(ctx, cfg, func(db *store.DB, key *store.SecretKey) error {
		c, err := db.SetupCredentials(ctx, key)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("the App's credentials in the database: %w", err)
		}
		creds, ok = setup.Credentials{AppID: c.AppID, PrivateKey: c.PrivateKeyPEM, WebhookSecret: c.WebhookSecret,
			ClientID: c.OAuthClientID, ClientSecret: c.OAuthClientSecret}, true
		return nil
	})
	return creds, ok, err
}

// shareCredentials seals the credentials setup obtained in the database.
func shareCredentials(ctx context.Context, cfg Config, creds setup.Credentials) error {
	return withSecretStore(ctx, cfg, func(db *store.DB, key *store.SecretKey) error {
		return db.PutSetupCredentials(ctx, key, store.SetupCredentials{
			AppID: creds.AppID, PrivateKeyPEM: creds.PrivateKey, WebhookSecret: creds.WebhookSecret,
			OAuthClientID: creds.ClientID, OAuthClientSecret: creds.ClientSecret,
		})
	})
}
