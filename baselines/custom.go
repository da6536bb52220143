package baselines

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/s3baseline/s3baseline/settings"
)

// ErrUnknownBaseline is wrapped by Resolve's error for a name that is
// neither a built-in baseline nor an existing file.
var ErrUnknownBaseline = errors.New("unknown baseline")

// Resolve returns the built-in baseline nameOrPath, or else loads the
// baseline file at that path, relative to baseDir when it is not absolute.
// A built-in name wins over a file of the same name, so "high" always means
// the same thing.
func Resolve(nameOrPath, baseDir string) (*Baseline, error) {
	if b, ok := Builtin(nameOrPath); ok {
		return b, nil
	}
	p := nameOrPath
	if !filepath.IsAbs(p) && baseDir != "" {
		p = filepath.Join(baseDir, p)
	}
	if _, err := os.Stat(p); nameOrPath == "" || errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w %q (want low, medium, high or a baseline file)", ErrUnknownBaseline, nameOrPath)
	}
	return Load(p)
}

// Load reads a custom baseline file:
//
//	name: pci                    # required; not a built-in name
//	description: "..."
//	extends: medium              # optional: start from a built-in baseline
//	encryption: customer-key     # sse-s3 | sse-kms | customer-key
//	controls:                    # added to (or, with extends, changed in) the set
//	  - tls_only                 # a control id: its default mode
//	  - id: event_notifications  # or id and mode (enforce | report)
//	    mode: report
//	remove: [admin_policy_lock]  # drop inherited controls
//
// The NIST mapping and sentences come from the catalog; a file cannot change
// them. Errors name the file, line and key.
func Load(path string) (*Baseline, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("read baseline: %w", err)
	}
	b, err := parseBaseline(path, data, Builtin)
	if err != nil {
		return nil, err
	}
	b.Source = path
	return b, nil
}

var baselineKeys = []string{"name", "description", "extends", "encryption", "cloudtrail_insights", "controls", "remove"}

// baselineName keeps names short words, since they are printed in every
// plan line and used as the plan's baseline name.
var baselineName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// listed is one control item of a baseline file, kept with its node for
// messages.
type listed struct {
	spec ControlSpec
	node *yaml.Node
	key  string
}

