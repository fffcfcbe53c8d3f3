package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// ParseFile reads and parses a pipeline file. A file that cannot be read
// yields the read error, wrapped; a file with problems yields Errors.
func ParseFile(path string) (*Pipeline, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read pipeline: %w", err)
	}
	defer f.Close()
	// One byte more than the limit is enough to tell that it is over.
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+int64(len(utf8BOM))+1))
	if err != nil {
		return nil, fmt.Errorf("read pipeline: %w", err)
	}
	return Parse(path, data)
}

// Parse parses and validates a pipeline file; file names it in messages.
// On any problem it returns Errors, holding every problem found, each at
// the position of the key or value at fault.
func Parse(file string, data []byte) (*Pipeline, error) {
	errs := newErrorList(file)
	data = bytes.TrimPrefix(data, utf8BOM)
	if len(data) > MaxFileSize {
		errs.add(Pos{Line: 1, Col: 1}, "the file is %d bytes; a pipeline file may be at most %d (1 MB)", len(data), MaxFileSize)
		return nil, errs.err()
	}
	switch p, tooDeep, tooMany := depthScan(data, MaxDepth); {
	case tooDeep:
		errs.add(p, "nesting deeper than %d levels; a pipeline file may nest at most %d", MaxDepth, MaxDepth)
		return nil, errs.err()
	case tooMany:
		errs.add(p, "a mapping may hold at most %d keys; this is one more", MaxKeys)
		return nil, errs.err()
	}
	root := parseYAML(errs, data)
	if root == nil {
		return nil, errs.err()
	}
	p := newDecoder(errs).pipeline(root)
	if err := errs.err(); err != nil {
		return nil, err
	}
	p.File = file
	return p, nil
}

// parseYAML parses the single document of a pipeline file into nodes,
// or returns nil after reporting why it cannot.
func parseYAML(errs *errorList, data []byte) *node {
	f, err := parseAST(data)
	if err != nil {
		reportYAMLError(errs, err)
		return nil
	}
	var docs []*ast.DocumentNode
	for _, doc := range f.Docs {
		// goccy gives a %YAML or %TAG directive a document of its own.
		if _, directive := doc.Body.(*ast.DirectiveNode); doc.Body != nil && !directive {
			docs = append(docs, doc)
		}
	}
	if len(docs) == 0 {
		errs.add(Pos{Line: 1, Col: 1}, "the file is empty; a pipeline needs at least \"stages\"")
		return nil
	}
	for _, doc := range docs[1:] {
		p := tokenPos(doc.Start, tokenPos(doc.Body.GetToken(), Pos{Line: 1, Col: 1}))
		errs.add(p, "a pipeline file must hold a single YAML document; another starts here")
	}
	return newConverter(errs).convert(docs[0].Body, Pos{Line: 1, Col: 1})
}

// parseAST runs goccy's parser. Duplicate keys are let through here and
// reported by the converter, so that they do not hide other problems.
func parseAST(data []byte) (f *ast.File, err error) {
	defer func() {
		// The parser is third-party code fed untrusted files: a crash in
		// it must become an error for the user, not take the app down.
		if r := recover(); r != nil {
			f, err = nil, fmt.Errorf("the YAML parser failed: %v", r)
		}
	}()
	return parser.ParseBytes(data, 0, parser.AllowDuplicateMapKey())
}

func reportYAMLError(errs *errorList, err error) {
	p := Pos{Line: 1, Col: 1}
	msg := err.Error()
	var ye yaml.Error
	if errors.As(err, &ye) {
		msg = ye.GetMessage()
		p = tokenPos(ye.GetToken(), p)
	}
	errs.add(p, "invalid YAML: %s", strings.TrimSpace(msg))
}
