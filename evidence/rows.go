// Package evidence turns saved plans (and the run reports of their
// applies) into the formats people and other tools read: one row per
// bucket (or account) and control, as CSV for spreadsheets, a Markdown
// summary for a ticket, and AWS Security Finding Format findings for
// Security Hub. It reads the plan document only, so every format says
// what the plan says.
package evidence

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/s3baseline/s3baseline/baselines"
	"github.com/s3baseline/s3baseline/plan"
	"github.com/s3baseline/s3baseline/report"
	"github.com/s3baseline/s3baseline/settings"
)

// Row statuses.
const (
	Pass    = "pass"    // compliant
	Fail    = "fail"    // a change is pending
	Held    = "held"    // a change apply will not make (held back)
	Finding = "finding" // a report-mode control fails
	Muted   = "muted"   // a finding a config rule mutes
	Exempt  = "exempt"  // a config rule exempts the control
	Error   = "error"   // the bucket could not be judged
	Fixed   = "fixed"   // the run report of an apply says it was made
)

// Row is one resource and control.
type Row struct {
	Time        time.Time
	Account     string
	AccountName string
	// Resource is the bucket name, or "" for an account control; Subject
	// names what a finding is about (an access point, a user).
	Resource, Region, Baseline, Subject string
	Control                             settings.ControlID
	Status                              string
	Detail                              string
	Before, After                       string
	NIST                                []string
	SecurityHub                         []string
	// Made says, for a fixed row, which apply made the change and where its
	// journal (the before-state, for rollback) is.
	Made string
}

// FromPlan makes the rows of a plan: every checked control of every
// bucket (its change, or a pass), every finding, exemption and error, and
// the account changes.
func FromPlan(p *plan.Plan) []Row {
	var rows []Row
	hub := map[settings.ControlID][]string{}
	for _, c := range baselines.Catalog() {
		hub[c.ID] = c.SecurityHub
	}
	byName := baselinesOf(p.Scope.Settings)
	for _, a := range p.Sections() {
		base := Row{Time: p.CreatedAt, Account: a.Account, AccountName: a.Name}
		for _, b := range a.Buckets {
			br := base
			br.Resource, br.Region, br.Baseline = b.Name, b.Region, b.Baseline
			rows = append(rows, reportPasses(br, b, byName[b.Baseline])...)
			for _, c := range b.Changes {
				r := br
				r.Control, r.NIST, r.Detail = c.Control, c.NIST, c.Reason
				r.Status = Pass
				if c.Action != plan.NoOp {
					r.Status, r.Before, r.After = Fail, compact(c.Before), compact(c.After)
					if c.HeldBack != "" {
						r.Status, r.Detail = Held, c.HeldBack
					}
				}
				rows = append(rows, r)
			}
			for _, f := range b.Findings {
				rows = append(rows, findingRow(br, f))
			}
			for _, e := range b.Exempt {
				r := br
				r.Control, r.Status, r.Detail = e.Control, Exempt, e.Reason
				rows = append(rows, r)
			}
			for _, e := range b.Errors {
				r := br
				r.Status, r.Detail = Error, e
				rows = append(rows, r)
			}
		}
		for _, c := range a.AccountChanges {
			r := base
			r.Control, r.NIST, r.Detail, r.Status = c.Control, c.NIST, c.Reason, Pass
			if c.Action != plan.NoOp {
				r.Status, r.Before, r.After = Fail, compact(c.Before), compact(c.After)
			}
			rows = append(rows, r)
		}
		for _, f := range a.Findings {
			rows = append(rows, findingRow(base, f))
		}
		for _, e := range a.Errors {
			r := base
			r.Status, r.Detail = Error, e
			rows = append(rows, r)
		}
	}
	for i := range rows {
		rows[i].SecurityHub = hub[rows[i].Control]
	}
	return rows
}

func findingRow(base Row, f plan.Finding) Row {
	r := base
	r.Control, r.Subject, r.Detail, r.NIST, r.Status = f.Control, f.Subject, f.Detail, f.NIST, Finding
	if f.Muted != nil {
		r.Status = Muted
		r.Detail += " (muted: " + f.Muted.Reason + ")"
	}
	return r
}

// MarkFixed marks the rows an apply's run report says were fixed.
func MarkFixed(rows []Row, rep *report.Report) {
	fixed := map[[3]string]bool{}
	for _, a := range rep.Accounts {
		for _, b := range a.Buckets {
			for _, c := range b.Fixed {
				fixed[[3]string{a.Account, b.Name, string(c)}] = true
			}
		}
		for _, c := range a.AccountControls {
			if c.Status == report.StatusFixed {
				fixed[[3]string{a.Account, "", string(c.Control.Control)}] = true
			}
		}
	}
	made := "made by s3baseline apply, " + rep.StartedAt.UTC().Format(time.RFC3339)
	if rep.Journal != "" {
		made += "; journal " + rep.Journal
	}
	for i := range rows {
		if rows[i].Status == Fail && fixed[[3]string{rows[i].Account, rows[i].Resource, string(rows[i].Control)}] {
			rows[i].Status, rows[i].Made = Fixed, made
		}
	}
}

// Sort orders rows by account, resource, then plan order of the control.
func Sort(rows []Row) {
	order := append(slices.Clone(settings.BucketControls), settings.AccountControls...)
	slices.SortStableFunc(rows, func(a, b Row) int {
		if c := strings.Compare(a.Account, b.Account); c != 0 {
			return c
		}
		if c := strings.Compare(a.Resource, b.Resource); c != 0 {
			return c
		}
		return slices.Index(order, a.Control) - slices.Index(order, b.Control)
	})
}

func compact(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var buf bytes.Buffer
	if json.Compact(&buf, raw) != nil {
		return string(raw)
	}
	return buf.String()
}

// baselinesOf are the baselines a plan's config names, by name.
func baselinesOf(cfg *baselines.Config) map[string]*baselines.Baseline {
	out := map[string]*baselines.Baseline{}
	if cfg == nil {
		return out
	}
	if cfg.Baseline != nil {
		out[cfg.Baseline.Name] = cfg.Baseline
	}
	for _, r := range cfg.Rules {
		if r.Baseline != nil {
			out[r.Baseline.Name] = r.Baseline
		}
	}
	return out
}

// reportPasses are the passes of a bucket's report-mode controls: those its
// baseline reports, judged (their aspects observed), with no finding and
// no exemption. A plan lists only what fails them.
func reportPasses(br Row, b plan.BucketPlan, bl *baselines.Baseline) []Row {
	if bl == nil || b.Directory {
		return nil
	}
	var out []Row
	for _, id := range plan.Reported(baselines.Assignment{Baseline: bl}) {
		if slices.ContainsFunc(b.Findings, func(f plan.Finding) bool { return f.Control == id }) ||
			slices.ContainsFunc(b.Exempt, func(e plan.Exemption) bool { return e.Control == id }) {
			continue
		}
		judged := true
		for _, asp := range settings.AspectsFor(id) {
			judged = judged && slices.Contains(b.Observed, asp)
		}
		if !judged {
			continue
		}
		r := br
		r.Control, r.Status, r.Detail = id, Pass, "reported: complies"
		if spec, ok := bl.Spec(id); ok {
			r.NIST = spec.NIST
		}
		out = append(out, r)
	}
	return out
}
