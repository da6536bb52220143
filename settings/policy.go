package settings

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// PolicyDocument is a bucket policy parsed for comparison. AWS does not give
// back the text it was sent (whitespace goes, account ids become root ARNs,
// one-element lists may become scalars), so every comparison the tool makes
// is between normalised statements, never between texts.
type PolicyDocument struct {
	Version    string
	ID         string
	Statements []Statement
}

// Statement is one policy statement: the verbatim JSON, so a merge can write
// a foreign statement back byte for byte, and the normalised elements used
// to compare it.
//
// Normalisation: Principal "*" is {"AWS": ["*"]}; a 12-digit account id is
// arn:aws:iam::ID:root; scalars are one-element lists; actions are lower
// case (IAM matches them case-insensitively); every list is sorted and
// deduplicated; condition keys are lower case (IAM matches them
// case-insensitively) and condition values are their text (false and
// "false" are the same value to IAM). Empty elements are nil.
type Statement struct {
	Raw          json.RawMessage                `json:"-"`
	Sid          string                         `json:"sid,omitempty"`
	Effect       string                         `json:"effect"`
	Principal    map[string][]string            `json:"principal,omitempty"`
	NotPrincipal map[string][]string            `json:"not_principal,omitempty"`
	Action       []string                       `json:"action,omitempty"`
	NotAction    []string                       `json:"not_action,omitempty"`
	Resource     []string                       `json:"resource,omitempty"`
	NotResource  []string                       `json:"not_resource,omitempty"`
	Condition    map[string]map[string][]string `json:"condition,omitempty"`
}

// ParsePolicy parses and normalises a policy document. Statement may be one
// object or a list, as IAM allows.
func ParsePolicy(raw string) (*PolicyDocument, error) {
	var top struct {
		Version   string          `json:"Version"`
		ID        string          `json:"Id"`
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal([]byte(raw), &top); err != nil {
		return nil, fmt.Errorf("parse policy: %w", err)
	}
	doc := &PolicyDocument{Version: top.Version, ID: top.ID}
	var raws []json.RawMessage
	switch t := bytes.TrimSpace(top.Statement); {
	case len(t) == 0 || string(t) == "null":
	case t[0] == '[':
		if err := json.Unmarshal(t, &raws); err != nil {
			return nil, fmt.Errorf("parse policy: Statement: %w", err)
		}
	default:
		raws = []json.RawMessage{t}
	}
	for i, r := range raws {
		s, err := ParseStatement(r)
		if err != nil {
			return nil, fmt.Errorf("parse policy: statement %d: %w", i+1, err)
		}
		doc.Statements = append(doc.Statements, s)
	}
	return doc, nil
}

// ParseStatement parses and normalises one statement object.
func ParseStatement(raw json.RawMessage) (Statement, error) {
	var in struct {
		Sid          string                                `json:"Sid"`
		Effect       string                                `json:"Effect"`
		Principal    json.RawMessage                       `json:"Principal"`
		NotPrincipal json.RawMessage                       `json:"NotPrincipal"`
		Action       json.RawMessage                       `json:"Action"`
		NotAction    json.RawMessage                       `json:"NotAction"`
		Resource     json.RawMessage                       `json:"Resource"`
		NotResource  json.RawMessage                       `json:"NotResource"`
		Condition    map[string]map[string]json.RawMessage `json:"Condition"`
	}
	if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
		return Statement{}, errors.New("a statement must be a JSON object")
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		return Statement{}, err
	}
	s := Statement{Raw: slices.Clone(raw), Sid: in.Sid, Effect: in.Effect}
	var err error
	if s.Principal, err = parsePrincipal(in.Principal); err != nil {
		return Statement{}, elementError("Principal", err)
	}
	if s.NotPrincipal, err = parsePrincipal(in.NotPrincipal); err != nil {
		return Statement{}, elementError("NotPrincipal", err)
	}
	lists := []struct {
		name  string
		raw   json.RawMessage
		dst   *[]string
		lower bool
	}{
		{"Action", in.Action, &s.Action, true},
		{"NotAction", in.NotAction, &s.NotAction, true},
		{"Resource", in.Resource, &s.Resource, false},
		{"NotResource", in.NotResource, &s.NotResource, false},
	}
	for _, l := range lists {
		v, err := stringList(l.raw)
		if err != nil {
			return Statement{}, elementError(l.name, err)
		}
		if l.lower {
			for i := range v {
				v[i] = strings.ToLower(v[i])
			}
		}
		*l.dst = sortedSet(v)
	}
	if s.Condition, err = parseCondition(in.Condition); err != nil {
		return Statement{}, elementError("Condition", err)
	}
	return s, nil
}

// elementError names the policy element (Principal, Action, ...) an error
// is about; the names are IAM's, capitals included.
func elementError(element string, err error) error {
	return fmt.Errorf("%s: %w", element, err)
}

