package githubtest

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// GitHub's messages for rejected credentials.
const (
	msgJWTUndecodable = "A JSON web token could not be decoded"
	msgJWTIssuer      = "'Issuer' claim ('iss') must be an Integer"
	msgJWTIat         = "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
	msgJWTExp         = "'Expiration time' claim ('exp') must be a numeric value representing the future time at which the assertion expires"
	msgJWTExpTooFar   = "'Expiration time' claim ('exp') is too far in the future"
	msgBadCredentials = "Bad credentials"
	msgRequiresAuth   = "Requires authentication"
	msgNotAccessible  = "Resource not accessible by integration"
	msgSuspended      = "This installation has been suspended"
)

type authKind int

const (
	kindAny   authKind = iota // never rejects; credential only classified
	kindApp                   // app JWT required
	kindToken                 // installation token required
	kindRepo                  // installation token covering {owner}/{repo} with perm
	kindUser                  // user access token (oauth.go)
)

type authMode struct {
	kind  authKind
	perm  string // e.g. "checks"; "" = none beyond coverage
	level string // "read" or "write"
	users bool   // user access tokens are taken too (oauth.go)
}

var (
	authAny   = authMode{kind: kindAny}
	authApp   = authMode{kind: kindApp}
	authToken = authMode{kind: kindToken}
)

// authRepo requires an installation token that covers the {owner}/{repo}
// of the route and grants perm at level.
func authRepo(perm, level string) authMode { return authMode{kind: kindRepo, perm: perm, level: level} }

// orUser lets a user access token in as well, for the repositories the
// user and the App can both see.
func (m authMode) orUser() authMode { m.users = true; return m }

func classifyCredential(h string) CredentialKind {
	scheme, cred, ok := strings.Cut(strings.TrimSpace(h), " ")
	if !ok {
		if h == "" {
			return CredNone
		}
		return CredOther
	}
	cred = strings.TrimSpace(cred)
	switch strings.ToLower(scheme) {
	case "bearer":
		if strings.Count(cred, ".") == 2 {
			return CredAppJWT
		}
		if strings.HasPrefix(cred, "ghu_") {
			return CredUserToken
		}
		return CredInstallationToken
	case "token":
		if strings.HasPrefix(cred, "ghu_") {
			return CredUserToken
		}
		return CredInstallationToken
	}
	return CredOther
}

func credential(r *http.Request) string {
	_, cred, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	return strings.TrimSpace(cred)
}

// authenticate enforces mode for one request, writing GitHub's rejection
// and returning false when the request may not proceed.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request, rc *reqCtx, mode authMode) bool {
	switch mode.kind {
	case kindAny:
		s.identify(r, rc)
		return true
	case kindApp:
		if rc.cred != CredAppJWT {
			writeError(w, http.StatusUnauthorized, msgJWTUndecodable, "")
			return false
		}
		app, msg := s.verifyJWT(credential(r))
		if app == nil {
			writeError(w, http.StatusUnauthorized, msg, "")
			return false
		}
		rc.app, rc.authn = app, true
		return true
	}
	if rc.cred == CredUserToken {
		return s.authenticateUser(w, r, rc, mode)
	}
	// Installation-token routes.
	switch rc.cred {
	case CredNone:
		writeError(w, http.StatusUnauthorized, msgRequiresAuth, "")
		return false
	case CredAppJWT:
		// A valid app JWT authenticates the App itself, which may use only
		// the /app endpoints; an invalid one is rejected as a JWT.
		app, msg := s.verifyJWT(credential(r))
		if app == nil {
			writeError(w, http.StatusUnauthorized, msg, "")
			return false
		}
		rc.app = app
		writeError(w, http.StatusForbidden, msgNotAccessible, "")
		return false
	case CredOther:
		writeError(w, http.StatusUnauthorized, msgBadCredentials, "")
		return false
	}
	s.mu.Lock()
	tok, status, msg := s.lookupTokenLocked(credential(r))
	if tok != nil {
		rc.tok, rc.inst, rc.app = tok, s.installations[tok.installationID], s.apps[tok.appID]
	}
	s.mu.Unlock()
	if status != 0 {
		writeError(w, status, msg, "")
		return false
	}
	rc.authn = true
	if mode.kind == kindUser {
		// An installation token has no user: GET /user is refused.
		writeError(w, http.StatusForbidden, msgNotAccessible, docAuthenticatedUser)
		return false
	}
	if mode.kind == kindToken {
		return true
	}
	// kindRepo: the repository must exist and be covered by the token,
	// else 404 — GitHub hides repositories a credential cannot see.
	s.mu.Lock()
	repo := s.repos[repoKey(r.PathValue("owner"), r.PathValue("repo"))]
	covered := repo != nil && s.tokenCoversLocked(tok, repo)
	s.mu.Unlock()
	if !covered {
		writeNotFound(w)
		return false
	}
	rc.repo = repo
	if mode.perm != "" && !hasPerm(tok.permissions, mode.perm, mode.level) {
		writeError(w, http.StatusForbidden, msgNotAccessible, "")
		return false
	}
	return true
}

