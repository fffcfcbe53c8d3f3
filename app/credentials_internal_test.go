package app

import (
	"context"
	"errors"
	"testing"

	"github.com/stagegate/stagegate/app/setup"
	"github.com/stagegate/stagegate/app/store"
	"github.com/stagegate/stagegate/internal/pgtest"
)

// TestCredentialsSharedThroughTheDatabase: what setup obtained on one
// replica (the App's key and secret, and its OAuth client for sign-in) is
// found by another that has no file, under the same key only;
// without a key nothing is stored or read.
func TestCredentialsSharedThroughTheDatabase(t *testing.T) {
	pgtest.Run(t, func(t *testing.T, url string) {
		ctx := context.Background()
		const key = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
		const other = "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
		creds := setup.Credentials{AppID: 42, PrivateKey: "-----BEGIN RSA PRIVATE KEY-----\nx\n-----END RSA PRIVATE KEY-----\n", WebhookSecret: "s3cret",
			ClientID: "Iv1.abc", ClientSecret: "oauth-s3cret"}

		if err := shareCredentials(ctx, Config{Database: url}, creds); err != nil {
			t.Fatalf("without a key: %v", err)
		}
		if _, ok, err := sharedCredentials(ctx, Config{Database: url, SecretKey: key}); err != nil || ok {
			t.Fatalf("stored without a key: ok %v, %v", ok, err)
		}

		if err := shareCredentials(ctx, Config{Database: url, SecretKey: key}, creds); err != nil {
			t.Fatal(err)
		}
		got, ok, err := sharedCredentials(ctx, Config{Database: url, SecretKey: key})
		if err != nil || !ok || got != creds {
			t.Fatalf("read back %+v, %v, %v", got, ok, err)
		}
		if _, _, err := sharedCredentials(ctx, Config{Database: url, SecretKey: other}); !errors.Is(err, store.ErrWrongKey) {
			t.Errorf("under another key: %v, want ErrWrongKey", err)
		}
		if _, _, err := sharedCredentials(ctx, Config{Database: url, SecretKey: "short"}); err == nil {
			t.Error("a malformed key was accepted")
		}
	})
}
