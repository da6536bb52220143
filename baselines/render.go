package baselines

import (
	"encoding/json"
	"fmt"
	"io"
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
	fmt.Fprintln(tw, "CONTROL\tMODE\tNIST SP 800-53\tCOMPLIANT WHEN")
	for _, c := range b.Controls {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.ID, c.Mode, strings.Join(c.NIST, ", "), c.Compliant)
	}
	return tw.Flush()
}
