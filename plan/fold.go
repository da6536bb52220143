package plan

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/s3baseline/s3baseline/settings"
)

// The text plan is read by people, also for estates of thousands of
// buckets: prose is wrapped, and long values (a trail's selectors, a policy
// statement) are cut, saying how much was left out; `plan --json` has
// them whole.
const (
	// lineWidth is the widest a wrapped line of the text plan gets.
	lineWidth = 160
	// maxValue is the longest a value is shown: the tool's own statements
	// are shown whole (they are what is reviewed), a trail's hundreds of
	// selector values are not.
	maxValue = 600
)

// foldValue shortens a value longer than maxValue: a JSON list keeps the
// items that fit and counts the rest; anything else is cut, with its
// length.
func foldValue(v string) string {
	if utf8.RuneCountInString(v) <= maxValue {
		return v
	}
	var items []json.RawMessage
	if strings.HasPrefix(v, "[") && json.Unmarshal([]byte(v), &items) == nil && len(items) > 1 {
		shown := "["
		n := 0
		for _, it := range items {
			s := string(it)
			if utf8.RuneCountInString(shown)+utf8.RuneCountInString(s) > maxValue-40 {
				break
			}
			if n > 0 {
				shown += ","
			}
			shown += s
			n++
		}
		if n > 0 {
			return fmt.Sprintf("%s, … +%d more]", shown, len(items)-n)
		}
	}
	cut := []rune(v)[:maxValue-10]
	return fmt.Sprintf("%s… (%d characters)", string(cut), utf8.RuneCountInString(v))
}

// chunks breaks a long value (JSON with no spaces) into pieces of at most
// width runes, after a comma where there is one.
func chunks(v string, width int) []string {
	var out []string
	r := []rune(v)
	for len(r) > width {
		cut := width
		for i := width; i > width/2; i-- {
			if r[i-1] == ',' {
				cut = i
				break
			}
		}
		out = append(out, string(r[:cut]))
		r = r[cut:]
	}
	return append(out, string(r))
}

// wrap breaks text into lines of at most width runes at spaces; a word
// longer than that (a JSON value) is folded and broken into pieces.
func wrap(text string, width int) []string {
	var lines []string
	var cur strings.Builder
	var words []string
	for _, w := range strings.Fields(text) {
		if utf8.RuneCountInString(w) > width {
			words = append(words, chunks(foldValue(w), width)...)
			continue
		}
		words = append(words, w)
	}
	for _, w := range words {
		if cur.Len() > 0 && utf8.RuneCountInString(cur.String())+1+utf8.RuneCountInString(w) > width {
			lines = append(lines, cur.String())
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteByte(' ')
		}
		cur.WriteString(w)
	}
	if cur.Len() > 0 || len(lines) == 0 {
		lines = append(lines, cur.String())
	}
	return lines
}

// para prints text after indent and label, wrapped to lineWidth, the
// continuation lines aligned under the text. label is shown painted, its
// width is that of plain.
func (r *renderer) para(indent, plain, painted, text string) {
	pad := indent + strings.Repeat(" ", utf8.RuneCountInString(plain))
	for i, l := range wrap(text, lineWidth-utf8.RuneCountInString(pad)) {
		if i == 0 {
			r.printf("%s%s%s\n", indent, painted, l)
		} else {
			r.printf("%s%s\n", pad, l)
		}
	}
}

// controlTally is one control's line of the per-control summary.
type controlTally struct {
	changes, held, findings int
}

// controlSummary counts, per control, the changes (bucket and account),
// how many of them are held back, and the findings no rule mutes.
func controlSummary(p *Plan) (map[settings.ControlID]*controlTally, []settings.ControlID) {
	m := map[settings.ControlID]*controlTally{}
	get := func(id settings.ControlID) *controlTally {
		if m[id] == nil {
			m[id] = &controlTally{}
		}
		return m[id]
	}
	count := func(cs []Change) {
		for _, c := range cs {
			if c.Action == NoOp {
				continue
			}
			t := get(c.Control)
			t.changes++
			if c.HeldBack != "" {
				t.held++
			}
		}
	}
	for _, a := range p.Sections() {
		for b := range a.EachBucket() {
			count(b.Changes)
			for _, f := range b.Findings {
				if f.Muted == nil {
					get(f.Control).findings++
				}
			}
		}
		count(a.AccountChanges)
		for _, f := range a.Findings {
			if f.Muted == nil {
				get(f.Control).findings++
			}
		}
	}
	var ids []settings.ControlID
	for id := range m {
		ids = append(ids, id)
	}
	order := append(slices.Clone(settings.BucketControls), settings.AccountControls...)
	slices.SortFunc(ids, func(a, b settings.ControlID) int { return slices.Index(order, a) - slices.Index(order, b) })
	return m, ids
}

// perControl prints the per-control summary.
func (r *renderer) perControl(p *Plan) {
	m, ids := controlSummary(p)
	if len(ids) == 0 {
		return
	}
	r.printf("\nPer control:\n")
	for _, id := range ids {
		t := m[id]
		var parts []string
		if t.changes > 0 {
			s := count(t.changes, "change")
			if t.held > 0 {
				s += fmt.Sprintf(" (%d held back)", t.held)
			}
			parts = append(parts, s)
		}
		if t.findings > 0 {
			parts = append(parts, count(t.findings, "finding"))
		}
		r.printf("  %-28s %s\n", string(id)+":", strings.Join(parts, ", "))
	}
}
