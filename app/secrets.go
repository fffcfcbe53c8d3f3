package app

import "os"

// SecretEnvPrefix marks the host variables that pipelines may ask for by
// name in pass_env and secrets. A pipeline's `secrets: [NPM_TOKEN]` reads
// STAGEGATE_SECRET_NPM_TOKEN from the app's environment.
//
// The prefix is the security boundary: the app's own credentials
// (STAGEGATE_PRIVATE_KEY, STAGEGATE_WEBHOOK_SECRET) live in the same
// environment, and no name a pipeline can write reaches them.
const SecretEnvPrefix = "STAGEGATE_SECRET_"

// lookupPipelineEnv is the engine's LookupEnv for runs of the App.
func lookupPipelineEnv(name string) (string, bool) {
	return os.LookupEnv(SecretEnvPrefix + name)
}