// parseBaseline parses a baseline file. extend looks up the baseline an
// "extends" names; it is nil for the built-in files themselves, which may use
// built-in names and may not extend anything (the lookup is a parameter so
// that parsing the built-ins does not depend on the built-ins).
func parseBaseline(file string, data []byte, extend func(string) (*Baseline, bool)) (*Baseline, error) {
	builtin := extend == nil
	root, err := parseYAML(file, data)
	if err != nil {
		return nil, err
	}
	if root == nil {
		return nil, &FileError{File: file, Line: 1, Err: errors.New("empty baseline file (want at least name and controls)")}
	}
	w := &walker{file: file}
	b := &Baseline{}
	var (
		base            *Baseline
		encNode         *yaml.Node
		insights        *bool
		insightsNode    *yaml.Node
		controls, drops []listed
	)
	ok := w.fields(root, "", baselineKeys, func(name string, _, v *yaml.Node) {
		switch name {
		case "name":
			s, ok := w.str(v, name)
			switch {
			case !ok:
			case !baselineName.MatchString(s):
				w.errorf(v, name, "%q is not a baseline name (letters, digits, '.', '_' and '-', at most 64)", s)
			case !builtin && slices.Contains(BuiltinNames(), s):
				w.errorf(v, name, "%q is a built-in baseline; choose another name", s)
			default:
				b.Name = s
			}
		case "description":
			b.Description, _ = w.str(v, name)
		case "extends":
			s, ok := w.str(v, name)
			switch {
			case !ok:
			case builtin:
				w.errorf(v, name, "a built-in baseline cannot extend another")
			default:
				var found bool
				if base, found = extend(s); !found {
					w.errorf(v, name, "unknown built-in baseline %q (want %s)", s, orList(BuiltinNames()))
				}
			}
		case "encryption":
			s, ok := w.str(v, name)
			if ok && !slices.Contains(encryptionLevels(), s) {
				w.errorf(v, name, "unknown encryption level %q (want %s)", s, orList(encryptionLevels()))
			} else if ok {
				b.Encryption, encNode = s, v
			}
		case "cloudtrail_insights":
			if on, ok := w.boolean(v, name); ok {
				insights, insightsNode = &on, v
			}
		case "controls":
			controls = w.controlItems(v, name, true)
		case "remove":
			drops = w.controlItems(v, name, false)
		}
	})
	if !ok {
		return nil, w.err()
	}
	if b.Name == "" && !slices.ContainsFunc(w.errs, func(e *FileError) bool { return e.Key == "name" }) {
		w.errorf(root, "name", "required")
	}

	// Start from the extended baseline, drop what remove says, then apply
	// the file's own list, which adds controls or changes their mode.
	set := map[settings.ControlID]ControlSpec{}
	if base != nil {
		for _, c := range base.Controls {
			set[c.ID] = c
		}
		if b.Encryption == "" {
			b.Encryption = base.Encryption
		}
		b.CloudTrailInsights = base.CloudTrailInsights
	}
	if insights != nil {
		b.CloudTrailInsights = *insights
	}
	for _, d := range drops {
		switch {
		case base == nil:
			w.errorf(d.node, d.key, "nothing to remove: the baseline extends none")
		case slices.ContainsFunc(controls, func(c listed) bool { return c.spec.ID == d.spec.ID }):
			w.errorf(d.node, d.key, "%q is also listed in controls", d.spec.ID)
		case !base.Has(d.spec.ID):
			w.errorf(d.node, d.key, "%q is not in baseline %q", d.spec.ID, base.Name)
		default:
			delete(set, d.spec.ID)
		}
	}
	for _, c := range controls {
		set[c.spec.ID] = c.spec
	}

	for _, c := range catalog() {
		spec, ok := set[c.ID]
		if !ok {
			continue
		}
		spec.NIST = c.NIST
		spec.Compliant = c.Compliant
		if c.ID == settings.DefaultEncryption {
			spec.Compliant = encryptionCompliant(b.Encryption)
		}
		b.Controls = append(b.Controls, spec)
	}
	switch hasEnc := b.Has(settings.DefaultEncryption); {
	case len(w.errs) > 0:
	case len(b.Controls) == 0:
		w.errorf(root, "controls", "the baseline has no controls")
	case hasEnc && b.Encryption == "":
		w.errorf(root, "encryption", "required with default_encryption (want %s)", orList(encryptionLevels()))
	case !hasEnc && encNode != nil:
		w.errorf(encNode, "encryption", "has no effect: default_encryption is not among the controls")
	case insightsNode != nil && b.CloudTrailInsights && !b.Has(settings.CloudTrailDataEvents):
		w.errorf(insightsNode, "cloudtrail_insights", "has no effect: cloudtrail_data_events is not among the controls")
	}
	if err := w.err(); err != nil {
		return nil, err
	}
	return b, nil
}

// controlItems reads a list of control items: ids, or (when withMode)
// {id, mode} mappings. Unknown ids, bad modes and duplicates are reported
// and left out.
func (w *walker) controlItems(n *yaml.Node, key string, withMode bool) []listed {
	items, ok := w.list(n, key)
	if !ok {
		return nil
	}
	var out []listed
	for i, item := range items {
		ikey := index(key, i)
		var (
			idNode  = item
			mode    string
			modeKey string
			mnode   *yaml.Node
		)
		if item.Kind == yaml.MappingNode && withMode {
			idNode = nil
			w.fields(item, ikey, []string{"id", "mode"}, func(name string, _, v *yaml.Node) {
				switch name {
				case "id":
					idNode = v
				case "mode":
					s, ok := w.str(v, join(ikey, name))
					if ok && s != ModeEnforce && s != ModeReport {
						w.errorf(v, join(ikey, name), "unknown mode %q (want %s or %s)", s, ModeEnforce, ModeReport)
						s = ""
					}
					mode, modeKey, mnode = s, join(ikey, name), v
				}
			})
			if idNode == nil {
				w.errorf(item, join(ikey, "id"), "required")
				continue
			}
			ikey = join(ikey, "id")
		}
		s, ok := w.str(idNode, ikey)
		if !ok {
			continue
		}
		id := settings.ControlID(s)
		c, known := catalogSpec(id)
		switch {
		case !known:
			w.errorf(idNode, ikey, "unknown control %q", s)
			continue
		case slices.ContainsFunc(out, func(l listed) bool { return l.spec.ID == id }):
			w.errorf(idNode, ikey, "duplicate control %q", s)
			continue
		}
		if mode == ModeEnforce && reportOnly(id) {
			w.errorf(mnode, modeKey, "%s is report-only; the tool has nothing to enforce", id)
			continue
		}
		if mode == "" && mnode != nil {
			continue // bad mode, reported above
		}
		if mode != "" {
			c.Mode = mode
		}
		out = append(out, listed{spec: ControlSpec{ID: id, Mode: c.Mode}, node: idNode, key: ikey})
	}
	return out
}
