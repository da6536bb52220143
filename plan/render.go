package plan

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/s3baseline/s3baseline/settings"
)

// RenderOptions control the text rendering.
type RenderOptions struct {
	// Color marks + ~ - (and warnings, errors) with ANSI colours.
	Color bool
	// Summary prints only the header, the per-control summary and the
	// closing line (plan --summary).
	Summary bool
}

// maxCompliantNames is how many compliant buckets the closing line names
// before it just counts the rest.
const maxCompliantNames = 10

// Render writes the plan for people. It reads only the plan document, the
// same data `--json` prints, so the two can never disagree.
func Render(w io.Writer, p *Plan, o RenderOptions) error {
	t := NewTextRenderer(w, o)
	if len(p.Accounts) > 0 {
		t.r.printf("Organization plan: %s, baseline %s\n", count(len(p.Accounts), "account"), orDash(p.Baseline.Name))
		if o.Summary {
			return t.Tail(p)
		}
		t.r.legend()
		for i := range p.Accounts {
			a := &p.Accounts[i]
			name := ""
			if a.Name != "" {
				name = " (" + a.Name + ")"
			}
			t.r.printf("\n## account %s%s, caller %s\n", a.Account, name, orDash(a.Caller))
			for j := range a.Buckets {
				t.r.bucketIfShown(&a.Buckets[j])
			}
			t.r.accountTail(a)
		}
		t.r.perControl(p)
		t.r.printf("\n%s\n", closingLine(p))
		return t.r.err
	}
	if err := t.Head(p); err != nil {
		return err
	}
	for i := range p.Buckets {
		if err := t.Bucket(&p.Buckets[i]); err != nil {
			return err
		}
	}
	return t.Tail(p)
}

// TextRenderer renders a one-account plan as a Sink, one bucket at a time
// as Build makes them; the account's results, the per-control summary and
// the closing line come at the end. The plan it is given at Tail may hold
// its buckets Slim: what the end needs, Slim keeps.
type TextRenderer struct {
	r       *renderer
	summary bool
}

// NewTextRenderer renders to w.
func NewTextRenderer(w io.Writer, o RenderOptions) *TextRenderer {
	return &TextRenderer{r: &renderer{w: w, color: o.Color}, summary: o.Summary}
}

// Head implements Sink.
func (t *TextRenderer) Head(p *Plan) error {
	t.r.printf("Account %s, caller %s, baseline %s\n", orDash(p.Account), orDash(p.Caller), orDash(p.Baseline.Name))
	if !t.summary {
		t.r.legend()
	}
	return t.r.err
}

// Bucket implements Sink.
func (t *TextRenderer) Bucket(b *BucketPlan) error {
	if !t.summary {
		t.r.bucketIfShown(b)
	}
	return t.r.err
}

// Tail implements Sink.
func (t *TextRenderer) Tail(p *Plan) error {
	if !t.summary && len(p.Accounts) == 0 {
		t.r.accountTail(&p.AccountPlan)
	}
	t.r.perControl(p)
	t.r.printf("\n%s\n", closingLine(p))
	return t.r.err
}

// legend explains the symbols once, as Terraform's plan does.
func (r *renderer) legend() {
	r.printf("Symbols: %s create, %s update, %s delete; \"report:\" lines are findings, which are never changed.\n",
		r.symbol(Create), r.symbol(Update), r.symbol(Delete))
}

// bucketIfShown renders a bucket that has something to say: a compliant
// bucket with no exemption, warning or finding is only counted (see
// accountTail).
func (r *renderer) bucketIfShown(b *BucketPlan) {
	if b.pending() == 0 && len(b.Exempt) == 0 && len(b.Warnings) == 0 && len(b.Errors) == 0 && len(b.Findings) == 0 {
		return
	}
	r.bucket(b)
}

