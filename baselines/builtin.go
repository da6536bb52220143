package baselines

import (
	"embed"
	"fmt"
	"sync"
)

// The built-in baselines are data files in the custom baseline format, so
// they read as examples of that format and are checked by the same parser.
//
//go:embed data/*.yaml
var builtinFiles embed.FS

// SourceBuiltin is Baseline.Source for the built-in baselines.
const SourceBuiltin = "builtin"

// BuiltinNames lists the built-in baselines, weakest first.
func BuiltinNames() []string {
	return []string{"low", "medium", "high"}
}

// builtins parses the embedded files once. The result is shared, so
// Builtin hands out copies.
var builtins = sync.OnceValues(func() (map[string]*Baseline, error) {
	m := map[string]*Baseline{}
	for _, name := range BuiltinNames() {
		file := "data/" + name + ".yaml"
		data, err := builtinFiles.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read built-in baseline %s: %w", name, err)
		}
		b, err := parseBaseline(file, data, nil)
		if err != nil {
			return nil, fmt.Errorf("built-in baseline %s: %w", name, err)
		}
		if b.Name != name {
			return nil, fmt.Errorf("built-in baseline %s: file says name %q", name, b.Name)
		}
		b.Source = SourceBuiltin
		m[name] = b
	}
	return m, nil
})

// Builtin returns the built-in baseline called name ("low", "medium" or
// "high"). The baseline is a fresh copy the caller may change.
func Builtin(name string) (*Baseline, bool) {
	m, err := builtins()
	if err != nil {
		// The files are compiled in and covered by tests; a failure here is
		// a broken build, not something a caller could handle.
		panic(fmt.Sprintf("baselines: %v", err))
	}
	b, ok := m[name]
	if !ok {
		return nil, false
	}
	return b.Clone(), true
}
