package checks

import (
	"path"
	"slices"
)

// FileIndex answers the two questions the annotation parser asks of a
// repository's tree, from a list of its paths (as a git tree listing or
// a walk of the checkout gives them). Its methods fit Options.Files and
// Options.FilesNamed.
type FileIndex struct {
	paths  map[string]bool
	byBase map[string][]string
}

// NewFileIndex indexes slash-separated paths relative to the repository
// root.
func NewFileIndex(paths []string) *FileIndex {
	ix := &FileIndex{paths: make(map[string]bool, len(paths)), byBase: make(map[string][]string)}
	for _, p := range paths {
		p = path.Clean(p)
		if ix.paths[p] {
			continue
		}
		ix.paths[p] = true
		b := path.Base(p)
		ix.byBase[b] = append(ix.byBase[b], p)
	}
	return ix
}

// Has reports whether p is a file of the repository.
func (ix *FileIndex) Has(p string) bool { return ix.paths[p] }

// Named lists the files whose base name is name.
func (ix *FileIndex) Named(name string) []string { return slices.Clone(ix.byBase[name]) }
