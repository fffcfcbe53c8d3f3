package deploys

import "os"

// The prefixes are the security boundary between the App's environment
// and pipelines: the App's own credentials (STAGEGATE_PRIVATE_KEY,
// STAGEGATE_WEBHOOK_SECRET) live in the same environment, and no name a
// pipeline can write reaches them.
const (
	// SecretEnvPrefix marks the variables a pipeline's secrets read: its
	// `secrets: [NPM_TOKEN]` gets STAGEGATE_SECRET_NPM_TOKEN, masked.
	SecretEnvPrefix = "STAGEGATE_SECRET_"
	// PassEnvPrefix marks the plain values pass_env reads: its
	// `pass_env: [GOPROXY]` gets STAGEGATE_ENV_GOPROXY.
	PassEnvPrefix = "STAGEGATE_ENV_"
)

// LookupPassEnv is the engine's LookupEnv for runs of the App.
func LookupPassEnv(name string) (string, bool) {
	return os.LookupEnv(PassEnvPrefix + name)
}

// lookupSecret is the engine's LookupSecret for runs of the App.
func lookupSecret(name string) (string, bool) {
	return os.LookupEnv(SecretEnvPrefix + name)
}
