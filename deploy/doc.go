// Package deploy holds no code, only the tests of the deployment files at
// the root of the repository: Dockerfile, .dockerignore and fly.toml.
//
// No container engine is needed to run them. They parse the three files and
// check that they agree with each other and with `stagegate serve`; they
// build the binary with the Dockerfile's own go build command from a copy of
// the repository filtered by .dockerignore, as `docker build` would see it;
// and they start that binary with fly.toml's environment (its volume moved
// to a temporary directory) and ask it the health checks Fly.io would.
package deploy
