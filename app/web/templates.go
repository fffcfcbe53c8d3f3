package web

import (
	"bufio"
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	texttemplate "text/template"
	"time"
)

// The pages are html/template files and a style sheet and script served
// from this binary: no build step, nothing fetched from elsewhere.
//
//go:embed assets
var assets embed.FS

type templates struct {
	pages map[string]*template.Template
	// badge is XML: html/template would escape it as HTML; its values
	// are escaped with xmlEscape instead.
	badge  *texttemplate.Template
	static map[string][]byte
}

func parseTemplates() (*templates, error) {
	funcs := template.FuncMap{
		"add": func(a, b int) int { return a + b },
	}
	t := &templates{pages: map[string]*template.Template{}, static: map[string][]byte{}}
	for _, name := range []string{"run", "repo", "org", "result"} {
		p, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "assets/layout.html", "assets/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", name, err)
		}
		t.pages[name] = p
	}
	b, err := texttemplate.New("badge.svg").Funcs(texttemplate.FuncMap{"x": xmlEscape}).ParseFS(assets, "assets/badge.svg")
	if err != nil {
		return nil, fmt.Errorf("web: badge: %w", err)
	}
	t.badge = b
	for _, name := range []string{"web.css", "web.js"} {
		data, err := assets.ReadFile("assets/" + name)
		if err != nil {
			return nil, fmt.Errorf("web: %s: %w", name, err)
		}
		t.static[name] = data
	}
	return t, nil
}

// xmlEscape escapes text for XML: the five characters HTML's escaper
// escapes are XML's too.
func xmlEscape(s string) string { return template.HTMLEscapeString(s) }

// render writes a page. It renders into a buffer first, so that a
// template error is a 500 and not half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, name string, data any) {
	var buf bytes.Buffer
	if err := s.pages.pages[name].Execute(&buf, data); err != nil {
		s.fail(w, r, fmt.Errorf("render %s: %w", name, err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "private, no-cache")
	_, _ = buf.WriteTo(w)
}

// renderStreaming writes a page as it renders, flushing where the
// template calls *flush: the head of a run page goes out before its log
// is read. An error past the first byte can only end the page early; it
// is logged.
func (s *Server) renderStreaming(w http.ResponseWriter, r *http.Request, name string, flush *func(), data any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "private, no-cache")
	bw := bufio.NewWriterSize(w, 64<<10)
	rc := http.NewResponseController(w)
	*flush = func() {
		if bw.Flush() == nil {
			_ = rc.Flush()
		}
	}
	if err := s.pages.pages[name].Execute(bw, data); err != nil {
		_, _ = bw.WriteString("\n<p class=\"message\" role=\"alert\">stagegate could not show the rest of this page; the server's log says why.</p>")
		s.cfg.Logger.Error().Err(err).Str("path", r.URL.Path).Msg("web page")
	}
	_ = bw.Flush()
}

// asset serves an embedded style sheet or script.
func (s *Server) asset(name, contentType string) http.HandlerFunc {
	data := s.pages.static[name]
	return func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", contentType)
		h.Set("Cache-Control", "public, max-age=300")
		http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(data))
	}
}
