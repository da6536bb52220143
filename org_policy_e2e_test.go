package main

// Accounts whose Block Public Access an AWS Organizations S3 policy owns:
// the tool reports them as managed by the organization, names the policy
// where the caller can see it, and never writes the account setting
// (S3 would refuse it). Also admin_lock.deny with {account} in an
// organization: each account denies its own admin role.

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/s3baseline/s3baseline/fixtures/emulator"
	"github.com/s3baseline/s3baseline/plan"
	"github.com/s3baseline/s3baseline/settings"
)

func startOrgWithS3Policies(t *testing.T) *emulator.Org {
	t.Helper()
	return startOrgEdited(t, func(sc *emulator.OrgScenario) {
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
	})
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

// TestConfigurationLockEndToEnd: admin_lock.actions configuration with
// deny: ["{account}"] denies every principal of the account every write
// that could weaken the bucket, which the emulator enforces as S3 does (an
// explicit Deny in the bucket policy), except the tool's own role: it
// writes the rest of the baseline after the lock, plans again and rolls
// back through it.
func TestConfigurationLockEndToEnd(t *testing.T) {
	org := startOrgEdited(t, func(sc *emulator.OrgScenario) {
		for i := range sc.Accounts {
			if len(sc.Accounts[i].Roles) > 0 {
				sc.Accounts[i].Roles = append(sc.Accounts[i].Roles, "LegacyFullAdmin")
			}
		}
	})
	cfg := configFile(t, "baseline: high\nsettings:\n  admin_lock:\n    deny: [\"{account}\"]\n    actions: configuration\n")
	journal := filepath.Join(t.TempDir(), "j.jsonl")
	args := []string{"--endpoint-url", org.URL(), "--accounts", "222222222222", "--role-name", orgRole}
	runCLI(t, append([]string{"apply", "--config", cfg, "--auto-approve", "--allow-impact", "--journal", journal}, args...)...)
	const bucket = "app-assets-222222222222"
	snap := org.Account("222222222222").Snapshot().Buckets[bucket]
	if !strings.Contains(snap.Policy, "s3:PutBucketPublicAccessBlock") || !strings.Contains(snap.Policy, "ArnNotLike") {
		t.Fatalf("the configuration lock was not applied: %s", snap.Policy)
	}
	// Written after the policy (apply writes it first), through the lock.
	if snap.Versioning != "Enabled" || snap.Logging == nil {
		t.Errorf("the writes after the lock did not go through: versioning %q logging %+v", snap.Versioning, snap.Logging)
	}

	// The admin is locked out of the configuration.
	ctx := context.Background()
	base, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"))
	if err != nil {
		t.Fatal(err)
	}
	stsClient := sts.NewFromConfig(base, func(o *sts.Options) { o.BaseEndpoint = aws.String(org.URL()) })
	admin := base.Copy()
	admin.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(stsClient, "arn:aws:iam::222222222222:role/LegacyFullAdmin"))
	s3c := s3.NewFromConfig(admin, func(o *s3.Options) { o.BaseEndpoint, o.UsePathStyle = aws.String(org.URL()), true })
	_, err = s3c.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: aws.String(bucket),
		PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(false)}})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Errorf("the locked-out admin turned Block Public Access off: %v", err)
	}
	_, err = s3c.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: aws.String(bucket)})
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Errorf("the locked-out admin deleted the bucket policy: %v", err)
	}

	// The tool is not: a second plan is clean, and rollback goes through.
	if r := runCLI(t, append([]string{"plan", "--config", cfg, "--detailed-exitcode"}, args...)...); r.code == 1 {
		t.Errorf("plan through the lock failed:\n%s", r.stderr)
	}
	if r := runCLI(t, "rollback", journal, "--endpoint-url", org.URL(), "--role-name", orgRole, "--auto-approve", "--journal", filepath.Join(t.TempDir(), "rb.jsonl")); r.code != 0 {
		t.Errorf("rollback through the lock exited %d: %s", r.code, r.stderr)
	}
	if pol := org.Account("222222222222").Snapshot().Buckets[bucket].Policy; strings.Contains(pol, settings.SidDenyAdminPolicyChanges) {
		t.Errorf("rollback left the lock: %s", pol)
	}
}

// TestPlanOrgPolicies: --org-policies names what the root's policies
// enforce and suggests what they do not: here an S3 policy at the root
// turns Block Public Access on everywhere, and no RCP enforces TLS.
func TestPlanOrgPolicies(t *testing.T) {
	org := startOrgEdited(t, func(sc *emulator.OrgScenario) {
		sc.RootID = "r-" + strings.TrimPrefix(sc.OrganizationID, "o-")[:4]
		sc.EnabledPolicyTypes = []string{"SERVICE_CONTROL_POLICY", "S3_POLICY", "RESOURCE_CONTROL_POLICY"}
		sc.Policies = []emulator.OrgPolicy{{ID: "p-s3bparoot", Name: "BlockPublicAccess", Type: "S3_POLICY", Targets: []string{sc.RootID},
			Content: json.RawMessage(`{"s3_attributes":{"public_access_block_configuration":{"@@assign":"all"}}}`)}}
	})
	p, r := orgPlan(t, org, "--org-policies")
	if r.code != 0 {
		t.Fatalf("plan --org-policies exited %d: %s", r.code, r.stderr)
	}
	mgmt := section(t, p, "111111111111")
	var tls, bpa bool
	for _, f := range mgmt.Findings {
		tls = tls || (f.Control == settings.TLSOnly && strings.Contains(f.Detail, plan.SuggestedTLSRCP))
		bpa = bpa || (f.Control == settings.AccountBlockPublicAccess && strings.Contains(f.Subject, ":organizations::"))
	}
	if !tls || bpa {
		t.Errorf("findings %+v: want the TLS RCP suggested and no Block Public Access finding for the root", mgmt.Findings)
	}
	if !strings.Contains(r.stderr, "enforced in every account by the root's S3 policy p-s3bparoot") {
		t.Errorf("stderr does not name the enforcing S3 policy:\n%s", r.stderr)
	}
	if r := runCLI(t, "plan", "--config", orgConfig(), "--endpoint-url", org.URL(), "--org-policies"); r.code != 1 || !strings.Contains(r.stderr, "give --accounts too") {
		t.Errorf("--org-policies without --accounts: exit %d %q", r.code, r.stderr)
	}
}
