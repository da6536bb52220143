package baselines

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// FileError is one problem in a config or baseline file. It prints as one
// line, "file:line: key: message", so an operator can jump straight to it
// and a CI log shows one failure per line.
type FileError struct {
	File string
	Line int
	// Key is the dotted path of the offending key, e.g.
	// "buckets[1].exempt[0]"; empty for a problem with the file as a whole.
	Key string
	Err error
}

func (e *FileError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Key != "" {
		b.WriteString(": ")
		b.WriteString(e.Key)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *FileError) Unwrap() error { return e.Err }

// maxFileSize bounds what is read: config and baseline files are a few
// kilobytes, and a path that names a device or a huge file by mistake
// should fail instead of filling memory.
const maxFileSize = 1 << 20

// readFile reads a regular file of at most maxFileSize bytes.
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxFileSize)
	}
	return data, nil
}

// yamlLine matches the position yaml.v3 puts in its syntax errors.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML parses data as exactly one YAML document. It returns nil for an
// empty document. Syntax errors are reported at the line the YAML library
// names (line 1 when it names none: it omits the line for the first one).
func parseYAML(file string, data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		return nil, syntaxError(file, err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, syntaxError(file, err)
	default:
		// A second document would be silently ignored; say so instead.
		return nil, &FileError{File: file, Line: extra.Line, Err: errors.New("more than one YAML document (remove the second ---)")}
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

func syntaxError(file string, err error) error {
	msg := strings.ReplaceAll(err.Error(), "\n", " ")
	line := 1
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	return &FileError{File: file, Line: line, Err: fmt.Errorf("invalid YAML: %s", msg)}
}

// walker reads a YAML tree against a schema, collecting every problem as a
// FileError instead of stopping at the first, so one run shows the operator
// everything to fix.
type walker struct {
	file string
	errs []*FileError
}

func (w *walker) errorf(n *yaml.Node, key, format string, args ...any) {
	w.errs = append(w.errs, &FileError{File: w.file, Line: n.Line, Key: key, Err: fmt.Errorf(format, args...)})
}

// wrap records err, which came from elsewhere (a baseline file named in the
// config), against node n.
func (w *walker) wrap(n *yaml.Node, key string, err error) {
	w.errs = append(w.errs, &FileError{File: w.file, Line: n.Line, Key: key, Err: err})
}

// err is nil, the one error, or all of them joined one per line in file
// order.
func (w *walker) err() error {
	slices.SortStableFunc(w.errs, func(a, b *FileError) int { return a.Line - b.Line })
	switch len(w.errs) {
	case 0:
		return nil
	case 1:
		return w.errs[0]
	}
	errs := make([]error, len(w.errs))
	for i, e := range w.errs {
		errs[i] = e
	}
	return errors.Join(errs...)
}

// resolve follows an alias to the node it names. Aliases are followed only
// where the schema expects a value, so the walk stays bounded by the schema
// and an alias bomb cannot make it explode.
func resolve(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

// isNull reports an explicit or implicit null ("key:" with no value), which
// the schema treats as the key being absent.
func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe says what a node is, for "want X, got Y" messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if isNull(n) {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	}
	return "an unsupported YAML node"
}

// join builds a key path: join("settings", "logging") is
// "settings.logging"; keys that are not plain words are quoted.
func join(parent, key string) string {
	if !plainKey.MatchString(key) {
		key = strconv.Quote(key)
	}
	if parent == "" {
		return key
	}
	return parent + "." + key
}

var plainKey = regexp.MustCompile(`^[A-Za-z0-9_\-/:*]+$`)

func index(parent string, i int) string {
	return fmt.Sprintf("%s[%d]", parent, i)
}

// fields walks mapping n at path key, calling fn for every key in the order
// they appear. Unknown and duplicate keys are reported, and so is a
// node that is not a mapping; fn is not called for null values.
func (w *walker) fields(n *yaml.Node, key string, known []string, fn func(name string, k, v *yaml.Node)) bool {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		w.errorf(n, key, "want a mapping, got %s", describe(n))
		return false
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			w.errorf(k, key, "keys must be plain words, got %s", describe(k))
			continue
		}
		name := join(key, k.Value)
		if first, dup := seen[k.Value]; dup {
			w.errorf(k, name, "duplicate key (first at line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		if !slices.Contains(known, k.Value) {
			w.errorf(k, name, "unknown key (want %s)", orList(known))
			continue
		}
		if isNull(v) {
			continue
		}
		fn(k.Value, k, v)
	}
	return true
}

// orList renders "a, b or c".
func orList(words []string) string {
	if len(words) <= 1 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}

// str reads a scalar as text. Numbers and dates are accepted as their text,
// the way an operator reads them ("kms_key: 1234" is the key "1234").
func (w *walker) str(n *yaml.Node, key string) (string, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!bool" {
		w.errorf(n, key, "want a string, got %s", describe(n))
		return "", false
	}
	return n.Value, true
}

// boolean reads true or false; YAML 1.1's yes/no/on/off are not booleans in
// YAML 1.2 and are rejected rather than guessed at.
func (w *walker) boolean(n *yaml.Node, key string) (bool, bool) {
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" {
		w.errorf(n, key, "want true or false, got %s", describe(n))
		return false, false
	}
	b, err := strconv.ParseBool(n.Value)
	if err != nil {
		// YAML 1.2 also spells them True and FALSE.
		b = strings.EqualFold(n.Value, "true")
	}
	return b, true
}

// list returns the items of sequence n.
func (w *walker) list(n *yaml.Node, key string) ([]*yaml.Node, bool) {
	if n.Kind != yaml.SequenceNode {
		w.errorf(n, key, "want a list, got %s", describe(n))
		return nil, false
	}
	items := make([]*yaml.Node, len(n.Content))
	for i, c := range n.Content {
		items[i] = resolve(c)
	}
	return items, true
}

// strList reads a list of strings, reporting duplicates; check, when not
// nil, validates each item and returns why it is wrong.
func (w *walker) strList(n *yaml.Node, key string, check func(string) error) ([]string, bool) {
	items, ok := w.list(n, key)
	if !ok {
		return nil, false
	}
	out := make([]string, 0, len(items))
	ok = true
	for i, item := range items {
		ikey := index(key, i)
		s, good := w.str(item, ikey)
		if !good {
			ok = false
			continue
		}
		if slices.Contains(out, s) {
			w.errorf(item, ikey, "duplicate %q", s)
			ok = false
			continue
		}
		if check != nil {
			if err := check(s); err != nil {
				w.errorf(item, ikey, "%v", err)
				ok = false
				continue
			}
		}
		out = append(out, s)
	}
	return out, ok
}
