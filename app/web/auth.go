// Package web serves stagegate's pages: a run's stages, actions and live logs, a repository's
// pipeline, runs and deployments, an organisation's repositories, and status badges.
package web

import (
	"context"
	"net/http"
)

// Auth is what the pages need of sign-in: who is asking, where to send them to sign in, what they may
// do on a repository, and the CSRF token that binds a form to their session. The App's Authenticator
// (app/webauth) satisfies it; the pages never import it so each can be tested alone.
type Auth interface {
	// CurrentLogin is the signed-in user's GitHub login, or ok=false when nobody is signed in.
	CurrentLogin(r *http.Request) (login string, ok bool)
	// LoginRedirect answers r with a redirect to sign in and come back to r's URL.
	LoginRedirect(w http.ResponseWriter, r *http.Request)
	// Permission is the signed-in user's permission on owner/repo: "admin", "maintain", "write",
	// "triage", "read", or "" when the user has none or cannot see the repository.
	Permission(ctx context.Context, r *http.Request, owner, repo string) (string, error)
	// CSRFToken is the token to embed in a form as the field "csrf".
	CSRFToken(r *http.Request) string
	// VerifyCSRF reports whether a POST carries the session's CSRF token.
	VerifyCSRF(r *http.Request) bool
}

// Actions are the run page's buttons. The App implements them with the same code and rules as the
// pull request comment commands (/rerun, /cancel, /deploy), so a button can do nothing a comment
// could not; an error is shown to the user as is.
type Actions interface {
	Rerun(ctx context.Context, login, repo, runID string) error
	Cancel(ctx context.Context, login, repo, runID string) error
	Deploy(ctx context.Context, login, repo, runID, environment string) error
}
