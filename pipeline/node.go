package pipeline

import (
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// kind is what a YAML node holds, as the decoder cares about it.
type kind int

const (
	kindNull kind = iota
	kindString
	kindInt
	kindFloat
	kindBool
	kindList
	kindMap
	// kindBad stands for a value already reported as wrong, such as an
	// undefined alias; it draws no further messages.
	kindBad
)

// phrase names the kind for messages such as `"stages" must be a list,
// not a mapping`.
func (k kind) phrase() string {
	switch k {
	case kindString:
		return "a string"
	case kindInt, kindFloat:
		return "a number"
	case kindBool:
		return "a boolean"
	case kindList:
		return "a list"
	case kindMap:
		return "a mapping"
	case kindBad:
		return "an invalid value"
	}
	return "null"
}

// node is a YAML node with anchors, aliases, tags and merge keys already
// resolved, so that the decoder deals with plain values and positions only.
type node struct {
	kind kind
	pos  Pos
	// text is a scalar's value: a string unescaped, other scalars as
	// written, so that `1.10` stays "1.10".
	text string
	// num is an integer's value; numOK is false when it overflows int64.
	num   int64
	numOK bool
	// textCol is the column where text starts when text is the source
	// verbatim on one line, 0 otherwise; it maps a column inside the
	// text (an `if:` error) to the file.
	textCol int
	items   []*node
	pairs   []pair
}

// pair is one entry of a mapping.
type pair struct {
	key   *node
	value *node
}

// converter turns goccy's AST into nodes, reporting what YAML allows but
// a pipeline file does not (duplicate keys, undefined aliases).
type converter struct {
	errs *errorList
	// anchors maps an anchor name to its node once the anchored value is
	// complete; an alias refers to the latest anchor before it.
	anchors map[string]*node
	// open holds anchors whose value is being converted, to tell an
	// alias to itself from an undefined one.
	open map[string]int
	// depth is how many collections enclose the node being converted.
	depth int
}

func newConverter(errs *errorList) *converter {
	return &converter{errs: errs, anchors: make(map[string]*node), open: make(map[string]int)}
}

func tokenPos(tk *token.Token, fallback Pos) Pos {
	if tk == nil || tk.Position == nil || tk.Position.Line < 1 || tk.Position.Column < 1 {
		return fallback
	}
	return Pos{Line: tk.Position.Line, Col: tk.Position.Column}
}

// convert converts n; fallback is the position used for a node without a
// token of its own, such as an implicit null.
func (c *converter) convert(n ast.Node, fallback Pos) *node {
	switch n.(type) {
	case *ast.MappingNode, *ast.MappingValueNode, *ast.SequenceNode:
		// The raw scan before parsing bounds the parser's cost; this is
		// the exact rule, said where it is broken.
		c.depth++
		defer func() { c.depth-- }()
		if c.depth > MaxDepth {
			p := tokenPos(n.GetToken(), fallback)
			c.errs.add(p, "nesting deeper than %d levels; a pipeline file may nest at most %d", MaxDepth, MaxDepth)
			return &node{kind: kindBad, pos: p}
		}
	}
	switch n := n.(type) {
	case nil:
		return &node{kind: kindNull, pos: fallback}
	case *ast.MappingNode:
		return c.mapping(n, fallback)
	case *ast.MappingValueNode:
		return c.mappingValues(tokenPos(n.Key.GetToken(), fallback), []*ast.MappingValueNode{n})
	case *ast.SequenceNode:
		out := &node{kind: kindList, pos: tokenPos(n.Start, fallback)}
		for _, v := range n.Values {
			out.items = append(out.items, c.convert(v, out.pos))
		}
		return out
	case *ast.AnchorNode:
		name := text(n.Name)
		c.open[name]++
		v := c.convert(n.Value, tokenPos(n.Start, fallback))
		c.open[name]--
		c.anchors[name] = v
		return v
	case *ast.AliasNode:
		return c.alias(n, fallback)
	case *ast.TagNode:
		return c.tag(n, fallback)
	case *ast.MappingKeyNode:
		return c.convert(n.Value, tokenPos(n.Start, fallback))
	case *ast.LiteralNode:
		out := &node{kind: kindString, pos: tokenPos(n.Start, fallback)}
		if n.Value != nil {
			out.text = n.Value.Value
		}
		return out
	}
	return c.scalar(n, fallback)
}

func (c *converter) scalar(n ast.Node, fallback Pos) *node {
	tk := n.GetToken()
	if tk == nil || tk.Type == token.ImplicitNullType {
		return &node{kind: kindNull, pos: fallback}
	}
	out := &node{pos: tokenPos(tk, fallback)}
	switch n := n.(type) {
	case *ast.NullNode:
		// The text matters as a key ("NULL:") or under !!str.
		out.kind, out.text = kindNull, tk.Value
	case *ast.BoolNode:
		out.kind, out.text = kindBool, tk.Value
	case *ast.IntegerNode:
		out.kind, out.text = kindInt, tk.Value
		switch v := n.Value.(type) {
		case int64:
			out.num, out.numOK = v, true
		case uint64:
			out.num, out.numOK = int64(v), v <= 1<<63-1
		}
	case *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		out.kind, out.text = kindFloat, tk.Value
	case *ast.StringNode:
		out.kind, out.text = kindString, n.Value
		out.textCol = verbatimCol(tk, n.Value, out.pos)
	default:
		// Comments and directives carry no value.
		out.kind = kindNull
	}
	return out
}

// verbatimCol returns the column of a single-line scalar's first
// character when its value is its source text unchanged (no escapes,
// no folding), else 0.
func verbatimCol(tk *token.Token, value string, p Pos) int {
	if strings.ContainsAny(value, "\n\r") {
		return 0
	}
	src := strings.Trim(tk.Origin, " \t\r\n")
	switch tk.Type {
	case token.SingleQuoteType, token.DoubleQuoteType:
		if len(src) >= 2 && src[1:len(src)-1] == value {
			return p.Col + 1
		}
	case token.StringType:
		if src == value {
			return p.Col
		}
	}
	return 0
}

func (c *converter) alias(n *ast.AliasNode, fallback Pos) *node {
	p := tokenPos(n.Start, fallback)
	name := text(n.Value)
	target, ok := c.anchors[name]
	if !ok {
		if c.open[name] > 0 {
			c.errs.add(p, "alias *%s is inside its own anchor", name)
		} else {
			c.errs.add(p, "alias *%s refers to no anchor (define &%s before it)", name, name)
		}
		return &node{kind: kindBad, pos: p}
	}
	// A copy placed at the alias, so that an item reached through it
	// reports where it is used; its contents keep their own positions.
	cp := *target
	cp.pos = p
	return &cp
}

// text is an anchor's or alias's name.
func text(n ast.Node) string {
	if n == nil {
		return ""
	}
	return n.String()
}

func (c *converter) tag(n *ast.TagNode, fallback Pos) *node {
	v := c.convert(n.Value, tokenPos(n.Start, fallback))
	// !!str is the one tag that changes what a pipeline file means:
	// `!!str 1.10` is the string "1.10".
	if n.Start != nil && n.Start.Value == "!!str" && v.kind != kindList && v.kind != kindMap && v.kind != kindBad {
		v.kind = kindString
	}
	return v
}

func (c *converter) mapping(n *ast.MappingNode, fallback Pos) *node {
	p := tokenPos(n.Start, fallback)
	if !n.IsFlowStyle && len(n.Values) > 0 {
		p = tokenPos(n.Values[0].Key.GetToken(), p)
	}
	return c.mappingValues(p, n.Values)
}

// mappingValues builds a mapping from its entries. Explicit keys come
// first and win over merged ones; among merged mappings the first wins,
// as YAML's merge key specifies.
func (c *converter) mappingValues(p Pos, values []*ast.MappingValueNode) *node {
	out := &node{kind: kindMap, pos: p}
	seen := make(map[string]Pos)
	var merged []*node
	for _, mv := range values {
		keyPos := tokenPos(mv.Key.GetToken(), p)
		if mv.Key.IsMergeKey() {
			merged = append(merged, c.mergeSources(c.convert(mv.Value, keyPos))...)
			continue
		}
		key := c.convert(mv.Key, keyPos)
		if key.kind == kindBad {
			continue
		}
		if key.kind == kindList || key.kind == kindMap {
			c.errs.add(key.pos, "a key must be a string, not %s", key.kind.phrase())
			continue
		}
		value := c.convert(mv.Value, key.pos)
		if first, dup := seen[key.text]; dup {
			c.errs.add(key.pos, "duplicate key %q (first at %d:%d)", key.text, first.Line, first.Col)
			continue
		}
		seen[key.text] = key.pos
		out.pairs = append(out.pairs, pair{key: key, value: value})
	}
	for _, m := range merged {
		for _, pr := range m.pairs {
			if _, dup := seen[pr.key.text]; dup {
				continue
			}
			seen[pr.key.text] = pr.key.pos
			out.pairs = append(out.pairs, pr)
		}
	}
	return out
}

// mergeSources returns the mappings a merge key's value names: one
// mapping or a list of them.
func (c *converter) mergeSources(v *node) []*node {
	switch v.kind {
	case kindMap:
		return []*node{v}
	case kindList:
		var out []*node
		for _, item := range v.items {
			if item.kind == kindBad {
				continue
			}
			if item.kind != kindMap {
				c.errs.add(item.pos, "a merge key (<<) list must hold mappings, not %s", item.kind.phrase())
				continue
			}
			out = append(out, item)
		}
		return out
	case kindBad:
		return nil
	}
	c.errs.add(v.pos, "a merge key (<<) needs a mapping or a list of mappings, not %s", v.kind.phrase())
	return nil
}
