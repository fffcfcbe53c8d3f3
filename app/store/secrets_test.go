package store_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/internal/pgtest"
)

func newKey(t *testing.T) (*store.SecretKey, []byte) {
	t.Helper()
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	k, err := store.ParseSecretKey(base64.StdEncoding.EncodeToString(raw))
	if err != nil {
		t.Fatal(err)
	}
	return k, raw
}

func TestParseSecretKey(t *testing.T) {
	raw := make([]byte, 32)
	for i := range raw {
		raw[i] = byte(i * 7)
	}
	want, err := store.ParseSecretKey(hex.EncodeToString(raw))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{
		strings.ToUpper(hex.EncodeToString(raw)),
		base64.StdEncoding.EncodeToString(raw),
		base64.RawStdEncoding.EncodeToString(raw),
		base64.URLEncoding.EncodeToString(raw),
		base64.RawURLEncoding.EncodeToString(raw) + "\n",
	} {
		k, err := store.ParseSecretKey(s)
		if err != nil || k.ID() != want.ID() {
			t.Errorf("ParseSecretKey(%q) = %v; want the same key", s, err)
		}
	}
	for _, s := range []string{
		"",
		"hunter2",
		hex.EncodeToString(raw[:16]),
		base64.StdEncoding.EncodeToString(raw[:31]),
		base64.StdEncoding.EncodeToString(append(raw, 1)),
		strings.Repeat("z", 64),
	} {
		_, err := store.ParseSecretKey(s)
		if err == nil {
			t.Errorf("ParseSecretKey(%q) accepted", s)
			continue
		}
		if !strings.Contains(err.Error(), store.SecretKeyEnv) || (s != "" && strings.Contains(err.Error(), s)) {
			t.Errorf("ParseSecretKey(%q) = %q: want the variable named and the value not shown", s, err)
		}
	}
}

func TestSealedSecrets(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := openURL(t, url)
		key, _ := newKey(t)
		other, _ := newKey(t)
		if _, err := db.SetupCredentials(ctx, key); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("SetupCredentials before setup = %v; want ErrNotFound", err)
		}
		creds := store.SetupCredentials{
			AppID: 1234, PrivateKeyPEM: "-----BEGIN RSA PRIVATE KEY-----\nMIIEsecretpart\n-----END RSA PRIVATE KEY-----\n",
			WebhookSecret: "whsec-plain", OAuthClientID: "Iv1.abc", OAuthClientSecret: "oauth-plain",
		}
		if err := db.PutSetupCredentials(ctx, key, creds); err != nil {
			t.Fatal(err)
		}
		if got, err := db.SetupCredentials(ctx, key); err != nil || got != creds {
			t.Fatalf("SetupCredentials = %+v, %v", got, err)
		}
		// Nothing readable is stored.
		var keyID, sealed string
		if err := db.SQL().QueryRowContext(ctx, `SELECT key_id, sealed FROM sealed_secrets`).Scan(&keyID, &sealed); err != nil {
			t.Fatal(err)
		}
		for _, plain := range []string{"secretpart", "whsec-plain", "oauth-plain", "Iv1.abc"} {
			if strings.Contains(sealed, plain) || strings.Contains(sealed, base64.StdEncoding.EncodeToString([]byte(plain))) {
				t.Fatalf("the stored value shows %q", plain)
			}
		}
		if keyID != key.ID() {
			t.Fatalf("key id %s stored, want %s", keyID, key.ID())
		}

		// Another key is named as the problem, not decrypted into garbage.
		_, err := db.SetupCredentials(ctx, other)
		if !errors.Is(err, store.ErrWrongKey) || !strings.Contains(err.Error(), store.SecretKeyEnv) {
			t.Fatalf("SetupCredentials under another key = %v; want ErrWrongKey", err)
		}

		// A stored value altered, or moved to another name, fails to open.
		raw, _ := base64.StdEncoding.DecodeString(sealed)
		raw[len(raw)-1] ^= 1
		if _, err := db.SQL().ExecContext(ctx, db.Rebind(`UPDATE sealed_secrets SET sealed = ?`), base64.StdEncoding.EncodeToString(raw)); err != nil {
			t.Fatal(err)
		}
		if got, err := db.SetupCredentials(ctx, key); err == nil || !strings.Contains(err.Error(), "authentication failed") {
			t.Fatalf("SetupCredentials of an altered value = %+v, %v", got, err)
		}
		if err := db.PutSecret(ctx, key, "a", []byte("value of a")); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SQL().ExecContext(ctx, db.Rebind(`INSERT INTO sealed_secrets (name, key_id, sealed, updated_at)
SELECT 'b', key_id, sealed, updated_at FROM sealed_secrets WHERE name = ?`), "a"); err != nil {
			t.Fatal(err)
		}
		if got, err := db.Secret(ctx, key, "b"); err == nil {
			t.Fatalf("a value moved to another name opened: %q", got)
		}
		if got, err := db.Secret(ctx, key, "a"); err != nil || string(got) != "value of a" {
			t.Fatalf("Secret(a) = %q, %v", got, err)
		}
		// Replacing under a new key (rotation) works, and the old key is then wrong.
		if err := db.PutSetupCredentials(ctx, other, creds); err != nil {
			t.Fatal(err)
		}
		if _, err := db.SetupCredentials(ctx, key); !errors.Is(err, store.ErrWrongKey) {
			t.Fatalf("SetupCredentials under the replaced key = %v", err)
		}
		if err := db.PutSetupCredentials(ctx, key, store.SetupCredentials{AppID: 1}); err == nil {
			t.Fatal("incomplete setup credentials stored")
		}
		if _, err := db.Secret(ctx, nil, "a"); err == nil {
			t.Fatal("Secret without a key succeeded")
		}
	})
}
