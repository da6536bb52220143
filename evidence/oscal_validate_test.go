package evidence

// A validator of OSCAL JSON against NIST's metaschemas (testdata/
// oscal-1.1.3, the files NIST publishes for OSCAL 1.1.3, unchanged), for
// the parts of the assessment-results model a document uses: every
// required flag and field, the cardinality of every child (min-occurs,
// max-occurs, JSON arrays by group-as), allowed values where the
// definition closes them (allow-other="no", the default), the data types
// the parts use (uuid, date-time-with-timezone, token, ...), and no key
// the definition does not have. It reads the metaschema XML at test time,
// so a document is held to NIST's definitions, not to ours.

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
)

type xnode struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Children []*xnode   `xml:",any"`
	Text     string     `xml:",chardata"`
}

func (n *xnode) attr(name string) string {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

func (n *xnode) kind() string { return n.XMLName.Local }

// metaschemas holds the top-level definitions of every module by kind and
// name ("assembly:metadata").
type metaschemas map[string]*xnode

func loadMetaschemas(dir string) (metaschemas, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*_metaschema.xml"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no metaschemas in %s", dir)
	}
	m := metaschemas{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var root xnode
		// The modules include shared allowed values as external entities
		// (files NIST does not ship with them); they constrain props, which
		// this validator does not check, so they are read as text.
		d := xml.NewDecoder(bytes.NewReader(data))
		d.Strict = false
		if err := d.Decode(&root); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		for _, c := range root.Children {
			switch c.kind() {
			case "define-assembly", "define-field", "define-flag":
				m[strings.TrimPrefix(c.kind(), "define-")+":"+c.attr("name")] = c
			}
		}
	}
	return m, nil
}

type validator struct {
	m    metaschemas
	errs []string
}

func (v *validator) errorf(path, format string, args ...any) {
	v.errs = append(v.errs, path+": "+fmt.Sprintf(format, args...))
}

// definition resolves a model or flag entry: an inline define-* or a ref.
func (v *validator) definition(entry *xnode) *xnode {
	switch entry.kind() {
	case "define-assembly", "define-field", "define-flag":
		return entry
	}
	d := v.m[entry.kind()+":"+entry.attr("ref")]
	return d
}

func entryName(entry, def *xnode) string {
	for _, c := range entry.Children {
		if c.kind() == "use-name" {
			return strings.TrimSpace(text(c))
		}
	}
	if def != nil {
		for _, c := range def.Children {
			if c.kind() == "use-name" {
				return strings.TrimSpace(text(c))
			}
		}
	}
	if n := entry.attr("name"); n != "" {
		return n
	}
	return entry.attr("ref")
}

func text(n *xnode) string { return n.Text }

func child(n *xnode, kind string) *xnode {
	for _, c := range n.Children {
		if c.kind() == kind {
			return c
		}
	}
	return nil
}

// assembly validates a JSON object against an assembly definition.
func (v *validator) assembly(def *xnode, val any, path string) {
	obj, ok := val.(map[string]any)
	if !ok {
		v.errorf(path, "want an object, got %T", val)
		return
	}
	known := map[string]bool{}
	for _, c := range def.Children {
		if c.kind() != "flag" && c.kind() != "define-flag" {
			continue
		}
		fd := v.definition(c)
		name := entryName(c, fd)
		known[name] = true
		x, present := obj[name]
		req := c.attr("required") == "yes" || (fd != nil && fd.attr("required") == "yes")
		if !present {
			if req {
				v.errorf(path, "required flag %q is missing", name)
			}
			continue
		}
		v.scalar(fd, c, x, path+"/"+name)
	}
	if model := child(def, "model"); model != nil {
		v.model(model, obj, path, known)
	}
	for k := range obj {
		if !known[k] {
			v.errorf(path, "%q is not in the definition of %s", k, def.attr("name"))
		}
	}
}

