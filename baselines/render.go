package baselines

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes a baseline as indented JSON (`baselines show NAME --json`).
func WriteJSON(w io.Writer, b *Baseline) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(b)
}

// Render writes a baseline as a table for people (`baselines show NAME`).
func Render(w io.Writer, b *Baseline) error {
	fmt.Fprintf(w, "baseline %s — %s\n", b.Name, b.Description)
	if b.Source != "" && b.Source != "builtin" {
		fmt.Fprintf(w, "from %s\n", b.Source)
	}
	fmt.Fprintf(w, "default encryption level: %s\n\n", b.Encryption)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CONTROL\tMODE\tSECURITY HUB\tNIST SP 800-53\tCOMPLIANT WHEN")
	for _, c := range b.Controls {
		hub := "-"
		if e, ok := catalogEntry(c.ID); ok && len(e.SecurityHub) > 0 {
			hub = strings.Join(e.SecurityHub, ",")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", c.ID, c.Mode, hub, strings.Join(c.NIST, ", "), c.Compliant)
	}
	return tw.Flush()
}

// CatalogueMarkdown is the README's control tables, generated from the
// catalogue and the built-in baselines: one table of bucket controls, one
// of account controls, with each built-in's mode, the NIST SP 800-53
// mapping and its source, and the Security Hub and CIS ids.
func CatalogueMarkdown() string {
	var b strings.Builder
	builtins := make([]*Baseline, 0, 3)
	for _, n := range BuiltinNames() {
		bl, _ := Builtin(n)
		builtins = append(builtins, bl)
	}
	for i, scope := range []string{"bucket", "account"} {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "| %s control | compliant when | low | medium | high | NIST SP 800-53 (source) | Security Hub | CIS |\n", scope)
		b.WriteString("|---|---|---|---|---|---|---|---|\n")
		for _, c := range catalog() {
			if c.Scope != scope {
				continue
			}
			fmt.Fprintf(&b, "| `%s` | %s |", c.ID, mdCell(c.Compliant))
			for _, bl := range builtins {
				mode := "–"
				if s, ok := bl.Spec(c.ID); ok {
					mode = s.Mode
				}
				fmt.Fprintf(&b, " %s |", mode)
			}
			fmt.Fprintf(&b, " %s (%s) | %s | %s |\n", strings.Join(c.NIST, ", "), mdCell(c.NISTSource), dash(strings.Join(c.SecurityHub, ", ")), dash(strings.Join(c.CIS, ", ")))
		}
	}
	b.WriteString("\nNot applicable:\n\n")
	na := NotApplicable()
	for _, id := range slices.Sorted(maps.Keys(na)) {
		fmt.Fprintf(&b, "- Security Hub %s: %s.\n", id, na[id])
	}
	return b.String()
}

// RenderCatalogue writes the catalogue for people (`baselines catalogue`).
func RenderCatalogue(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CONTROL\tSCOPE\tLOW\tMEDIUM\tHIGH\tSECURITY HUB\tCIS\tNIST SP 800-53 (SOURCE)")
	for _, c := range catalog() {
		modes := make([]string, 0, 3)
		for _, n := range BuiltinNames() {
			bl, _ := Builtin(n)
			mode := "-"
			if s, ok := bl.Spec(c.ID); ok {
				mode = s.Mode
			}
			modes = append(modes, mode)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.ID, c.Scope, strings.Join(modes, "\t"),
			dash(strings.Join(c.SecurityHub, ",")), dash(strings.Join(c.CIS, ",")), strings.Join(c.NIST, ", ")+" ("+c.NISTSource+")")
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, c := range catalog() {
		fmt.Fprintf(w, "\n%s: %s\n  fix: %s\n", c.ID, c.Compliant, c.Fix)
	}
	na := NotApplicable()
	for _, id := range slices.Sorted(maps.Keys(na)) {
		fmt.Fprintf(w, "\nSecurity Hub %s: not applicable: %s\n", id, na[id])
	}
	return nil
}

// WriteCatalogueJSON writes the catalogue as JSON (`baselines catalogue --json`).
func WriteCatalogueJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		Controls      []Control         `json:"controls"`
		NotApplicable map[string]string `json:"security_hub_not_applicable"`
	}{catalog(), NotApplicable()})
}

func mdCell(s string) string { return strings.ReplaceAll(s, "|", "\\|") }

func dash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
