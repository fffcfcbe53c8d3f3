package githubtest

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// The payloads are real examples from @octokit/webhooks-examples, vendored
// unchanged (pretty-printed); see testdata/webhooks/NOTICE.md.
//
//go:embed testdata/webhooks/*.json
var webhookFS embed.FS

// WebhookNames lists the vendored payloads, e.g. "pull_request.opened",
// "push", "push.tag", "check_run.rerequested".
func WebhookNames() []string {
	entries, _ := fs.Glob(webhookFS, "testdata/webhooks/*.json")
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(strings.TrimPrefix(e, "testdata/webhooks/"), ".json"))
	}
	sort.Strings(names)
	return names
}

// LoadWebhook returns a fresh copy of the vendored payload name (with or
// without ".json"). Numbers are json.Number, so ids survive a round trip
// exactly. It panics on an unknown name: that is a bug in the test.
func LoadWebhook(name string) map[string]any {
	name = strings.TrimSuffix(name, ".json")
	b, err := webhookFS.ReadFile("testdata/webhooks/" + name + ".json")
	if err != nil {
		panic(fmt.Sprintf("githubtest: no vendored webhook %q (have %s)", name, strings.Join(WebhookNames(), ", ")))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var p map[string]any
	if err := dec.Decode(&p); err != nil {
		panic(fmt.Sprintf("githubtest: webhook %q: %v", name, err))
	}
	return p
}

// Webhook loads the vendored payload name and rewrites it to describe this
// repository on this server: the repository objects (top-level and a pull
// request's head/base repo: id, name, full_name, owner, URLs, clone_url,
// default_branch, private), the organization and installation account, the
// installation id (the main App's installation covering the repo; added if
// the example has none), the App of check_run/check_suite payloads, the
// repository lists of installation events, every api.github.com /
// github.com URL, and old "2006-01-02 15:04:05" timestamps to ISO 8601. Then edit (may be nil) sets what the test needs — head
// SHAs, refs, actions — typically with [SetPath]. It returns the JSON body
// to deliver.
func (r *Repo) Webhook(name string, edit func(p map[string]any)) []byte {
	s := r.s
	p := LoadWebhook(name)
	oldFull, _ := GetPath(p, "repository.full_name").(string)

	s.mu.Lock()
	inst := s.installationForLocked(s.app.ID, r)
	app := s.app
	s.mu.Unlock()

	// URLs first, so the field rewrites below win.
	host := strings.TrimPrefix(strings.TrimPrefix(s.URL, "http://"), "https://")
	var repl []string
	if oldFull != "" {
		repl = append(repl,
			"https://api.github.com/repos/"+oldFull, r.APIURL(),
			"https://github.com/"+oldFull, r.HTMLURL(),
			"git://github.com/"+oldFull, "git://"+host+"/"+r.FullName(),
			"git@github.com:"+oldFull, "git@"+host+":"+r.FullName(),
		)
	}
	repl = append(repl, "https://api.github.com/", s.URL+"/api/v3/", "https://github.com/", s.URL+"/")
	rewriteStrings(p, strings.NewReplacer(repl...))
	normalizeTimes(p)

	s.mu.Lock()
	repoJSON := s.repoJSONLocked(r)
	s.mu.Unlock()
	for _, path := range []string{"repository", "pull_request.head.repo", "pull_request.base.repo"} {
		if m, ok := GetPath(p, path).(map[string]any); ok && (path == "repository" || m["full_name"] == oldFull) {
			for _, k := range []string{"id", "node_id", "name", "full_name", "private", "html_url", "url",
				"clone_url", "git_url", "ssh_url", "default_branch"} {
				m[k] = repoJSON[k]
			}
			setLogin(m["owner"], r.Owner, r.ownerID)
			if _, ok := m["master_branch"]; ok {
				m["master_branch"] = r.DefaultBranch
			}
		}
	}
	labels := map[string]string{} // side -> label as rewritten before edit
	for _, side := range []string{"head", "base"} {
		if m, ok := GetPath(p, "pull_request."+side).(map[string]any); ok {
			if ref, ok := m["ref"].(string); ok {
				m["label"] = r.Owner + ":" + ref
				labels[side] = r.Owner + ":" + ref
			}
			setLogin(m["user"], r.Owner, r.ownerID)
		}
	}
	setLogin(p["organization"], r.Owner, r.ownerID)
	setLogin(GetPath(p, "installation.account"), r.Owner, r.ownerID)

	if inst != nil {
		if m, ok := p["installation"].(map[string]any); ok {
			m["id"] = inst.id
			if _, ok := m["node_id"]; ok {
				m["node_id"] = nodeID("029:Installation", inst.id)
			}
			if _, ok := m["app_id"]; ok {
				m["app_id"], m["app_slug"] = app.ID, app.Slug
			}
		} else {
			p["installation"] = map[string]any{"id": inst.id, "node_id": nodeID("029:Installation", inst.id)}
		}
	}
	for _, path := range []string{"check_run.app", "check_run.check_suite.app", "check_suite.app"} {
		if m, ok := GetPath(p, path).(map[string]any); ok {
			m["id"], m["slug"], m["name"] = app.ID, app.Slug, app.Name
			m["node_id"] = nodeID("03:Integration", app.ID)
		}
	}
	mini := []any{map[string]any{"id": r.ID, "node_id": repoJSON["node_id"], "name": r.Name, "full_name": r.FullName(), "private": r.Private}}
	for _, k := range []string{"repositories", "repositories_added"} {
		if list, ok := p[k].([]any); ok && len(list) > 0 {
			p[k] = mini
		}
	}

	if edit != nil {
		edit(p)
	}
	// A ref the edit changed moves the label along, unless the edit set
	// the label itself.
	for side, before := range labels {
		if m, ok := GetPath(p, "pull_request."+side).(map[string]any); ok && m["label"] == before {
			if ref, ok := m["ref"].(string); ok {
				m["label"] = r.Owner + ":" + ref
			}
		}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		panic(fmt.Sprintf("githubtest: encoding webhook %q: %v", name, err))
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

func setLogin(v any, login string, id int64) {
	if m, ok := v.(map[string]any); ok {
		m["login"], m["id"] = login, id
	}
}

func rewriteStrings(v any, r *strings.Replacer) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok {
				x[k] = r.Replace(s)
			} else {
				rewriteStrings(e, r)
			}
		}
	case []any:
		for i, e := range x {
			if s, ok := e.(string); ok {
				x[i] = r.Replace(s)
			} else {
				rewriteStrings(e, r)
			}
		}
	}
}