// accountTail renders what of an account's part comes after its buckets:
// its errors, its changes and warnings, its findings, and the buckets that
// comply (which a Slim bucket still tells).
func (r *renderer) accountTail(a *AccountPlan) {
	for _, e := range a.Errors {
		r.para("", "error: ", r.paint("31", "error:")+" ", e)
	}
	var compliant []string
	n := 0
	for b := range a.EachBucket() {
		if b.Compliant() {
			if n++; n <= maxCompliantNames {
				compliant = append(compliant, b.Name)
			}
		}
	}
	if pending(a.AccountChanges) > 0 || len(a.Warnings) > 0 {
		r.printf("\n# account %s\n", orDash(a.Account))
		for _, c := range a.AccountChanges {
			if c.Action != NoOp {
				r.change(c)
			}
		}
		for _, w := range a.Warnings {
			r.para("  ", "! ", r.paint("33", "!")+" ", w)
		}
	}
	if len(a.Findings) > 0 {
		r.printf("\nFindings (report only, nothing is changed):\n")
		for _, f := range a.Findings {
			head := mutedTag(f) + string(f.Control) + " " + f.Subject + ": "
			r.para("  ", head, head, f.Detail)
		}
	}
	if n > 0 {
		names := strings.Join(compliant, ", ")
		if n > maxCompliantNames {
			names += fmt.Sprintf(" and %d more", n-maxCompliantNames)
		}
		r.printf("\n")
		r.para("", "", "", fmt.Sprintf("%s already %s: %s", count(n, "bucket"), plural(n, "complies", "comply"), names))
	}
}

// closingLine is the Terraform-like last line.
func closingLine(p *Plan) string {
	s := Summarize(p)
	if p.Empty() && s.Errors == 0 {
		if s.Buckets == 0 {
			return "No changes. No buckets in scope."
		}
		return fmt.Sprintf("No changes. All %s in scope comply with their baselines.", count(s.Buckets, "bucket"))
	}
	n := ActionCounts(p)
	on := count(s.ToChange, "bucket")
	accounts := 0
	for _, a := range p.Sections() {
		if pending(a.AccountChanges) > 0 {
			accounts++
		}
	}
	switch {
	case accounts == 1 && len(p.Accounts) == 0:
		on += " and the account"
	case accounts > 0:
		on += " and " + count(accounts, "account")
	}
	return fmt.Sprintf("Plan: %s on %s (%d to create, %d to update, %d to delete); %s %s; %s.",
		count(s.Changes, "change"), on, n[Create], n[Update], n[Delete],
		count(s.Compliant, "bucket"), plural(s.Compliant, "complies", "comply"), count(s.Errors, "error"))
}

type renderer struct {
	w     io.Writer
	color bool
	err   error
}

func (r *renderer) printf(format string, args ...any) {
	if r.err == nil {
		_, r.err = fmt.Fprintf(r.w, format, args...)
	}
}

