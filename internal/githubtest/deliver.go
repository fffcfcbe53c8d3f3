package githubtest

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"testing"
	"time"
)

// hookshotUA is the User-Agent GitHub's webhook sender uses
// ("GitHub-Hookshot/" and a short build hash).
const hookshotUA = "GitHub-Hookshot/4f0f7a1"

// Sign returns the X-Hub-Signature-256 value for body: "sha256=" and the
// hex HMAC-SHA256 of body keyed with secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// SignSHA1 returns the legacy X-Hub-Signature value: "sha1=" and the hex
// HMAC-SHA1.
func SignSHA1(secret, body []byte) string {
	m := hmac.New(sha1.New, secret)
	m.Write(body)
	return "sha1=" + hex.EncodeToString(m.Sum(nil))
}

// NewDeliveryID returns a random GUID like GitHub's X-GitHub-Delivery.
func NewDeliveryID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// SendWebhook POSTs body to url as GitHub delivers a webhook: headers
// X-GitHub-Event, X-GitHub-Delivery (a new GUID if deliveryID is ""),
// X-GitHub-Hook-ID, X-Hub-Signature-256 and X-Hub-Signature (both omitted
// when secret is "", as GitHub does for hooks without a secret),
// User-Agent GitHub-Hookshot/..., Content-Type application/json. The
// returned response's body is fully read and can be read again.
func SendWebhook(t testing.TB, url, secret, event, deliveryID string, body []byte) *http.Response {
	t.Helper()
	if deliveryID == "" {
		deliveryID = NewDeliveryID()
	}
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("githubtest: SendWebhook: %v", err)
	}
	req.Header.Set("User-Agent", hookshotUA)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "*/*")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", deliveryID)
	req.Header.Set("X-GitHub-Hook-ID", "1")
	if secret != "" {
		req.Header.Set("X-Hub-Signature", SignSHA1([]byte(secret), body))
		req.Header.Set("X-Hub-Signature-256", Sign([]byte(secret), body))
	}
	client := &http.Client{Timeout: 60 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("githubtest: SendWebhook %s to %s: %v", event, url, err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("githubtest: SendWebhook: reading response: %v", err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp
}
