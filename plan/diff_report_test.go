package plan

import (
	"slices"
	"strings"
	"testing"

	"github.com/s3baseline/s3baseline/baselines"
	"github.com/s3baseline/s3baseline/settings"
)

func TestDiffVersioning(t *testing.T) {
	runDiffCases(t, settings.Versioning, map[string]diffCase{
		"Enabled": {reason: "Enabled complies", action: "no-op"},
		"Never": {
			reason: "never enabled: created, and the plan says a rollback can only suspend it",
			state:  func(s *settings.BucketState) { s.Versioning = nil; s.Lifecycle = nil },
			action: "create", before: `null`, after: `{"status":"Enabled"}`, inReason: "only suspend it",
		},
		"Suspended": {
			reason: "suspended: updated to Enabled",
			state: func(s *settings.BucketState) {
				s.Versioning = &settings.VersioningConfig{Status: settings.VersioningSuspended}
			},
			action: "update", before: `{"status":"Suspended"}`, after: `{"status":"Enabled"}`,
		},
		"MFADelete": {
			reason: "with MFA delete on, S3 takes a versioning change only from root with its device: held back",
			state: func(s *settings.BucketState) {
				s.Versioning = &settings.VersioningConfig{Status: settings.VersioningSuspended, MFADelete: true}
			},
			action: "update", after: `{"status":"Enabled","mfa_delete":true}`, held: "MFA delete is enabled",
		},
		"Unread": {
			reason: "versioning could not be read: no change, one error",
			state: func(s *settings.BucketState) {
				s.Errors = map[settings.Aspect]string{settings.AspectVersioning: "get bucket versioning: AccessDenied: Access Denied"}
				s.Observed = without(s.Observed, settings.AspectVersioning)
			},
			err: "get bucket versioning: AccessDenied",
		},
		"ReportOnMedium": {
			reason:   "medium reports versioning: never a change",
			baseline: "medium",
			state:    func(s *settings.BucketState) { s.Versioning = nil },
		},
	})
}

// TestReportControls drives each report-only control through a failing
// and a passing state: a finding with the control's id, NIST and the
// bucket's ARN, or none, and never a change.
func TestReportControls(t *testing.T) {
	cases := map[string]struct {
		control settings.ControlID
		state   func(*settings.BucketState)
		detail  string // "" means no finding
	}{
		"MFADeleteOff":          {settings.MFADelete, func(s *settings.BucketState) { s.Versioning.MFADelete = false }, "without MFA delete"},
		"MFADeleteNoVersioning": {settings.MFADelete, func(s *settings.BucketState) { s.Versioning = nil }, "needs versioning Enabled first"},
		"MFADeleteOn":           {settings.MFADelete, nil, ""},
		"ObjectLockOff":         {settings.ObjectLock, func(s *settings.BucketState) { s.ObjectLock = nil }, "Object Lock is not enabled"},
		"ObjectLockOn":          {settings.ObjectLock, nil, ""},
		"LifecycleNone":         {settings.Lifecycle, func(s *settings.BucketState) { s.Lifecycle = nil }, "no enabled lifecycle rule"},
		"LifecycleDisabled": {settings.Lifecycle, func(s *settings.BucketState) {
			s.Lifecycle = &settings.LifecycleConfig{Rules: []settings.LifecycleRule{{ID: "r", Enabled: false, NoncurrentExpiration: true}}}
		}, "no enabled lifecycle rule"},
		"LifecycleVersionedNoNoncurrent": {settings.Lifecycle, func(s *settings.BucketState) {
			s.Lifecycle = &settings.LifecycleConfig{Rules: []settings.LifecycleRule{{ID: "r", Enabled: true, Expiration: true}}}
		}, "no enabled lifecycle rule expires noncurrent versions"},
		"LifecycleUnversioned": {settings.Lifecycle, func(s *settings.BucketState) {
			s.Versioning = nil
			s.Lifecycle = &settings.LifecycleConfig{Rules: []settings.LifecycleRule{{ID: "r", Enabled: true, Expiration: true}}}
		}, ""},
		"LifecycleKept": {settings.Lifecycle, nil, ""},
		"ACLPublic": {settings.ACLGrants, func(s *settings.BucketState) {
			s.ACL.Grants = append(s.ACL.Grants, settings.Grant{Type: "Group", URI: settings.GroupAllUsers, Permission: "READ"})
		}, "grants the public: AllUsers READ"},
		"ACLOtherAccount": {settings.ACLGrants, func(s *settings.BucketState) {
			s.ACL.Grants = append(s.ACL.Grants, settings.Grant{Type: "CanonicalUser", ID: strings.Repeat("b", 64), Permission: "WRITE"})
		}, "grants other accounts"},
		"ACLLogDelivery": {settings.ACLGrants, func(s *settings.BucketState) {
			s.ACL.Grants = append(s.ACL.Grants, settings.Grant{Type: "Group", URI: settings.GroupLogDelivery, Permission: "WRITE"})
		}, ""},
		"ACLPrivate": {settings.ACLGrants, nil, ""},
		"CrossAccountPutPolicy": {settings.CrossAccountPolicy, func(s *settings.BucketState) {
			s.Policy = policyOf(string(TLSStatement("", testBucket)),
				`{"Sid":"Partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":["s3:GetObject","s3:PutBucketPolicy"],"Resource":"arn:aws:s3:::data"}`)
		}, `statement "Partner" allows arn:aws:iam::999999999999:root to s3:PutBucketPolicy`},
		"CrossAccountStar": {settings.CrossAccountPolicy, func(s *settings.BucketState) {
			s.Policy = policyOf(`{"Sid":"Any","Effect":"Allow","Principal":"*","Action":"s3:Put*","Resource":"arn:aws:s3:::data/*"}`)
		}, "s3:PutBucketAcl, s3:PutBucketPolicy, s3:PutEncryptionConfiguration, s3:PutObjectAcl"},
		"CrossAccountReadOnly": {settings.CrossAccountPolicy, func(s *settings.BucketState) {
			s.Policy = policyOf(`{"Sid":"Partner","Effect":"Allow","Principal":{"AWS":"999999999999"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}`)
		}, ""},
		"SameAccountAdmin": {settings.CrossAccountPolicy, func(s *settings.BucketState) {
			s.Policy = policyOf(`{"Sid":"Own","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/Ops"},"Action":"s3:*","Resource":"arn:aws:s3:::data"}`)
		}, ""},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in := testInput(t, "high")
			if tc.state != nil {
				tc.state(&in.State)
			}
			bp := Diff(in)
			var got []Finding
			for _, f := range bp.Findings {
				if f.Control == tc.control {
					got = append(got, f)
				}
			}
			if _, ok := findChange(bp, tc.control); ok {
				t.Errorf("report-only %s has a change", tc.control)
			}
			switch {
			case tc.detail == "" && len(got) > 0:
				t.Errorf("want no %s finding, got %+v", tc.control, got)
			case tc.detail != "" && (len(got) != 1 || !strings.Contains(got[0].Detail, tc.detail)):
				t.Errorf("want one %s finding saying %q, got %+v", tc.control, tc.detail, got)
			case len(got) == 1 && (got[0].Subject != "arn:aws:s3:::data" || len(got[0].NIST) == 0):
				t.Errorf("finding %+v: want the bucket ARN and NIST controls", got[0])
			}
		})
	}
}