func (v *validator) model(model *xnode, obj map[string]any, path string, known map[string]bool) {
	for _, e := range model.Children {
		switch e.kind() {
		case "choice":
			v.model(e, obj, path, known)
			continue
		case "assembly", "field", "define-assembly", "define-field":
		default:
			continue
		}
		def := v.definition(e)
		name := entryName(e, def)
		key := name
		array := false
		if g := child(e, "group-as"); g != nil {
			key, array = g.attr("name"), g.attr("in-json") == "ARRAY" || g.attr("in-json") == ""
		}
		known[key] = true
		min, _ := strconv.Atoi(e.attr("min-occurs"))
		max := 1
		switch m := e.attr("max-occurs"); m {
		case "unbounded":
			max = -1
		case "":
		default:
			max, _ = strconv.Atoi(m)
		}
		x, present := obj[key]
		if !present {
			if min > 0 && model.kind() != "choice" {
				v.errorf(path, "required %q is missing", key)
			}
			continue
		}
		if def == nil {
			v.errorf(path+"/"+key, "no definition for %s %q", e.kind(), e.attr("ref"))
			continue
		}
		items := []any{x}
		if array || max != 1 {
			list, ok := x.([]any)
			if !ok {
				v.errorf(path+"/"+key, "want an array (group-as %q)", key)
				continue
			}
			items = list
			if len(items) < max1(min) || (max > 0 && len(items) > max) {
				v.errorf(path+"/"+key, "%d items, want %d to %s", len(items), max1(min), e.attr("max-occurs"))
			}
		}
		for i, it := range items {
			p := path + "/" + key
			if len(items) > 1 || array {
				p += fmt.Sprintf("[%d]", i)
			}
			if strings.HasSuffix(def.kind(), "assembly") {
				v.assembly(def, it, p)
			} else {
				v.field(def, e, it, p)
			}
		}
	}
}

func max1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

// field validates a field: a scalar when it has no flags.
func (v *validator) field(def, entry *xnode, val any, path string) {
	hasFlags := slices.ContainsFunc(def.Children, func(c *xnode) bool { return c.kind() == "flag" || c.kind() == "define-flag" })
	if hasFlags {
		if _, ok := val.(map[string]any); ok {
			v.errorf(path, "fields with flags are not checked by this validator")
			return
		}
	}
	v.scalar(def, entry, val, path)
}

var (
	uuidRe  = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[45][0-9A-Fa-f]{3}-[89ABab][0-9A-Fa-f]{3}-[0-9A-Fa-f]{12}$`)
	tokenRe = regexp.MustCompile(`^(\p{L}|_)(\p{L}|\p{N}|[.\-_])*$`)
	tzRe    = regexp.MustCompile(`(Z|[+-][0-9]{2}:[0-9]{2})$`)
)

// scalar checks a flag's or field's value: its data type and closed
// allowed values.
func (v *validator) scalar(def, entry *xnode, val any, path string) {
	typ := "string"
	if def != nil && def.attr("as-type") != "" {
		typ = def.attr("as-type")
	}
	if entry.attr("as-type") != "" {
		typ = entry.attr("as-type")
	}
	s, isString := val.(string)
	switch typ {
	case "nonNegativeInteger", "positiveInteger", "integer", "decimal":
		if _, ok := val.(float64); !ok {
			v.errorf(path, "want a number (%s)", typ)
		}
		return
	case "boolean":
		if _, ok := val.(bool); !ok {
			v.errorf(path, "want a boolean")
		}
		return
	}
	if !isString {
		v.errorf(path, "want a string (%s), got %T", typ, val)
		return
	}
	switch typ {
	case "uuid":
		if !uuidRe.MatchString(s) {
			v.errorf(path, "%q is not a version 4 or 5 UUID", s)
		}
	case "date-time-with-timezone":
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil || !tzRe.MatchString(s) {
			v.errorf(path, "%q is not a date-time with a time zone", s)
		}
	case "token":
		if !tokenRe.MatchString(s) {
			v.errorf(path, "%q is not a token", s)
		}
	default:
		if strings.TrimSpace(s) == "" {
			v.errorf(path, "empty %s", typ)
		}
	}
	for _, d := range []*xnode{def, entry} {
		if d == nil {
			continue
		}
		for _, av := range allowedValues(d) {
			if av.attr("allow-other") == "yes" || (av.attr("target") != "" && av.attr("target") != ".") {
				continue
			}
			var enums []string
			for _, e := range av.Children {
				if e.kind() == "enum" {
					enums = append(enums, e.attr("value"))
				}
			}
			if !slices.Contains(enums, s) {
				v.errorf(path, "%q is not one of %v", s, enums)
			}
		}
	}
}

// allowedValues are the allowed-values constraints of a definition itself
// (not of its nested definitions).
func allowedValues(def *xnode) []*xnode {
	var out []*xnode
	for _, c := range def.Children {
		if c.kind() == "constraint" {
			for _, a := range c.Children {
				if a.kind() == "allowed-values" {
					out = append(out, a)
				}
			}
		}
	}
	return out
}

// validateOSCAL validates an OSCAL JSON document with one root.
func validateOSCAL(t interface{ Fatal(...any) }, m metaschemas, data []byte) []string {
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	v := &validator{m: m}
	for root, val := range doc {
		def := m["assembly:"+root]
		if def == nil || child(def, "root-name") == nil {
			v.errorf("/", "%q is not an OSCAL root", root)
			continue
		}
		v.assembly(def, val, "/"+root)
	}
	return v.errs
}
