package main

// Accounts whose Block Public Access an AWS Organizations S3 policy owns:
// the tool reports them as managed by the organization, names the policy
// where the caller can see it, and never writes the account setting
// (S3 would refuse it). Also admin_lock.deny with {account} in an
// organization: each account denies its own admin role.

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/s3baseline/s3baseline/fixtures"
	"github.com/s3baseline/s3baseline/fixtures/emulator"
	"github.com/s3baseline/s3baseline/plan"
	"github.com/s3baseline/s3baseline/settings"
)

func startOrgWithS3Policies(t *testing.T) *emulator.Org {
	t.Helper()
	sc, err := fixtures.OrgScenario("e2e")
	if err != nil {
		t.Fatal(err)
	}
	if sc.RootID == "" {
		sc.RootID = "r-" + strings.TrimPrefix(sc.OrganizationID, "o-")[:4]
	}
	sc.OrganizationalUnits = []emulator.OrgUnit{{ID: "ou-" + sc.RootID[2:] + "-datalake1", Name: "Data", ParentID: sc.RootID, Accounts: []string{"333333333333"}}}
	sc.Policies = []emulator.OrgPolicy{
		{ID: "p-s3bpaall1", Name: "BlockPublicAccess", Type: "S3_POLICY", Targets: []string{sc.OrganizationalUnits[0].ID},
			Content: json.RawMessage(`{"s3_attributes":{"public_access_block_configuration":{"@@assign":"all"}}}`)},
		{ID: "p-s3bpanone", Name: "NoAccountBlock", Type: "S3_POLICY", Targets: []string{"111111111111"},
			Content: json.RawMessage(`{"s3_attributes":{"public_access_block_configuration":{"@@assign":"none"}}}`)},
	}
	org, err := emulator.StartOrg("127.0.0.1:0", sc, emulator.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { org.Close() })
	isolateAWSEnv(t)
	return org
}

func TestOrgS3PolicyManagesAccountBPA(t *testing.T) {
	org := startOrgWithS3Policies(t)
	p, r := orgPlan(t, org)
	if r.code != 0 {
		t.Fatalf("plan exited %d: %s", r.code, r.stderr)
	}
	for id, want := range map[string]string{"111111111111": "p-s3bpanone", "333333333333": "inherited"} {
		a := section(t, p, id)
		if c, ok := accountChange(a, settings.AccountBlockPublicAccess); ok {
			t.Errorf("account %s: account_block_public_access is planned (%s) although the organization manages it", id, c.Action)
		}
		i := slices.IndexFunc(a.Findings, func(f plan.Finding) bool { return f.Control == settings.AccountBlockPublicAccess })
		if i < 0 || !strings.Contains(a.Findings[i].Detail, "managed by the organization") || !strings.Contains(a.Findings[i].Detail, want) {
			t.Errorf("account %s: findings %+v, want account_block_public_access managed by the organization naming %s", id, a.Findings, want)
		}
	}
	// The member account cannot list the policies of its OU: the finding
	// says where the policy is; the management account's own is named.
	r = runCLI(t, "apply", "--config", orgConfig(), "--endpoint-url", org.URL(), "--accounts", "all", "--role-name", orgRole,
		"--auto-approve", "--allow-impact", "--journal", filepath.Join(t.TempDir(), "j.jsonl"))
	for _, id := range []string{"111111111111", "333333333333"} {
		for _, c := range org.Account(id).WriteCalls() {
			if c.Operation == "PutPublicAccessBlock" && c.Bucket == "" {
				t.Errorf("account %s: apply wrote the account's Block Public Access (%d)", id, c.Status)
			}
		}
	}
	if strings.Contains(r.stderr, "PutPublicAccessBlock") || strings.Contains(r.stderr, "put account public access block") {
		t.Errorf("apply tried the account write:\n%s", r.stderr)
	}
}

// TestOrgAdminLockTemplate: deny: arn:aws:iam::{account}:role/LegacyFullAdmin
// gives each account's buckets a Deny of that account's role, never
// another account's.
func TestOrgAdminLockTemplate(t *testing.T) {
	org := startOrg(t)
	p, r := orgPlan(t, org)
	if r.code != 0 {
		t.Fatalf("plan exited %d: %s", r.code, r.stderr)
	}
	for _, id := range orgAccounts {
		a := section(t, p, id)
		n := 0
		for _, b := range a.Buckets {
			for _, c := range b.Changes {
				if c.Control != settings.AdminPolicyLock || c.Action == plan.NoOp {
					continue
				}
				n++
				if !strings.Contains(string(c.After), "arn:aws:iam::"+id+":role/LegacyFullAdmin") {
					t.Errorf("account %s bucket %s: the lock does not deny its own admin: %s", id, b.Name, c.After)
				}
				for _, other := range orgAccounts {
					if other != id && strings.Contains(string(c.After), other) {
						t.Errorf("account %s bucket %s: the lock names account %s: %s", id, b.Name, other, c.After)
					}
				}
			}
		}
		if n == 0 {
			t.Errorf("account %s: no admin lock planned", id)
		}
	}
}

// TestLoneAccountUnderS3Policy: an account run on its own, whose Block
// Public Access an organization's S3 policy sets to "none": the account
// flags read all off, yet nothing is planned or written for them.
func TestLoneAccountUnderS3Policy(t *testing.T) {
	srv := startScenario(t, func(sc *emulator.Scenario) { sc.OrgS3PolicyID, sc.OrgS3PolicyAssign = "p-s3bpanone", "none" })
	p := planJSON(t, srv)
	if c, ok := accountChange(p.AccountPlan, settings.AccountBlockPublicAccess); ok {
		t.Errorf("account_block_public_access planned (%s) under the organization's S3 policy", c.Action)
	}
	i := slices.IndexFunc(p.Findings, func(f plan.Finding) bool { return f.Control == settings.AccountBlockPublicAccess })
	if i < 0 || !strings.Contains(p.Findings[i].Detail, "sets it to none") {
		t.Errorf("findings %+v, want the account managed by the organization", p.Findings)
	}
}
