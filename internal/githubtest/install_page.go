package githubtest

import (
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
)

// installPageRoutes serves the web pages that install an App
// (https://docs.github.com/apps/using-github-apps/installing-your-own-github-app):
// /apps/{slug}/installations/new lists the accounts it can be installed
// on, and .../permissions?target_id=ID is the page that installs it on
// one account. A private App lists only its owner, and its page for any
// other account is GitHub's 404 page.
func (s *Server) installPageRoutes() {
	s.mux.HandleFunc("GET /apps/{slug}/installations/new", s.installPage)
	s.mux.HandleFunc("GET /apps/{slug}/installations/new/permissions", s.installTargetPage)
}

// appBySlugLocked finds a registered App (case-insensitive slug).
func (s *Server) appBySlugLocked(slug string) *App {
	for _, a := range s.apps {
		if strings.EqualFold(a.Slug, slug) {
			return a
		}
	}
	return nil
}

// appOwnerLocked is the account that owns a, with its type and id.
func (s *Server) appOwnerLocked(a *App) (string, string, int64) {
	owner, typ := "stagegate", "Organization"
	if a.owner != "" {
		owner, typ = a.owner, a.ownerType
	}
	return owner, typ, s.accountIDLocked(owner)
}

func writeWebNotFound(w http.ResponseWriter) {
	writeHTML(w, http.StatusNotFound, "Page not found", "<p>This is not the web page you are looking for.</p>")
}

func (s *Server) installPage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	a := s.appBySlugLocked(r.PathValue("slug"))
	if a == nil {
		s.mu.Unlock()
		writeWebNotFound(w)
		return
	}
	owner, typ, id := s.appOwnerLocked(a)
	name := a.Name
	s.mu.Unlock()
	writeHTML(w, http.StatusOK, "Install "+name, fmt.Sprintf(
		`<p>Where do you want to install %s?</p><ul><li><a class="install-target" href="/apps/%s/installations/new/permissions?target_id=%d">%s</a> (%s)</li></ul>`,
		html.EscapeString(name), html.EscapeString(a.Slug), id, html.EscapeString(owner), typ))
}

func (s *Server) installTargetPage(w http.ResponseWriter, r *http.Request) {
	target, err := strconv.ParseInt(r.URL.Query().Get("target_id"), 10, 64)
	s.mu.Lock()
	a := s.appBySlugLocked(r.PathValue("slug"))
	if a == nil || err != nil {
		s.mu.Unlock()
		writeWebNotFound(w)
		return
	}
	owner, _, id := s.appOwnerLocked(a)
	account := ""
	for login, aid := range s.accountIDs {
		if aid == target {
			account = login
		}
	}
	public, name := a.public, a.Name
	s.mu.Unlock()
	if account == "" || (!public && target != id) {
		// A private App installs only on its owner's account: "Only on
		// this account: The GitHub App can only be installed on the
		// account that created it"
		// (https://docs.github.com/apps/using-github-apps/installing-your-own-github-app).
		writeWebNotFound(w)
		return
	}
	if target == id {
		account = owner
	}
	writeHTML(w, http.StatusOK, "Install "+name, fmt.Sprintf(
		`<p id="install-on">Install %s on %s</p><p>Choose all repositories or only select repositories, then Install.</p>`,
		html.EscapeString(name), html.EscapeString(account)))
}

// AccountID is the id of a user's or organisation's account, as GitHub's
// answers and pages give it.
func (s *Server) AccountID(login string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.accountIDLocked(login)
}
