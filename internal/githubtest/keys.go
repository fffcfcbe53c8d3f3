package githubtest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"sync"
)

// RSA key generation costs tens to hundreds of milliseconds on a busy
// machine, so keys are generated once per test process and reused: the
// n-th App of every Server gets the n-th key of this pool.
var keyPool struct {
	mu   sync.Mutex
	keys []*rsa.PrivateKey
	pems [][]byte
}

func pooledKey(n int) (*rsa.PrivateKey, []byte) {
	keyPool.mu.Lock()
	defer keyPool.mu.Unlock()
	for len(keyPool.keys) <= n {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(fmt.Sprintf("githubtest: generating RSA key: %v", err))
		}
		// GitHub hands out PKCS#1 PEM ("BEGIN RSA PRIVATE KEY") files.
		p := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
		keyPool.keys = append(keyPool.keys, k)
		keyPool.pems = append(keyPool.pems, p)
	}
	return keyPool.keys[n], keyPool.pems[n]
}
