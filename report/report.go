// Package report makes the run report of `plan --report` and `apply
// --report`: one JSON document per run saying, per account and bucket,
// what drifted from the baseline, what was fixed, what failed and which
// NIST controls were concerned. It is what a scheduled job keeps, alerts
// on and feeds to a dashboard; the README documents its fields.
package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/s3baseline/s3baseline/apply"
	"github.com/s3baseline/s3baseline/plan"
	"github.com/s3baseline/s3baseline/settings"
)

// Version is the report format version.
const Version = 1

// Bucket and account statuses.
const (
	// StatusCompliant: nothing drifted.
	StatusCompliant = "compliant"
	// StatusDrifted: changes are pending (a plan run, or an apply that
	// held them back or did not reach them).
	StatusDrifted = "drifted"
	// StatusFixed: apply made every pending change.
	StatusFixed = "fixed"
	// StatusFailed: apply failed, or the bucket was stale.
	StatusFailed = "failed"
	// StatusError: the bucket or account could not be checked.
	StatusError = "error"
	// StatusCreated: a bucket the tool created on the way (a log bucket,
	// the trail's bucket) and brought to its baseline.
	StatusCreated = "created"
)

// Report is the run report.
type Report struct {
	ReportVersion int       `json:"report_version"`
	ToolVersion   string    `json:"tool_version"`
	Command       string    `json:"command"` // plan | apply
	StartedAt     time.Time `json:"started_at"`
	FinishedAt    time.Time `json:"finished_at"`
	Baseline      string    `json:"baseline"`
	Shard         string    `json:"shard,omitempty"`
	ExitCode      int       `json:"exit_code"`
	// Error is why the run failed, one line; "" when it did not, or when
	// its failures are the buckets' and accounts' own, reported there.
	Error    string    `json:"error,omitempty"`
	Journal  string    `json:"journal,omitempty"`
	Accounts []Account `json:"accounts"`
	Totals   Totals    `json:"totals"`
}

// Account is one account's part.
type Account struct {
	Account string   `json:"account"`
	Name    string   `json:"name,omitempty"`
	Caller  string   `json:"caller,omitempty"`
	Status  string   `json:"status"`
	Errors  []string `json:"errors"`
	// Warnings are the account's (a held-back account control).
	Warnings        []string         `json:"warnings"`
	Buckets         []Bucket         `json:"buckets"`
	AccountControls []AccountControl `json:"account_controls"`
	Findings        []Finding        `json:"findings"`
}

// Bucket is one bucket's part.
type Bucket struct {
	Name     string    `json:"name"`
	Region   string    `json:"region"`
	Baseline string    `json:"baseline"`
	Status   string    `json:"status"`
	Drift    []Control `json:"drift"`
	// Fixed lists the drifted controls apply put right.
	Fixed []settings.ControlID `json:"fixed"`
	// HeldBack are drifted controls apply did not make on purpose (an
	// impact without --allow-impact, a lock-out, an overlap, a refusal S3
	// would give), each with its reason.
	HeldBack []string `json:"held_back"`
	Errors   []string `json:"errors"`
}

// Control is one drifted control: what the plan would do and why it
// matters.
type Control struct {
	Control settings.ControlID `json:"control"`
	Action  plan.Action        `json:"action"`
	NIST    []string           `json:"nist"`
	Reason  string             `json:"reason"`
}

