package report

import (
	"errors"
	"slices"
	"testing"

	"github.com/s3baseline/s3baseline/apply"
	"github.com/s3baseline/s3baseline/plan"
	"github.com/s3baseline/s3baseline/settings"
)

// TestBucketStatuses: what a bucket's plan and apply outcome make of it in
// the report.
func TestBucketStatuses(t *testing.T) {
	drift := []plan.Change{
		{Control: settings.BlockPublicAccess, Action: plan.Create, NIST: []string{"AC-3"}},
		{Control: settings.TLSOnly, Action: plan.Create, NIST: []string{"SC-8"}},
	}
	cases := map[string]struct {
		command   string
		changes   []plan.Change
		errs      []string
		outcome   *apply.Outcome
		want      string
		wantFixed []settings.ControlID
	}{
		"plan, compliant": {command: "plan", want: StatusCompliant},
		"plan, drifted":   {command: "plan", changes: drift, want: StatusDrifted},
		"plan, error":     {command: "plan", errs: []string{"get bucket policy: AccessDenied"}, want: StatusError},
		"applied": {command: "apply", changes: drift, outcome: &apply.Outcome{Status: apply.StatusApplied, Writes: 2,
			Applied: []settings.ControlID{settings.BlockPublicAccess, settings.TLSOnly}}, want: StatusFixed,
			wantFixed: []settings.ControlID{settings.BlockPublicAccess, settings.TLSOnly}},
		"one held back": {command: "apply", changes: drift, want: StatusDrifted, wantFixed: []settings.ControlID{settings.TLSOnly},
			outcome: &apply.Outcome{Status: apply.StatusApplied, Writes: 1, HeldBack: []string{"block_public_access held back: website"},
				Held: []settings.ControlID{settings.BlockPublicAccess}, Applied: []settings.ControlID{settings.TLSOnly}}},
		"one stale, the other made": {command: "apply", changes: drift, want: StatusFailed, wantFixed: []settings.ControlID{settings.TLSOnly},
			outcome: &apply.Outcome{Status: apply.StatusStale, Writes: 1, Err: apply.ErrStale,
				Stale: []settings.ControlID{settings.BlockPublicAccess}, Applied: []settings.ControlID{settings.TLSOnly}}},
		"failed": {command: "apply", changes: drift, want: StatusFailed,
			outcome: &apply.Outcome{Status: apply.StatusFailed, Err: errors.New("put bucket policy: AccessDenied")}},
		"stale": {command: "apply", changes: drift, want: StatusFailed,
			outcome: &apply.Outcome{Status: apply.StatusStale, Err: apply.ErrStale}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			p := &plan.Plan{AccountPlan: plan.AccountPlan{Account: "123456789012",
				Buckets: []plan.BucketPlan{{Name: "b", Region: "us-east-1", Baseline: "high", Changes: tc.changes, Errors: tc.errs}}}}
			var outs []apply.Outcome
			if tc.outcome != nil {
				o := *tc.outcome
				o.Account, o.Bucket, o.Region = "123456789012", "b", "us-east-1"
				outs = append(outs, o)
			}
			r := Build(p, outs, Run{Command: tc.command})
			b := r.Accounts[0].Buckets[0]
			if b.Status != tc.want {
				t.Errorf("status %q, want %q", b.Status, tc.want)
			}
			if !slices.Equal(b.Fixed, tc.wantFixed) && (len(b.Fixed) > 0 || len(tc.wantFixed) > 0) {
				t.Errorf("fixed %v, want %v", b.Fixed, tc.wantFixed)
			}
			if r.Accounts[0].Status != tc.want {
				t.Errorf("account status %q, want %q (the worst of its buckets)", r.Accounts[0].Status, tc.want)
			}
		})
	}
}
