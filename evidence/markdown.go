package evidence

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/s3baseline/s3baseline/settings"
)

// maxTop is how many failing controls the Markdown summary lists.
const maxTop = 10

// WriteMarkdown writes a summary short enough for a ticket or a pull
// request: the totals, a per-control table and the top failures, with no
// links.
func WriteMarkdown(w io.Writer, rows []Row) error {
	var b strings.Builder
	buckets, accounts := map[string]bool{}, map[string]bool{}
	failing := map[string]bool{}
	for _, r := range rows {
		accounts[r.Account] = true
		if r.Resource != "" {
			key := r.Account + "/" + r.Resource
			buckets[key] = true
			if r.Status == Fail || r.Status == Held || r.Status == Finding || r.Status == Error {
				failing[key] = true
			}
		}
	}
	fmt.Fprintf(&b, "## s3baseline: %d of %d buckets comply (%d %s)\n\n", len(buckets)-len(failing), len(buckets),
		len(accounts), plural(len(accounts), "account", "accounts"))
	b.WriteString("| control | pass | fail | held back | findings | fixed | exempt |\n|---|---|---|---|---|---|---|\n")
	type tally struct{ pass, fail, held, finding, fixed, exempt int }
	t := map[settings.ControlID]*tally{}
	var ids []settings.ControlID
	for _, r := range rows {
		if r.Control == "" {
			continue
		}
		if t[r.Control] == nil {
			t[r.Control] = &tally{}
			ids = append(ids, r.Control)
		}
		x := t[r.Control]
		switch r.Status {
		case Pass:
			x.pass++
		case Fail:
			x.fail++
		case Held:
			x.held++
		case Finding:
			x.finding++
		case Fixed:
			x.fixed++
		case Exempt:
			x.exempt++
		}
	}
	order := append(slices.Clone(settings.BucketControls), settings.AccountControls...)
	slices.SortFunc(ids, func(a, b settings.ControlID) int { return slices.Index(order, a) - slices.Index(order, b) })
	for _, id := range ids {
		x := t[id]
		fmt.Fprintf(&b, "| `%s` | %d | %d | %d | %d | %d | %d |\n", id, x.pass, x.fail, x.held, x.finding, x.fixed, x.exempt)
	}
	var top []Row
	for _, r := range rows {
		if r.Status == Fail || r.Status == Held || r.Status == Finding || r.Status == Error {
			top = append(top, r)
		}
	}
	if len(top) > 0 {
		b.WriteString("\n### Top findings\n\n")
		for i, r := range top {
			if i == maxTop {
				fmt.Fprintf(&b, "- … and %d more\n", len(top)-maxTop)
				break
			}
			where := r.Resource
			if where == "" {
				where = "account " + r.Account
				if r.Subject != "" {
					where = r.Subject
				}
			}
			what := "`" + string(r.Control) + "`"
			if r.Control == "" {
				what = "reading it"
			}
			fmt.Fprintf(&b, "- **%s** %s (%s): %s\n", r.Status, what, where, oneLine(r.Detail, 160))
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
