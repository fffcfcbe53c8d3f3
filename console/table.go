package console

import (
	"io"
	"strings"
	"unicode/utf8"
)

// cell is a table cell whose colour does not count towards its width;
// text/tabwriter counts escape sequences as text and misaligns coloured
// columns.
type cell struct {
	text  string
	color string
}

// table lays out rows of cells in columns two spaces apart.
type table struct {
	rows [][]cell
}

func (t *table) add(cells ...cell) { t.rows = append(t.rows, cells) }

// addText adds a row of uncoloured cells.
func (t *table) addText(texts ...string) {
	cells := make([]cell, len(texts))
	for i, s := range texts {
		cells[i] = cell{text: s}
	}
	t.add(cells...)
}

func (t *table) write(w io.Writer, style Style) {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(c.text))
		}
	}
	var b strings.Builder
	for _, r := range t.rows {
		line := strings.Builder{}
		for i, c := range r {
			line.WriteString(style.paint(c.color, c.text))
			if i < len(r)-1 {
				line.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c.text)+2))
			}
		}
		b.WriteString(strings.TrimRight(line.String(), " "))
		b.WriteByte('\n')
	}
	_, _ = io.WriteString(w, b.String())
}
