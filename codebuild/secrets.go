package codebuild

import (
	"maps"
	"regexp"
	"slices"
	"strings"
)

// secretARN is a Secrets Manager secret's ARN, optionally followed by
// CodeBuild's :json-key:version-stage:version-id
// (https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html#build-spec.env.secrets-manager).
var secretARN = regexp.MustCompile(`^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+(:[^:\s]*){0,3}$`)

// secretName is the documented short form's rest: a secret's name, then
// the same optional fields.
var secretName = regexp.MustCompile(`^[A-Za-z0-9/_+=.@-]+(:[^:\s]*){0,3}$`)

// secretsManagerRef is the SECRETS_MANAGER reference a secret's value
// stands for: a Secrets Manager ARN, or secretsmanager:NAME; ok is false
// for any other value, which is a secret's value itself.
func secretsManagerRef(v string) (ref string, ok bool) {
	if secretARN.MatchString(v) {
		return v, true
	}
	if rest, found := strings.CutPrefix(v, "secretsmanager:"); found && secretName.MatchString(rest) {
		return rest, true
	}
	return "", false
}

// secretRefs are the action's secrets whose values name a Secrets
// Manager secret, by variable: the build reads the secret itself, so its
// value never passes through stagegate or Parameter Store.
func (b *build) secretRefs() map[string]string {
	refs := map[string]string{}
	for _, k := range slices.Sorted(maps.Keys(b.spec.Remote.Secret)) {
		if !b.shippedSecret(k) {
			continue
		}
		if ref, ok := secretsManagerRef(b.env[k]); ok {
			refs[k] = ref
		}
	}
	return refs
}

// shippedSecret says whether secret variable k goes to the build at all.
func (b *build) shippedSecret(k string) bool {
	_, ok := b.env[k]
	return ok && !hostVars[k] && !strings.HasPrefix(k, "CODEBUILD_") && envName.MatchString(k)
}