// paint wraps s in an ANSI colour when colour is on.
func (r *renderer) paint(code, s string) string {
	if !r.color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func (r *renderer) symbol(a Action) string {
	switch a {
	case Create:
		return r.paint("32", a.Symbol())
	case Update:
		return r.paint("33", a.Symbol())
	case Delete:
		return r.paint("31", a.Symbol())
	}
	return a.Symbol()
}

func (r *renderer) bucket(b *BucketPlan) {
	r.printf("\n# bucket %q (%s) — baseline %s\n", b.Name, b.Region, b.Baseline)
	for _, c := range b.Changes {
		if c.Action != NoOp {
			r.change(c)
		}
	}
	for _, e := range b.Exempt {
		detail := "exempt"
		if e.Until != "" {
			detail += " until " + e.Until
		}
		if e.Reason != "" {
			detail += ": " + e.Reason
		}
		r.para("  ", "skipped: ", "skipped: ", string(e.Control)+" ("+detail+")")
	}
	for _, f := range b.Findings {
		head := "report: " + mutedTag(f) + string(f.Control) + ": "
		r.para("  ", head, head, f.Detail)
	}
	for _, w := range b.Warnings {
		r.para("  ", "! ", r.paint("33", "!")+" ", w)
	}
	for _, e := range b.Errors {
		r.para("  ", "error: ", r.paint("31", "error:")+" ", e)
	}
	if k := b.Preserved; k != nil {
		for _, s := range k.PolicyStatements {
			// A Sid has no spaces; a label with one is positional
			// ("statement 2 (no Sid)").
			if strings.HasPrefix(s, "statement ") {
				r.printf("  kept: policy %s\n", s)
			} else {
				r.printf("  kept: policy statement %s\n", s)
			}
		}
		for _, n := range k.Notifications {
			r.printf("  kept: notification %s\n", n)
		}
	}
}

func (r *renderer) change(c Change) {
	nist := ""
	if len(c.NIST) > 0 {
		nist = " (" + strings.Join(c.NIST, ", ") + ")"
	}
	r.printf("  %s %s%s\n", r.symbol(c.Action), c.Control, nist)
	for _, l := range fieldLines(c) {
		// A long value goes on under itself: after "key: " or "-> ".
		trimmed := strings.TrimLeft(l, " ")
		pad := len(l) - len(trimmed) + 3
		if !strings.HasPrefix(trimmed, "-> ") {
			pad = strings.Index(l, ": ") + 2
		}
		first := chunks(l, lineWidth-6)
		if len(first) == 1 {
			r.printf("      %s\n", l)
			continue
		}
		rest := chunks(strings.Join(first[1:], ""), lineWidth-6-pad)
		r.printf("      %s\n", first[0])
		for _, piece := range rest {
			r.printf("      %s%s\n", strings.Repeat(" ", pad), piece)
		}
	}
	if c.Reason != "" {
		r.para("      ", "# ", "# ", c.Reason)
	}
	for _, imp := range c.Impact {
		r.para("      ", "! impact: ", r.paint("31", "! impact:")+" ", imp)
	}
	switch {
	case c.HeldBack != "":
		r.para("      ", "! held back: ", r.paint("31", "! held back:")+" ", c.HeldBack)
	case len(c.Impact) > 0:
		r.printf("      %s\n", r.paint("31", "! held back by apply unless --allow-impact"))
	}
}

// fieldLines shows what a change does, "key: before -> after". Policy
// statements and notification entries are shown whole, since a partial
// statement means nothing; other settings field by field, changed fields
// only.
func fieldLines(c Change) []string {
	switch c.Control {
	case settings.TLSOnly, settings.AdminPolicyLock:
		return change1("statement", compactValue(c.Before), compactValue(c.After))
	case settings.EventNotifications:
		return change1("entry", compactValue(c.Before), compactValue(c.After))
	}
	before, bok := objectFields(c.Before)
	after, aok := objectFields(c.After)
	if !bok || !aok {
		return change1("value", compactValue(c.Before), compactValue(c.After))
	}
	var keys []string
	seen := map[string]bool{}
	for _, f := range append(after, before...) {
		if !seen[f.key] {
			seen[f.key] = true
			keys = append(keys, f.key)
		}
	}
	if c.Control == settings.BlockSSEC {
		// The whole rule is its before and after (apply compares and
		// swaps it whole); the control itself is the one field.
		keys = []string{"blocked_encryption_types"}
	}
	var lines []string
	for _, k := range keys {
		b, a := lookup(before, k), lookup(after, k)
		if b != a {
			lines = append(lines, change1(k, b, a)...)
		}
	}
	return lines
}

// change1 is one field's "key: before -> after", the values folded, on
// two lines when one would be too wide.
func change1(key, before, after string) []string {
	before, after = foldValue(before), foldValue(after)
	line := key + ": " + before + " -> " + after
	if len(line) <= lineWidth-6 {
		return []string{line}
	}
	return []string{key + ": " + before, strings.Repeat(" ", len(key)) + "  -> " + after}
}

type field struct{ key, value string }

// objectFields reads a JSON object's top-level fields in document order,
// each value compacted; null is an object with no fields. ok is false for
// anything that is not an object or null.
func objectFields(raw json.RawMessage) (fields []field, ok bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, true
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, false
		}
		key, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		fields = append(fields, field{key, compactValue(v)})
	}
	return fields, true
}

func lookup(fields []field, key string) string {
	for _, f := range fields {
		if f.key == key {
			return f.value
		}
	}
	return "(absent)"
}

// compactValue is a JSON value on one line, or (absent) for null.
func compactValue(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "(absent)"
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, raw); err != nil {
		return string(raw)
	}
	return buf.String()
}

// nameList joins names, naming at most maxCompliantNames.
func nameList(names []string) string {
	if len(names) <= maxCompliantNames {
		return strings.Join(names, ", ")
	}
	return strings.Join(names[:maxCompliantNames], ", ") + fmt.Sprintf(" and %d more", len(names)-maxCompliantNames)
}

func count(n int, noun string) string {
	return fmt.Sprintf("%d %s", n, plural(n, noun, noun+"s"))
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// mutedTag marks a muted finding: "(muted until 2027-06-30: reason) ".
func mutedTag(f Finding) string {
	m := f.Muted
	if m == nil {
		return ""
	}
	s := "(muted"
	if m.Until != "" {
		s += " until " + m.Until
	}
	if m.Reason != "" {
		s += ": " + m.Reason
	}
	return s + ") "
}
