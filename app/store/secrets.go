package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// SecretKeyEnv names the variable holding the key that seals the secrets
// stored in the database.
const SecretKeyEnv = "STAGEGATE_SECRET_KEY"

// ErrWrongKey is returned, wrapped, when a secret was sealed under
// another key than the one given.
var ErrWrongKey = errors.New("sealed under another " + SecretKeyEnv)

// SecretKey is an AES-256 key for secrets stored in the database.
type SecretKey struct {
	aead cipher.AEAD
	// id names the key without revealing it: stored beside what it
	// seals, so that a wrong key is told apart from damaged data.
	id string
}

// ParseSecretKey reads a 32-byte key written as 64 hex digits or in
// base64 (standard or URL alphabet, padded or not). Its error never
// shows the key.
func ParseSecretKey(s string) (*SecretKey, error) {
	s = strings.TrimSpace(s)
	var (
		raw []byte
		err error
	)
	switch {
	case s == "":
		return nil, fmt.Errorf("%s is empty: want 32 random bytes in hex or base64 (openssl rand -base64 32)", SecretKeyEnv)
	case len(s) == 64:
		raw, err = hex.DecodeString(s)
	default:
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if raw, err = enc.DecodeString(s); err == nil {
				break
			}
		}
	}
	if err != nil || len(raw) != 32 {
		return nil, fmt.Errorf("%s is not 32 bytes in hex (64 digits) or base64 (44 characters): generate one with openssl rand -base64 32", SecretKeyEnv)
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", SecretKeyEnv, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", SecretKeyEnv, err)
	}
	mac := hmac.New(sha256.New, raw)
	mac.Write([]byte("stagegate secret key id"))
	return &SecretKey{aead: aead, id: hex.EncodeToString(mac.Sum(nil)[:8])}, nil
}

// ID names the key: the same key gives the same id, and the id tells
// nothing about the key.
func (k *SecretKey) ID() string { return k.id }

// seal encrypts plain with a random nonce; name is authenticated with it
// (additional data), so a sealed value moved to another name fails to
// open.
func (k *SecretKey) seal(name string, plain []byte) string {
	nonce := make([]byte, k.aead.NonceSize())
	_, _ = rand.Read(nonce) // crypto/rand.Read never fails
	return base64.StdEncoding.EncodeToString(k.aead.Seal(nonce, nonce, plain, []byte(name)))
}

func (k *SecretKey) open(name, sealed string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(sealed)
	if err != nil || len(raw) < k.aead.NonceSize()+k.aead.Overhead() {
		return nil, errors.New("the stored value is damaged")
	}
	n := k.aead.NonceSize()
	plain, err := k.aead.Open(nil, raw[:n], raw[n:], []byte(name))
	if err != nil {
		return nil, errors.New("the stored value is damaged or was altered (authentication failed)")
	}
	return plain, nil
}

// PutSecret seals value under key and stores it as name, replacing what
// was stored.
func (db *DB) PutSecret(ctx context.Context, key *SecretKey, name string, value []byte) error {
	if key == nil {
		return fmt.Errorf("store: secret %s: no %s", name, SecretKeyEnv)
	}
	_, err := db.exec(ctx, `INSERT INTO sealed_secrets (name, key_id, sealed, updated_at) VALUES (?, ?, ?, ?)
ON CONFLICT (name) DO UPDATE SET key_id = excluded.key_id, sealed = excluded.sealed, updated_at = excluded.updated_at`,
		name, key.id, key.seal(name, value), db.now().UnixMilli())
	if err != nil {
		return fmt.Errorf("store: store secret %s: %w", name, err)
	}
	return nil
}

// Secret opens the secret stored as name. It fails with ErrNotFound when
// there is none, with ErrWrongKey when it was sealed under another key,
// and with an error when the stored value does not authenticate: never
// with garbage.
func (db *DB) Secret(ctx context.Context, key *SecretKey, name string) ([]byte, error) {
	if key == nil {
		return nil, fmt.Errorf("store: secret %s: no %s", name, SecretKeyEnv)
	}
	var keyID, sealed string
	err := db.get(ctx, `SELECT key_id, sealed FROM sealed_secrets WHERE name = ?`, []any{name},
		func(s scanner) error { return s.Scan(&keyID, &sealed) })
	if err != nil {
		return nil, fmt.Errorf("store: secret %s: %w", name, err)
	}
	if keyID != key.id {
		return nil, fmt.Errorf("store: secret %s: %w (key id %s, given %s)", name, ErrWrongKey, keyID, key.id)
	}
	plain, err := key.open(name, sealed)
	if err != nil {
		return nil, fmt.Errorf("store: secret %s: %w", name, err)
	}
	return plain, nil
}

// SetupCredentials are what the setup flow gets from GitHub for the App.
type SetupCredentials struct {
	AppID             int64  `json:"app_id"`
	PrivateKeyPEM     string `json:"private_key_pem"`
	WebhookSecret     string `json:"webhook_secret"`
	OAuthClientID     string `json:"oauth_client_id,omitempty"`
	OAuthClientSecret string `json:"oauth_client_secret,omitempty"`
}

// setupSecretName is the sealed_secrets row of the setup credentials.
const setupSecretName = "setup_credentials"

// PutSetupCredentials seals and stores the App's credentials.
func (db *DB) PutSetupCredentials(ctx context.Context, key *SecretKey, c SetupCredentials) error {
	if c.AppID <= 0 || c.PrivateKeyPEM == "" || c.WebhookSecret == "" {
		return errors.New("store: setup credentials need the App id, private key and webhook secret")
	}
	plain, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("store: setup credentials: %w", err)
	}
	return db.PutSecret(ctx, key, setupSecretName, plain)
}

// SetupCredentials opens the stored App credentials; ErrNotFound when
// setup has not stored any, ErrWrongKey under another key.
func (db *DB) SetupCredentials(ctx context.Context, key *SecretKey) (SetupCredentials, error) {
	plain, err := db.Secret(ctx, key, setupSecretName)
	if err != nil {
		return SetupCredentials{}, err
	}
	var c SetupCredentials
	if err := json.Unmarshal(plain, &c); err != nil {
		return SetupCredentials{}, fmt.Errorf("store: setup credentials: %w", err)
	}
	return c, nil
}
