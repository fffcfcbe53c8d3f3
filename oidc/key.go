package oidc

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/stagegate/stagegate/internal/keyfile"
)

// KeyFile is where the signing key is kept in the data dir, beside the
// App's credentials.
const KeyFile = "oidc-signing-key.pem"

// LoadOrCreateKey reads the signing key from dataDir, generating and
// storing one (0600, atomically) on first start. RSA, since RS256 is the
// algorithm every relying party, AWS STS included, accepts.
func LoadOrCreateKey(dataDir string) (*rsa.PrivateKey, error) {
	path := filepath.Join(dataDir, KeyFile)
	raw, err := os.ReadFile(path)
	if err == nil {
		return parseKey(path, raw)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read OIDC signing key: %w", err)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("generate OIDC signing key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode OIDC signing key: %w", err)
	}
	err = keyfile.Create(dataDir, KeyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if errors.Is(err, os.ErrExist) {
		return LoadOrCreateKey(dataDir)
	}
	if err != nil {
		return nil, fmt.Errorf("store OIDC signing key: %w", err)
	}
	return key, nil
}

func parseKey(path string, raw []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, fmt.Errorf("OIDC signing key %s: no PEM block", path)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("OIDC signing key %s: %w", path, err)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("OIDC signing key %s: %T, want an RSA key", path, k)
	}
	return rk, nil
}
