package pipeline

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
)

// maxJSONDepth bounds how deeply a JSON parameter's mapping nests.
const maxJSONDepth = 32

// jsonParam decodes a JSON parameter: a string that must hold JSON, or
// a mapping written in YAML, turned into JSON text.
func (d *decoder) jsonParam(n *node, what string) (string, bool) {
	switch n.kind {
	case kindString:
		if !json.Valid([]byte(n.text)) {
			d.errs.add(n.pos, "%s is not valid JSON; write a mapping, or a string holding a JSON document", what)
			return "", false
		}
		return n.text, true
	case kindMap:
		var b bytes.Buffer
		if !d.jsonValue(&b, n, what, 0) {
			return "", false
		}
		return b.String(), true
	}
	d.typeErr(n, what, string(ParamJSON))
	return "", false
}

// jsonValue writes n as JSON: mappings, lists, strings, numbers,
// booleans and null.
func (d *decoder) jsonValue(b *bytes.Buffer, n *node, what string, depth int) bool {
	if depth > maxJSONDepth {
		d.errs.add(n.pos, "%s nests deeper than %d levels", what, maxJSONDepth)
		return false
	}
	switch n.kind {
	case kindNull:
		b.WriteString("null")
	case kindBool:
		b.WriteString(strconv.FormatBool(strings.EqualFold(n.text, "true")))
	case kindString:
		q, _ := json.Marshal(n.text)
		b.Write(q)
	case kindInt, kindFloat:
		text := n.text
		if n.kind == kindInt && n.numOK {
			text = strconv.FormatInt(n.num, 10)
		}
		if !json.Valid([]byte(text)) {
			d.errs.add(n.pos, "%s: %s is not a JSON number; quote it to send a string", what, n.text)
			return false
		}
		b.WriteString(text)
	case kindList:
		if !d.spend(len(n.items), n.pos) {
			return false
		}
		b.WriteByte('[')
		for i, it := range n.items {
			if i > 0 {
				b.WriteByte(',')
			}
			if !d.jsonValue(b, it, what, depth+1) {
				return false
			}
		}
		b.WriteByte(']')
	case kindMap:
		if !d.spend(len(n.pairs), n.pos) {
			return false
		}
		b.WriteByte('{')
		for i, pr := range n.pairs {
			if i > 0 {
				b.WriteByte(',')
			}
			k, _ := json.Marshal(pr.key.text)
			b.Write(k)
			b.WriteByte(':')
			if !d.jsonValue(b, pr.value, what, depth+1) {
				return false
			}
		}
		b.WriteByte('}')
	default:
		return false
	}
	return true
}
