// Package awstest points the AWS SDK at moto in server mode (Python's
// moto[server]) for tests. .ci/run starts one moto_server for the whole
// test run and sets STAGEGATE_MOTO_URL; tests share it, so each names
// its resources with Name.
package awstest

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Region is the region tests use; moto keeps separate state per region.
const Region = "us-east-1"

// Account is moto's default account id, which its ARNs carry.
const Account = "123456789012"

// URL is moto's address, skipping the test when there is none, or
// failing it under .ci/run (STAGEGATE_REQUIRE_MOTO=1).
func URL(t testing.TB) string {
	t.Helper()
	u := strings.TrimRight(os.Getenv("STAGEGATE_MOTO_URL"), "/")
	if u != "" {
		return u
	}
	const how = "STAGEGATE_MOTO_URL is not set: install moto with pip install 'moto[server]', " +
		"start moto_server -p 5000 and set STAGEGATE_MOTO_URL=http://127.0.0.1:5000 (.ci/run does this)"
	if os.Getenv("STAGEGATE_REQUIRE_MOTO") == "1" {
		t.Fatal(how)
	}
	t.Skip(how)
	return ""
}

// Config is an SDK configuration that sends every service's requests to
// moto, with static test credentials (moto accepts any).
func Config(t testing.TB) aws.Config {
	t.Helper()
	return aws.Config{
		Region:       Region,
		BaseEndpoint: aws.String(URL(t)),
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
		// moto answers at once; the SDK's retries would only hide a
		// failure behind backoff.
		RetryMaxAttempts: 1,
	}
}

// Name is a resource name unique to this call, starting with prefix,
// lower case and at most 63 characters (an S3 bucket's limit), so that
// tests sharing one moto do not see each other's resources.
func Name(t testing.TB, prefix string) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random name: %v", err)
	}
	n := strings.ToLower(prefix) + "-" + hex.EncodeToString(b)
	if len(n) > 63 {
		n = n[len(n)-63:]
	}
	return n
}
