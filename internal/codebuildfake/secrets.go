package codebuildfake

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// secretValue resolves a SECRETS_MANAGER variable's value,
// secret-id:json-key:version-stage:version-id with the last three
// optional and secret-id a name or an ARN (itself holding six colons), as
// CodeBuild reads it
// (https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html#build-spec.env.secrets-manager).
func (f *Fake) secretValue(ctx context.Context, ref string) (string, error) {
	id, rest := ref, ""
	if strings.HasPrefix(ref, "arn:") {
		parts := strings.SplitN(ref, ":", 8)
		if len(parts) < 7 {
			return "", fmt.Errorf("%q is not a Secrets Manager ARN", ref)
		}
		id = strings.Join(parts[:7], ":")
		if len(parts) == 8 {
			rest = parts[7]
		}
	} else if i := strings.IndexByte(ref, ':'); i >= 0 {
		id, rest = ref[:i], ref[i+1:]
	}
	var key, stage, version string
	fields := strings.SplitN(rest, ":", 3)
	for i, p := range []*string{&key, &stage, &version} {
		if i < len(fields) {
			*p = fields[i]
		}
	}
	in := &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)}
	if stage != "" {
		in.VersionStage = aws.String(stage)
	}
	if version != "" {
		in.VersionId = aws.String(version)
	}
	out, err := secretsmanager.NewFromConfig(f.aws).GetSecretValue(ctx, in)
	if err != nil {
		return "", err
	}
	val := aws.ToString(out.SecretString)
	if key == "" {
		return val, nil
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(val), &obj); err != nil {
		return "", fmt.Errorf("secret %s is not JSON, so it has no key %s", id, key)
	}
	v, ok := obj[key]
	if !ok {
		return "", fmt.Errorf("secret %s has no key %s", id, key)
	}
	if s, ok := v.(string); ok {
		return s, nil
	}
	b, err := json.Marshal(v)
	return string(b), err
}
