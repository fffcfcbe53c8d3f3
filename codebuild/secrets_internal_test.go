package codebuild

import "testing"

func TestSecretsManagerRef(t *testing.T) {
	const arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:npm-AbCdEf"
	for _, tc := range []struct {
		value, ref string
	}{
		{arn, arn},
		{arn + ":token::", arn + ":token::"},
		{"arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:x", "arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:x"},
		{"secretsmanager:prod/npm", "prod/npm"},
		{"secretsmanager:prod/npm:token:AWSCURRENT", "prod/npm:token:AWSCURRENT"},
		// Secrets' own values.
		{"hunter2", ""},
		{"secretsmanager:", ""},
		{"secretsmanager:a b", ""},
		{"arn:aws:secretsmanager:eu-west-1:1234:secret:x", ""},
		{"arn:aws:ssm:eu-west-1:123456789012:parameter/x", ""},
		{arn + ":a:b:c:d", ""},
		{"prefix " + arn, ""},
	} {
		ref, ok := secretsManagerRef(tc.value)
		if ref != tc.ref || ok != (tc.ref != "") {
			t.Errorf("secretsManagerRef(%q) = %q, %v; want %q", tc.value, ref, ok, tc.ref)
		}
	}
}