// AccountControl is an account-level control's drift and outcome.
type AccountControl struct {
	Control
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// Finding is a report-only finding.
type Finding struct {
	Control settings.ControlID `json:"control"`
	Subject string             `json:"subject"`
	Detail  string             `json:"detail"`
	NIST    []string           `json:"nist"`
}

// Totals count the report.
type Totals struct {
	Accounts  int `json:"accounts"`
	Buckets   int `json:"buckets"`
	Compliant int `json:"compliant"`
	Drifted   int `json:"drifted"`
	Fixed     int `json:"fixed"`
	Created   int `json:"created"`
	Failed    int `json:"failed"`
	Errors    int `json:"errors"`
	Findings  int `json:"findings"`
}

// Run describes the run the report is of.
type Run struct {
	Command     string
	ToolVersion string
	StartedAt   time.Time
	FinishedAt  time.Time
	ExitCode    int
	Error       string
	Journal     string
}

// Build makes the report of a plan and, for apply, its outcomes (nil for a
// plan run: every pending change is drift). p is nil for a run that failed
// before it had a plan (a bad config, no credentials): the report then says
// only that, with the error and the exit code, so that it never looks like
// an empty estate.
func Build(p *plan.Plan, outcomes []apply.Outcome, run Run) *Report {
	r := &Report{
		ReportVersion: Version, ToolVersion: run.ToolVersion, Command: run.Command,
		StartedAt: run.StartedAt.UTC(), FinishedAt: run.FinishedAt.UTC(),
		ExitCode: run.ExitCode, Error: run.Error, Journal: run.Journal,
		Accounts: []Account{},
	}
	if p == nil {
		return r
	}
	r.Baseline, r.Shard = p.Baseline.Name, p.Scope.Shard
	type key struct{ account, bucket, region string }
	bucketOut := map[key]apply.Outcome{}
	controlOut := map[key]apply.Outcome{}
	accountErr := map[string][]string{}
	for _, o := range outcomes {
		switch {
		case o.Control != "":
			controlOut[key{o.Account, string(o.Control), ""}] = o
		case o.Bucket == "":
			// The account itself failed (its role could not be assumed).
			if o.Err != nil {
				accountErr[o.Account] = append(accountErr[o.Account], o.Err.Error())
			}
		default:
			bucketOut[key{o.Account, o.Bucket, o.Region}] = o
		}
	}
	applied := run.Command == "apply"
	for _, sec := range p.Sections() {
		a := Account{Account: sec.Account, Name: sec.Name, Caller: sec.Caller,
			Errors: nonNil(append(slices.Clone(sec.Errors), accountErr[sec.Account]...)), Warnings: nonNil(sec.Warnings),
			Buckets: []Bucket{}, AccountControls: []AccountControl{}, Findings: []Finding{}}
		for b := range sec.EachBucket() {
			rb := Bucket{Name: b.Name, Region: b.Region, Baseline: b.Baseline, Drift: []Control{},
				Fixed: []settings.ControlID{}, HeldBack: []string{}, Errors: nonNil(slices.Clone(b.Errors))}
			for _, c := range b.Changes {
				if c.Action != plan.NoOp {
					rb.Drift = append(rb.Drift, control(c))
				}
			}
			rb.Status = bucketStatus(rb, applied, bucketOut[key{sec.Account, b.Name, b.Region}], &rb)
			a.Buckets = append(a.Buckets, rb)
		}
		for _, c := range sec.AccountChanges {
			if c.Action == plan.NoOp {
				continue
			}
			ac := AccountControl{Control: control(c), Status: StatusDrifted}
			if applied {
				o, ok := controlOut[key{sec.Account, string(c.Control), ""}]
				switch {
				case !ok:
				case o.Status == apply.StatusApplied:
					ac.Status = StatusFixed
				case o.Status == apply.StatusFailed || o.Status == apply.StatusStale:
					ac.Status = StatusFailed
				}
				if ok && o.Err != nil {
					ac.Error = o.Err.Error()
				}
			}
			a.AccountControls = append(a.AccountControls, ac)
		}
		for _, f := range sec.Findings {
			a.Findings = append(a.Findings, Finding{Control: f.Control, Subject: f.Subject, Detail: f.Detail, NIST: nonNil(f.NIST)})
		}
		a.Status = accountStatus(a)
		r.Accounts = append(r.Accounts, a)
	}
	// Buckets the tool created on the way (a log bucket) are reported with
	// their account.
	for _, o := range outcomes {
		if o.Control != "" || o.Bucket == "" || inPlan(p, o) {
			continue
		}
		for i := range r.Accounts {
			if r.Accounts[i].Account == o.Account || len(r.Accounts) == 1 {
				rb := Bucket{Name: o.Bucket, Region: o.Region, Baseline: "", Drift: []Control{}, Fixed: []settings.ControlID{},
					HeldBack: nonNil(o.HeldBack), Errors: []string{}}
				rb.Status = bucketStatus(rb, true, o, &rb)
				if rb.Status == StatusFixed {
					rb.Status = StatusCreated
				}
				r.Accounts[i].Buckets = append(r.Accounts[i].Buckets, rb)
				r.Accounts[i].Status = accountStatus(r.Accounts[i])
				break
			}
		}
	}
	r.Totals = totals(r)
	return r
}

func inPlan(p *plan.Plan, o apply.Outcome) bool {
	for _, sec := range p.Sections() {
		for b := range sec.EachBucket() {
			if b.Name == o.Bucket && b.Region == o.Region {
				return true
			}
		}
	}
	return false
}

func control(c plan.Change) Control {
	return Control{Control: c.Control, Action: c.Action, NIST: nonNil(slices.Clone(c.NIST)), Reason: c.Reason}
}

// bucketStatus decides a bucket's status and fills Fixed and HeldBack from
// its apply outcome.
func bucketStatus(b Bucket, applied bool, o apply.Outcome, out *Bucket) string {
	if len(b.Errors) > 0 && o.Status == "" {
		return StatusError
	}
	if !applied || o.Status == "" {
		if len(b.Drift) > 0 {
			return StatusDrifted
		}
		return StatusCompliant
	}
	out.HeldBack = nonNil(slices.Clone(o.HeldBack))
	if o.Err != nil && o.Status != apply.StatusApplied {
		out.Errors = append(out.Errors, o.Err.Error())
	}
	// A bucket with a stale or failed control still had its others made.
	for _, c := range b.Drift {
		if slices.Contains(o.Applied, c.Control) {
			out.Fixed = append(out.Fixed, c.Control)
		}
	}
	switch o.Status {
	case apply.StatusApplied:
		if len(o.Held) > 0 {
			return StatusDrifted
		}
		if len(b.Drift) == 0 && o.Writes == 0 {
			return StatusCompliant
		}
		return StatusFixed
	case apply.StatusUnchanged:
		return StatusCompliant
	case apply.StatusSkipped:
		if len(b.Errors) > 0 {
			return StatusError
		}
		return StatusDrifted
	}
	return StatusFailed
}

// accountStatus is the worst of the account's parts.
func accountStatus(a Account) string {
	rank := map[string]int{StatusCompliant: 0, StatusCreated: 1, StatusFixed: 1, StatusDrifted: 2, StatusFailed: 3, StatusError: 4}
	worst := StatusCompliant
	if len(a.Errors) > 0 {
		return StatusError
	}
	for _, b := range a.Buckets {
		if rank[b.Status] > rank[worst] {
			worst = b.Status
		}
	}
	for _, c := range a.AccountControls {
		if rank[c.Status] > rank[worst] {
			worst = c.Status
		}
	}
	return worst
}

func totals(r *Report) Totals {
	t := Totals{Accounts: len(r.Accounts)}
	for _, a := range r.Accounts {
		t.Errors += len(a.Errors)
		t.Findings += len(a.Findings)
		for _, b := range a.Buckets {
			t.Buckets++
			switch b.Status {
			case StatusCompliant:
				t.Compliant++
			case StatusDrifted:
				t.Drifted++
			case StatusFixed:
				t.Fixed++
			case StatusCreated:
				t.Created++
			case StatusFailed:
				t.Failed++
			case StatusError:
				t.Errors++
			}
		}
		for _, c := range a.AccountControls {
			switch c.Status {
			case StatusFixed:
				t.Fixed++
			case StatusFailed:
				t.Failed++
			case StatusDrifted:
				t.Drifted++
			}
		}
	}
	return t
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// Marshal is the report as WriteFile writes it.
func Marshal(r *Report) ([]byte, error) {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	return append(data, '\n'), nil
}

// WriteFile writes the report as indented JSON, atomically: a scheduler
// that picks it up never reads half a report.
func WriteFile(path string, r *Report) error {
	data, err := Marshal(r)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("report %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(dir, ".report-*.json")
	if err != nil {
		return fmt.Errorf("report %s: %w", path, err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("report %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("report %s: %w", path, err)
	}
	return nil
}
