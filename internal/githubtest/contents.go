package githubtest

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
)

const docContents = "https://docs.github.com/rest/repos/contents#get-repository-content"

// Sizes of "Get repository content" (docContents): files up to 1 MB come
// in every media type; from 1 to 100 MB "only the raw or object custom
// media types are supported" — the JSON comes with encoding "none" and
// an empty content, and only the raw media type returns the bytes; above
// 100 MB the endpoint serves nothing
// (https://github.blog/changelog/2022-05-03-increased-file-size-limit-when-retrieving-file-contents-via-rest-api).
const (
	maxInlineContent = 1 << 20
	maxContent       = 100 << 20
)

// tooLargeMessage is what GitHub answers, with 403 and the error code
// too_large, for a blob the contents API does not serve inline.
const tooLargeMessage = "This API returns blobs up to 1 MB in size. The requested blob is too large to fetch via the API, " +
	"but you can use the Git Data API to request blobs up to 100 MB in size."

// WithLargeContentsForbidden makes the contents API answer 403 too_large
// for a file over 1 MB asked for without the raw media type, as GitHub
// Enterprise Server versions from before the 100 MB limit do, instead of
// github.com's JSON with encoding "none".
func WithLargeContentsForbidden() Option {
	return func(o *options) { o.largeContentsForbidden = true }
}

// rawMediaType reports whether the request asks for the raw media type
// (application/vnd.github.raw, application/vnd.github.v3.raw, or either
// with +json).
func rawMediaType(r *http.Request) bool {
	for _, v := range r.Header.Values("Accept") {
		for _, t := range strings.Split(v, ",") {
			t, _, _ = strings.Cut(strings.TrimSpace(t), ";")
			switch strings.TrimSuffix(t, "+json") {
			case "application/vnd.github.raw", "application/vnd.github.v3.raw":
				return true
			}
		}
	}
	return false
}

func writeTooLarge(w http.ResponseWriter) {
	writeJSON(w, http.StatusForbidden, map[string]any{
		"message":           tooLargeMessage,
		"errors":            []any{map[string]any{"resource": "Blob", "field": "data", "code": "too_large"}},
		"documentation_url": docContents,
		"status":            "403",
	})
}

// treeEntry is one line of `git ls-tree -l`.
type treeEntry struct {
	mode, typ, sha string
	size           int64
	path           string
}

func (r *Repo) lsTree(commit string, paths ...string) ([]treeEntry, error) {
	args := append([]string{"--literal-pathspecs", "ls-tree", "-l", "-z", "--full-tree", commit, "--"}, paths...)
	out, err := r.s.git(r.dir, nil, args...)
	if err != nil {
		return nil, err
	}
	var entries []treeEntry
	for _, rec := range bytes.Split(out, []byte{0}) {
		if len(rec) == 0 {
			continue
		}
		meta, p, ok := strings.Cut(string(rec), "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 4 {
			continue
		}
		size, _ := strconv.ParseInt(f[3], 10, 64) // "-" for trees
		entries = append(entries, treeEntry{mode: f[0], typ: f[1], sha: f[2], size: size, path: p})
	}
	return entries, nil
}

// getContents is GET /repos/{o}/{r}/contents/{path}?ref=: a file as
// GitHub's content object with base64 content, a directory as an array.
func (s *Server) getContents(w http.ResponseWriter, r *http.Request, rc *reqCtx) {
	repo := rc.repo
	p := strings.Trim(r.PathValue("path"), "/")
	ref := r.URL.Query().Get("ref")
	if ref == "" {
		ref = repo.DefaultBranch
	}
	commit, ok := repo.resolveCommit(ref)
	if !ok {
		writeError(w, http.StatusNotFound, "No commit found for the ref "+ref, docContents)
		return
	}
	if p == "" {
		s.writeDir(w, repo, commit, ref, "")
		return
	}
	entries, err := repo.lsTree(commit, p)
	if err != nil || len(entries) != 1 || entries[0].path != p {
		writeError(w, http.StatusNotFound, "Not Found", docContents)
		return
	}
	e := entries[0]
	if e.typ == "tree" {
		s.writeDir(w, repo, commit, ref, p)
		return
	}
	body := s.contentEntry(repo, ref, e)
	if e.typ == "blob" {
		data, err := s.git(repo.dir, nil, "cat-file", "blob", e.sha)
		if err != nil {
			writeError(w, http.StatusInternalServerError, err.Error(), "")
			return
		}
		switch {
		case len(data) > maxContent:
			writeTooLarge(w)
			return
		case rawMediaType(r) && e.mode != "120000":
			w.Header().Set("Content-Type", "application/vnd.github.raw; charset=utf-8")
			w.WriteHeader(http.StatusOK)
			_, _ = w.Write(data)
			return
		case len(data) > maxInlineContent && s.opts.largeContentsForbidden:
			writeTooLarge(w)
			return
		}
		if e.mode == "120000" {
			body["target"] = string(data)
		} else if len(data) <= maxInlineContent {
			body["encoding"] = "base64"
			body["content"] = encodeContent(data)
		} else {
			body["encoding"] = "none"
			body["content"] = ""
		}
	}
	writeJSON(w, http.StatusOK, body)
}

func (s *Server) writeDir(w http.ResponseWriter, repo *Repo, commit, ref, dir string) {
	var spec []string
	if dir != "" {
		spec = []string{dir + "/"}
	}
	entries, err := repo.lsTree(commit, spec...)
	if err != nil {
		writeError(w, http.StatusNotFound, "Not Found", docContents)
		return
	}
	out := []any{}
	for _, e := range entries {
		out = append(out, s.contentEntry(repo, ref, e))
	}
	writeJSON(w, http.StatusOK, out)
}

// contentEntry renders the metadata GitHub gives every content object.
func (s *Server) contentEntry(repo *Repo, ref string, e treeEntry) map[string]any {
	typ := "file"
	kind := "blob"
	switch {
	case e.typ == "tree":
		typ, kind = "dir", "tree"
	case e.typ == "commit":
		typ = "submodule"
	case e.mode == "120000":
		typ = "symlink"
	}
	self := repo.APIURL() + "/contents/" + escapePath(e.path) + "?ref=" + url.QueryEscape(ref)
	gitURL := repo.APIURL() + "/git/" + kind + "s/" + e.sha
	htmlKind := "blob"
	if typ == "dir" {
		htmlKind = "tree"
	}
	html := repo.HTMLURL() + "/" + htmlKind + "/" + ref + "/" + escapePath(e.path)
	return map[string]any{
		"type":     typ,
		"size":     max(e.size, 0),
		"name":     path.Base(e.path),
		"path":     e.path,
		"sha":      e.sha,
		"url":      self,
		"git_url":  gitURL,
		"html_url": html,
		// The fake serves no raw host; a client that follows download_url
		// gets nil rather than a URL that would silently 404.
		"download_url": nil,
		"_links":       map[string]any{"self": self, "git": gitURL, "html": html},
	}
}

// encodeContent base64-encodes like GitHub (Ruby's Base64.encode64): lines
// of 60 characters, each ending in "\n".
func encodeContent(data []byte) string {
	enc := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(enc) > 60 {
		b.WriteString(enc[:60])
		b.WriteByte('\n')
		enc = enc[60:]
	}
	if enc != "" {
		b.WriteString(enc)
		b.WriteByte('\n')
	}
	return b.String()
}

func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}
