package ghclient

import (
	"strings"
)

// routeTemplates are the REST paths stagegate calls, or is likely to call
// soon, written as GitHub documents them but with uniform placeholder
// names. Metrics are labelled with the matched template instead of the
// raw path: owners, repositories, SHAs and ids are unbounded, templates
// are not. A "{name...}" placeholder swallows the rest of the path.
func routeTemplates() []string {
	return []string{
		"/",
		"/app",
		"/app/installations",
		"/app/installations/{id}",
		"/app/installations/{id}/access_tokens",
		"/app/installations/{id}/suspended",
		"/installation/repositories",
		"/meta",
		"/rate_limit",
		"/orgs/{org}",
		"/orgs/{org}/installation",
		"/orgs/{org}/members/{username}",
		"/orgs/{org}/teams/{team}/memberships/{username}",
		"/users/{username}",
		"/users/{username}/installation",
		"/repos/{owner}/{repo}",
		"/repos/{owner}/{repo}/installation",
		"/repos/{owner}/{repo}/branches/{branch...}",
		"/repos/{owner}/{repo}/check-runs",
		"/repos/{owner}/{repo}/check-runs/{id}",
		"/repos/{owner}/{repo}/check-runs/{id}/annotations",
		"/repos/{owner}/{repo}/check-runs/{id}/rerequest",
		"/repos/{owner}/{repo}/check-suites",
		"/repos/{owner}/{repo}/check-suites/preferences",
		"/repos/{owner}/{repo}/check-suites/{id}",
		"/repos/{owner}/{repo}/check-suites/{id}/check-runs",
		"/repos/{owner}/{repo}/check-suites/{id}/rerequest",
		"/repos/{owner}/{repo}/collaborators/{username}/permission",
		"/repos/{owner}/{repo}/commits",
		"/repos/{owner}/{repo}/commits/{ref}",
		"/repos/{owner}/{repo}/commits/{ref}/check-runs",
		"/repos/{owner}/{repo}/commits/{ref}/check-suites",
		"/repos/{owner}/{repo}/commits/{ref}/status",
		"/repos/{owner}/{repo}/commits/{ref}/statuses",
		"/repos/{owner}/{repo}/compare/{basehead...}",
		"/repos/{owner}/{repo}/contents",
		"/repos/{owner}/{repo}/contents/{path...}",
		"/repos/{owner}/{repo}/deployments",
		"/repos/{owner}/{repo}/deployments/{id}",
		"/repos/{owner}/{repo}/deployments/{id}/statuses",
		"/repos/{owner}/{repo}/git/blobs/{sha}",
		"/repos/{owner}/{repo}/git/commits/{sha}",
		"/repos/{owner}/{repo}/git/ref/{ref...}",
		"/repos/{owner}/{repo}/git/refs/{ref...}",
		"/repos/{owner}/{repo}/git/trees/{sha}",
		"/repos/{owner}/{repo}/issues/comments/{id}",
		"/repos/{owner}/{repo}/issues/{number}/comments",
		"/repos/{owner}/{repo}/pulls",
		"/repos/{owner}/{repo}/pulls/{number}",
		"/repos/{owner}/{repo}/pulls/{number}/files",
		"/repos/{owner}/{repo}/statuses/{sha}",
	}
}

// router maps request paths to route templates.
type router struct {
	// basePath is the API's path prefix, "/api/v3" on GitHub Enterprise
	// Server and "" on github.com; it is not part of a route.
	basePath  string
	templates [][]string
	// labels are the templates as reported, "{path...}" shown as "{path}".
	labels []string
	// vocab holds every literal segment of the templates: the only words
	// an unmatched path may keep in its label.
	vocab map[string]bool
}

func newRouter(basePath string) *router {
	r := &router{basePath: strings.TrimSuffix(basePath, "/"), vocab: map[string]bool{}}
	for _, t := range routeTemplates() {
		segs := splitPath(t)
		r.templates = append(r.templates, segs)
		r.labels = append(r.labels, strings.ReplaceAll(t, "...}", "}"))
		for _, s := range segs {
			if !strings.HasPrefix(s, "{") {
				r.vocab[s] = true
			}
		}
	}
	return r
}

func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// route returns the template matching path. When several match, the one
// with the most literal segments wins, so ".../issues/comments/{id}" beats
// ".../issues/{number}/..." whatever the order of the table.
func (r *router) route(path string) string {
	if r.basePath != "" {
		if rest, ok := strings.CutPrefix(path, r.basePath); ok && (rest == "" || rest[0] == '/') {
			path = rest
		}
	}
	segs := splitPath(path)
	best, bestScore := -1, -1
	for i, t := range r.templates {
		if score, ok := matchTemplate(t, segs); ok && score > bestScore {
			best, bestScore = i, score
		}
	}
	if best >= 0 {
		return r.labels[best]
	}
	return r.fallback(segs)
}

// matchTemplate reports whether segs fit template t, and how many literal
// segments the match used.
func matchTemplate(t, segs []string) (int, bool) {
	literals := 0
	for i, ts := range t {
		if strings.HasSuffix(ts, "...}") {
			return literals, i < len(segs)
		}
		if i >= len(segs) || segs[i] == "" {
			return 0, false
		}
		if strings.HasPrefix(ts, "{") {
			continue
		}
		if ts != segs[i] {
			return 0, false
		}
		literals++
	}
	return literals, len(t) == len(segs)
}

// fallback labels a path no template knows. It keeps the shape of the
// first two levels and only words from the templates' own vocabulary, so
// the label set stays bounded whatever paths are requested.
func (r *router) fallback(segs []string) string {
	word := func(s string) string {
		if r.vocab[s] {
			return s
		}
		return "{other}"
	}
	switch {
	case len(segs) == 0:
		return "/"
	case segs[0] == "repos" && len(segs) >= 3:
		out := "/repos/{owner}/{repo}"
		if len(segs) > 3 {
			out += "/" + word(segs[3]) + "/..."
		}
		return out
	default:
		return "/" + word(segs[0]) + "/..."
	}
}