// oldTimeRE matches the "2018-04-25 20:42:10" timestamps of a few old
// examples; GitHub now sends ISO 8601 ("2018-04-25T20:42:10Z"), which is
// also all that go-github's Timestamp accepts.
var oldTimeRE = regexp.MustCompile(`^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)$`)

func normalizeTimes(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && strings.HasSuffix(k, "_at") && oldTimeRE.MatchString(s) {
				x[k] = oldTimeRE.ReplaceAllString(s, "${1}T${2}Z")
			} else {
				normalizeTimes(e)
			}
		}
	case []any:
		for _, e := range x {
			normalizeTimes(e)
		}
	}
}

// GetPath reads a dotted path such as "pull_request.head.sha" or
// "commits.0.id" (a number indexes an array); nil if absent.
func GetPath(p map[string]any, path string) any {
	var cur any = p
	for _, seg := range strings.Split(path, ".") {
		switch x := cur.(type) {
		case map[string]any:
			cur = x[seg]
		case []any:
			i, err := strconv.Atoi(seg)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			cur = x[i]
		default:
			return nil
		}
	}
	return cur
}

// SetPath sets a dotted path such as "pull_request.head.sha", creating
// missing objects on the way. A number indexes an existing array element.
// It panics when the path runs into a scalar or past an array's end.
func SetPath(p map[string]any, path string, v any) {
	segs := strings.Split(path, ".")
	var cur any = p
	for i, seg := range segs {
		last := i == len(segs)-1
		switch x := cur.(type) {
		case map[string]any:
			if last {
				x[seg] = v
				return
			}
			next, ok := x[seg]
			if !ok || next == nil {
				next = map[string]any{}
				x[seg] = next
			}
			cur = next
		case []any:
			n, err := strconv.Atoi(seg)
			if err != nil || n < 0 || n >= len(x) {
				panic(fmt.Sprintf("githubtest: SetPath %q: no element %q", path, seg))
			}
			if last {
				x[n] = v
				return
			}
			cur = x[n]
		default:
			panic(fmt.Sprintf("githubtest: SetPath %q: %q is not an object or array", path, strings.Join(segs[:i], ".")))
		}
	}
}

// DeletePath removes the last key of a dotted path, if present.
func DeletePath(p map[string]any, path string) {
	parent, key := p, path
	if i := strings.LastIndex(path, "."); i >= 0 {
		m, ok := GetPath(p, path[:i]).(map[string]any)
		if !ok {
			return
		}
		parent, key = m, path[i+1:]
	}
	delete(parent, key)
}