// identify records who a request is from without rejecting it (for routes
// the fake does not serve, so the call log still says which credential
// reached them and whether it was valid).
func (s *Server) identify(r *http.Request, rc *reqCtx) {
	switch rc.cred {
	case CredAppJWT:
		if app, _ := s.verifyJWT(credential(r)); app != nil {
			rc.app, rc.authn = app, true
		}
	case CredInstallationToken:
		s.mu.Lock()
		if tok, status, _ := s.lookupTokenLocked(credential(r)); tok != nil && status == 0 {
			rc.tok, rc.inst, rc.app, rc.authn = tok, s.installations[tok.installationID], s.apps[tok.appID], true
		}
		s.mu.Unlock()
	case CredUserToken:
		s.mu.Lock()
		if t := s.lookupUserTokenLocked(credential(r)); t != nil {
			rc.app, rc.user, rc.authn = t.app, s.users[strings.ToLower(t.login)], true
		}
		s.mu.Unlock()
	}
}

// lookupTokenLocked returns the token, or a status and message to reject with.
func (s *Server) lookupTokenLocked(v string) (*token, int, string) {
	tok := s.tokens[v]
	if tok == nil || !s.nowLocked().Before(tok.expiresAt) {
		return nil, http.StatusUnauthorized, msgBadCredentials
	}
	inst := s.installations[tok.installationID]
	if inst == nil || inst.deleted {
		return nil, http.StatusUnauthorized, msgBadCredentials
	}
	if inst.suspended {
		return tok, http.StatusForbidden, msgSuspended
	}
	return tok, 0, ""
}

func (s *Server) tokenCoversLocked(tok *token, repo *Repo) bool {
	inst := s.installations[tok.installationID]
	if inst == nil || !inst.coversLocked(repo) {
		return false
	}
	return tok.repos == nil || tok.repos[repo.ID]
}

// hasPerm reports whether perms grant name at level ("read" or "write").
func hasPerm(perms map[string]string, name, level string) bool {
	have := perms[name]
	switch level {
	case "read":
		return have == "read" || have == "write" || have == "admin"
	case "write":
		return have == "write" || have == "admin"
	}
	return have == level
}

// verifyJWT checks an App JWT like GitHub: RS256 signed with the App's key,
// iss = App ID (string or number), integer iat no more than 60 s in the
// future, integer exp in the future and at most 10 minutes after iat.
// It returns the App, or nil and GitHub's message for the 401.
func (s *Server) verifyJWT(raw string) (*App, string) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, msgJWTUndecodable
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if !decodeSegment(parts[0], &header) || header.Alg != "RS256" {
		return nil, msgJWTUndecodable
	}
	var claims map[string]any
	if !decodeSegment(parts[1], &claims) {
		return nil, msgJWTUndecodable
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return nil, msgJWTUndecodable
	}
	iss, ok := claimInt(claims["iss"], true)
	if !ok {
		return nil, msgJWTIssuer
	}
	s.mu.Lock()
	app := s.apps[iss]
	now := s.nowLocked()
	s.mu.Unlock()
	if app == nil {
		return nil, msgJWTUndecodable
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if rsa.VerifyPKCS1v15(&app.key.PublicKey, crypto.SHA256, digest[:], sig) != nil {
		return nil, msgJWTUndecodable
	}
	iat, ok := claimInt(claims["iat"], false)
	if !ok || time.Unix(iat, 0).After(now.Add(60*time.Second)) {
		return nil, msgJWTIat
	}
	exp, ok := claimInt(claims["exp"], false)
	if !ok || !time.Unix(exp, 0).After(now) {
		return nil, msgJWTExp
	}
	if exp-iat > 600 {
		return nil, msgJWTExpTooFar
	}
	return app, ""
}

func decodeSegment(seg string, v any) bool {
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	return dec.Decode(v) == nil
}

// claimInt reads an integer claim. GitHub rejects fractional timestamps
// (which is why ghinstallation truncates them); iss may also be a string
// of digits.
func claimInt(v any, allowString bool) (int64, bool) {
	switch x := v.(type) {
	case json.Number:
		n, err := strconv.ParseInt(x.String(), 10, 64)
		return n, err == nil
	case string:
		if !allowString {
			return 0, false
		}
		n, err := strconv.ParseInt(x, 10, 64)
		return n, err == nil
	}
	return 0, false
}