func TestReportExemptAndSummary(t *testing.T) {
	in := testInput(t, "high")
	in.State.ObjectLock = nil
	if bp := Diff(in); len(bp.Findings) != 1 {
		t.Fatalf("findings %+v, want the object_lock one", bp.Findings)
	}
	p := &Plan{AccountPlan: AccountPlan{Buckets: []BucketPlan{Diff(in)}}}
	if s := Summarize(p); s.Findings != 1 || s.Compliant != 1 {
		t.Errorf("summary %+v: a bucket finding counts as a finding, and the bucket has nothing to change", s)
	}
}

func without(list []settings.Aspect, a settings.Aspect) []settings.Aspect {
	var out []settings.Aspect
	for _, x := range list {
		if x != a {
			out = append(out, x)
		}
	}
	return out
}

// TestMutedFindings: a muted finding stays in the plan with the rule's
// reason and until but does not count; a lapsed mute is a warning and the
// finding counts again. Account findings are muted by rules of accounts.
func TestMutedFindings(t *testing.T) {
	in := testInput(t, "high")
	in.State.ObjectLock = nil
	in.Assignment.Muted = []baselines.Exemption{{Control: settings.ObjectLock, Reason: "no retention agreed yet", Until: "2027-06-30"}}
	bp := Diff(in)
	if len(bp.Findings) != 1 || bp.Findings[0].Muted == nil || bp.Findings[0].Muted.Reason != "no retention agreed yet" {
		t.Fatalf("findings %+v, want the object_lock finding muted", bp.Findings)
	}
	if s := Summarize(&Plan{AccountPlan: AccountPlan{Buckets: []BucketPlan{bp}}}); s.Findings != 0 {
		t.Errorf("a muted finding counts: %+v", s)
	}
	in.Assignment.Muted, in.Assignment.LapsedMutes = nil, []baselines.Exemption{{Control: settings.ObjectLock, Reason: "r", Until: "2026-01-31"}}
	bp = Diff(in)
	if bp.Findings[0].Muted != nil || !containsLine(bp.Warnings, "mute of object_lock lapsed on 2026-01-31") {
		t.Errorf("lapsed mute: findings %+v warnings %q", bp.Findings, bp.Warnings)
	}

	cfg := testConfig(builtin(t, "high"))
	cfg.Rules = []baselines.Rule{{Accounts: []string{testAccount}, Mute: []settings.ControlID{settings.Shield}, Reason: "CloudFront protected"}}
	r := DiffAccount(AccountInput{Account: testAccountState(), Config: cfg, Buckets: []BucketPlan{{Name: "data", Baseline: "high"}},
		IAM: &settings.IAMReport{RootMFA: true}, Shield: &settings.ShieldState{}, Now: testNow()})
	i := slices.IndexFunc(r.Findings, func(f Finding) bool { return f.Control == settings.Shield })
	if i < 0 || r.Findings[i].Muted == nil {
		t.Errorf("account findings %+v, want shield muted", r.Findings)
	}
}
