package web

import (
	"net/http"
	"net/url"
)

type resultPage struct {
	Title, Message, Back string
}

// button runs a run page's button: Re-run, Cancel or Deploy. It needs a
// signed-in user, the session's CSRF token, and write permission; what
// the comment commands also require (the environment's deployers, a
// commit's approval rules) the Actions decide, and their refusal is
// shown as is.
func (s *Server) button(w http.ResponseWriter, r *http.Request) {
	repo, acc, run, ok := s.authorizedRun(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	back := "/" + repo + "/runs/" + url.PathEscape(run.ID)
	if acc.login == "" {
		s.cfg.Auth.LoginRedirect(w, r)
		return
	}
	if !s.cfg.Auth.VerifyCSRF(r) {
		w.WriteHeader(http.StatusForbidden)
		s.render(w, r, "result", resultPage{Title: "Not done", Message: "The form was out of date or not from this site; open the page again and retry.", Back: back})
		return
	}
	if s.cfg.Actions == nil || !acc.canWrite() {
		w.WriteHeader(http.StatusForbidden)
		s.render(w, r, "result", resultPage{Title: "Not allowed", Message: "You need write access to this repository.", Back: back})
		return
	}
	var err error
	switch r.PathValue("button") {
	case "rerun":
		err = s.cfg.Actions.Rerun(r.Context(), acc.login, repo, run.ID)
	case "cancel":
		err = s.cfg.Actions.Cancel(r.Context(), acc.login, repo, run.ID)
	case "deploy":
		env := r.PostFormValue("environment")
		if env == "" {
			http.Error(w, "environment is required", http.StatusBadRequest)
			return
		}
		err = s.cfg.Actions.Deploy(r.Context(), acc.login, repo, run.ID, env)
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		w.WriteHeader(http.StatusConflict)
		s.render(w, r, "result", resultPage{Title: "Not done", Message: err.Error(), Back: back})
		return
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}
