// Package migration reads the versioned schema migrations a SQL store
// embeds: files named with their version, 0001_….sql, counting up from 1
// without a gap. Running them is each store's own business (its locking
// and its schema_version table differ).
package migration

import (
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
)

// Migration is one schema step.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Read returns the migrations in dir of fsys, in order. store names the
// store in errors.
func Read(fsys fs.ReadDirFS, dir, store string) ([]Migration, error) {
	entries, err := fsys.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []Migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("%s: migration %q has no version", store, e.Name())
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, Migration{v, e.Name(), string(b)})
	}
	slices.SortFunc(out, func(a, b Migration) int { return a.Version - b.Version })
	for i, m := range out {
		if m.Version != i+1 {
			return nil, fmt.Errorf("%s: migration %q out of sequence", store, m.Name)
		}
	}
	return out, nil
}
