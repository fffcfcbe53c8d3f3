package web

import (
	"html"
	"html/template"
	"strconv"
	"strings"
)

// linesHTML renders log lines as the page shows them. It is written by
// hand rather than by html/template, whose per-value escaping through
// reflection costs more than the rest of a run page for a 1,000-line
// tail; every value it writes goes through html.EscapeString, and the
// tests feed it hostile lines.
func linesHTML(lines []lineView, anchors bool) template.HTML {
	var b strings.Builder
	b.Grow(len(lines) * 120)
	for _, l := range lines {
		n := strconv.FormatInt(l.N, 10)
		if l.Mark != "" {
			b.WriteString(`<div class="mark">`)
			b.WriteString(html.EscapeString(l.Mark))
			b.WriteString("</div>")
		}
		b.WriteString(`<div class="ln s-`)
		b.WriteString(html.EscapeString(l.Stream))
		if anchors {
			b.WriteString(`" id="L`)
			b.WriteString(n)
		}
		b.WriteString(`"><a class="n" href="`)
		b.WriteString(html.EscapeString(l.Href))
		b.WriteString(`">`)
		b.WriteString(n)
		b.WriteString(`</a><span class="t">`)
		for _, s := range l.Segs {
			if s.Class != "" {
				b.WriteString(`<span class="`)
				b.WriteString(html.EscapeString(s.Class))
				b.WriteString(`">`)
				b.WriteString(html.EscapeString(s.Text))
				b.WriteString("</span>")
			} else {
				b.WriteString(html.EscapeString(s.Text))
			}
		}
		b.WriteString("</span></div>\n")
	}
	return template.HTML(b.String()) //nolint:gosec // every value above is escaped
}