func parsePrincipal(raw json.RawMessage) (map[string][]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	m := map[string][]string{}
	if raw[0] == '"' {
		// "*" is the documented scalar form; anything else AWS would have
		// refused, but reading it as an AWS principal is the least surprise.
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		m["AWS"] = []string{NormalisePrincipal(s)}
		return m, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, errors.New(`must be "*" or an object`)
	}
	for k, v := range obj {
		list, err := stringList(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		if k == "AWS" {
			for i := range list {
				list[i] = NormalisePrincipal(list[i])
			}
		}
		if list = sortedSet(list); list != nil {
			m[k] = list
		}
	}
	if len(m) == 0 {
		return nil, nil
	}
	return m, nil
}

// NormalisePrincipal turns a 12-digit account id into the account's root
// ARN, which is what AWS stores and returns for it; anything else is kept.
func NormalisePrincipal(p string) string {
	return NormalisePrincipalIn("aws", p)
}

// NormalisePrincipalIn is NormalisePrincipal in a partition.
func NormalisePrincipalIn(partition, p string) string {
	if IsAccountID(p) {
		return AccountRootARN(partition, p)
	}
	return p
}

// IsAccountID reports whether s is a 12-digit AWS account id.
func IsAccountID(s string) bool {
	if len(s) != 12 {
		return false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// stringList reads a string or a list of strings; null or absent is nil.
func stringList(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return []string{s}, nil
	}
	var list []string
	if err := json.Unmarshal(raw, &list); err != nil {
		return nil, errors.New("must be a string or a list of strings")
	}
	return list, nil
}

func parseCondition(in map[string]map[string]json.RawMessage) (map[string]map[string][]string, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := map[string]map[string][]string{}
	for op, keys := range in {
		m := map[string][]string{}
		for k, raw := range keys {
			vals, err := conditionValues(raw)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", op, k, err)
			}
			k = strings.ToLower(k)
			m[k] = sortedSet(append(m[k], vals...))
		}
		if len(m) > 0 {
			out[op] = m
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// conditionValues reads a condition value or list of values as text: a
// string is its content, true/false/numbers are their literal JSON text, so
// that false and "false" compare equal as IAM treats them.
func conditionValues(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	items := []json.RawMessage{raw}
	if raw[0] == '[' {
		items = nil
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, err
		}
	}
	var out []string
	for _, it := range items {
		it = bytes.TrimSpace(it)
		switch {
		case len(it) == 0 || string(it) == "null":
		case it[0] == '"':
			var s string
			if err := json.Unmarshal(it, &s); err != nil {
				return nil, err
			}
			out = append(out, s)
		case it[0] == '{' || it[0] == '[':
			return nil, errors.New("a condition value must be a string, a number or a boolean")
		default:
			out = append(out, string(it))
		}
	}
	return out, nil
}

// sortedSet sorts and deduplicates in place; empty becomes nil.
func sortedSet(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	slices.Sort(list)
	return slices.Compact(list)
}

// Equivalent reports whether two statements mean the same thing: every
// normalised element equal, the Sid and the verbatim text aside.
func (s Statement) Equivalent(o Statement) bool {
	return s.Effect == o.Effect &&
		principalsEqual(s.Principal, o.Principal) &&
		principalsEqual(s.NotPrincipal, o.NotPrincipal) &&
		slices.Equal(s.Action, o.Action) &&
		slices.Equal(s.NotAction, o.NotAction) &&
		slices.Equal(s.Resource, o.Resource) &&
		slices.Equal(s.NotResource, o.NotResource) &&
		conditionsEqual(s.Condition, o.Condition)
}

func principalsEqual(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || !slices.Equal(v, w) {
			return false
		}
	}
	return true
}

func conditionsEqual(a, b map[string]map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for op, m := range a {
		n, ok := b[op]
		if !ok || !principalsEqual(m, n) {
			return false
		}
	}
	return true
}

// Foreign returns the statements the tool does not own, in document order.
// A nil document has none.
func (d *PolicyDocument) Foreign() []Statement {
	if d == nil {
		return nil
	}
	var out []Statement
	for _, s := range d.Statements {
		if !OwnedSid(s.Sid) {
			out = append(out, s)
		}
	}
	return out
}

// Owned returns the first statement with the given Sid.
func (d *PolicyDocument) Owned(sid string) (Statement, bool) {
	if d == nil {
		return Statement{}, false
	}
	for _, s := range d.Statements {
		if s.Sid == sid {
			return s, true
		}
	}
	return Statement{}, false
}

// ActionCovers reports whether an IAM action pattern (with * and ?
// wildcards) matches action. IAM matches actions case-insensitively.
func ActionCovers(pattern, action string) bool {
	return wildcardMatch(strings.ToLower(pattern), strings.ToLower(action))
}

// ResourceCovers reports whether an IAM resource pattern (with * and ?
// wildcards) matches an ARN. ARNs are case-sensitive.
func ResourceCovers(pattern, arn string) bool {
	return wildcardMatch(pattern, arn)
}

// wildcardMatch is IAM's matching: * is any run of characters (including
// none, and including '/' and ':', unlike path.Match), ? is one character.
// It backtracks only to the last star, so it is linear in practice.
func wildcardMatch(pattern, s string) bool {
	p, t := []rune(pattern), []rune(s)
	pi, ti := 0, 0
	star, mark := -1, 0
	for ti < len(t) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == t[ti]):
			pi++
			ti++
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, ti
			pi++
		case star >= 0:
			pi = star + 1
			mark++
			ti = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
