package aws_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/s3baseline/s3baseline/fixtures/emulator"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
	"github.com/s3baseline/s3baseline/settings"
)

const (
	mgmtAccount = "111111111111"
	roleName    = "S3BaselineRole"
)

// orgScenario is an organization listed out of id order: the management
// account, two members with the role and buckets of their own, a
// suspended member, a member without the role, and extra empty members
// so ListAccounts takes more than one page (20 accounts a page).
func orgScenario(t *testing.T, extra int) *emulator.OrgScenario {
	t.Helper()
	sc, err := emulator.ParseOrgScenario([]byte(`{
  "organization_id": "o-s3baselinetest",
  "accounts": [
    {"account_id": "111111111111", "name": "management", "caller_arn": "arn:aws:sts::111111111111:assumed-role/OrgAdmin/ops",
     "roles": ["S3BaselineRole"], "buckets": [{"name": "mgmt-tools-111111111111", "region": "us-east-1"}]},
    {"account_id": "555555555555", "name": "no-role", "buckets": [{"name": "sandbox-555555555555", "region": "us-east-1"}]},
    {"account_id": "333333333333", "name": "data", "roles": ["S3BaselineRole"],
     "buckets": [{"name": "data-lake-333333333333", "region": "us-east-1"}]},
    {"account_id": "222222222222", "name": "workloads", "roles": ["S3BaselineRole"],
     "buckets": [{"name": "app-assets-222222222222", "region": "us-east-1"}, {"name": "app-eu-222222222222", "region": "eu-west-1"}]},
    {"account_id": "444444444444", "name": "closed", "status": "SUSPENDED", "roles": ["S3BaselineRole"]}
  ]
}`))
	if err != nil {
		t.Fatal(err)
	}
	for i := range extra {
		sc.Accounts = append(sc.Accounts, emulator.OrgAccount{
			Name:     fmt.Sprintf("member-%02d", i),
			Scenario: emulator.Scenario{AccountID: fmt.Sprintf("9000000000%02d", i)},
		})
	}
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	return sc
}

// startOrg serves sc on a free local port for the test's lifetime.
func startOrg(t *testing.T, sc *emulator.OrgScenario) *emulator.Org {
	t.Helper()
	org, err := emulator.StartOrg("127.0.0.1:0", sc, emulator.Options{})
	if err != nil {
		t.Fatalf("start organization: %v", err)
	}
	t.Cleanup(func() { _ = org.Close() })
	return org
}

// newOrgProvider is newProvider aimed at an organization's front.
func newOrgProvider(t *testing.T, org *emulator.Org) *awsprovider.Provider {
	t.Helper()
	isolateEnv(t)
	o := awsprovider.Options{EndpointURL: org.URL(), MaxAttempts: 2, CallTimeout: 10 * time.Second, PropagationTimeout: 2 * time.Second}
	awsprovider.SetMaxBackoff(&o, 5*time.Millisecond)
	p, err := awsprovider.New(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOrganizationAccounts(t *testing.T) {
	org := startOrg(t, orgScenario(t, 20))
	p := newOrgProvider(t, org)
	got, err := p.OrganizationAccounts(context.Background())
	if err != nil {
		t.Fatalf("OrganizationAccounts: %v", err)
	}
	want := []settings.OrgAccount{
		{ID: "111111111111", Name: "management", Status: "ACTIVE"},
		{ID: "222222222222", Name: "workloads", Status: "ACTIVE"},
		{ID: "333333333333", Name: "data", Status: "ACTIVE"},
		{ID: "444444444444", Name: "closed", Status: "SUSPENDED"},
		{ID: "555555555555", Name: "no-role", Status: "ACTIVE"},
	}
	for i := range 20 {
		want = append(want, settings.OrgAccount{ID: fmt.Sprintf("9000000000%02d", i), Name: fmt.Sprintf("member-%02d", i), Status: "ACTIVE"})
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("every account, every status, sorted by id -want, +got:\n%s", diff)
	}
	if n := countCalls(org.Calls(), op("organizations", "ListAccounts")); n != 2 {
		t.Errorf("%d ListAccounts calls for 25 accounts, want 2 pages", n)
	}
}

func TestOrganizationAccountsNotInOrganization(t *testing.T) {
	sc := orgScenario(t, 0)
	sc.OrganizationID = ""
	p := newOrgProvider(t, startOrg(t, sc))
	_, err := p.OrganizationAccounts(context.Background())
	want := "list organization accounts: AWSOrganizationsNotInUseException: "
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %v, want it to begin %q", err, want)
	}
}

// TestForAccount reaches two member accounts through the role: each
// provider acts as the role in its account and sees only that account's
// buckets, and asking again reuses the provider and its credentials.
func TestForAccount(t *testing.T) {
	org := startOrg(t, orgScenario(t, 0))
	p := newOrgProvider(t, org)
	ctx := context.Background()
	cases := map[string]struct {
		account string
		buckets []string
	}{
		"workloads": {"222222222222", []string{"app-assets-222222222222", "app-eu-222222222222"}},
		"data":      {"333333333333", []string{"data-lake-333333333333"}},
	}
	members := map[string]*awsprovider.Provider{}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			m, err := p.ForAccount(ctx, tc.account, roleName, "s3baseline-test")
			if err != nil {
				t.Fatalf("ForAccount: %v", err)
			}
			members[tc.account] = m
			id, err := m.Identity(ctx)
			if err != nil {
				t.Fatal(err)
			}
			want := settings.Identity{
				Account:      tc.account,
				ARN:          "arn:aws:sts::" + tc.account + ":assumed-role/S3BaselineRole/s3baseline-test",
				PrincipalARN: "arn:aws:iam::" + tc.account + ":role/S3BaselineRole",
			}
			if diff := cmp.Diff(want, id); diff != "" {
				t.Errorf("Identity -want, +got:\n%s", diff)
			}
			refs, err := m.ListBuckets(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, r := range refs {
				names = append(names, r.Name)
			}
			slices.Sort(names)
			if !slices.Equal(names, tc.buckets) {
				t.Errorf("member sees buckets %v, want only its own %v", names, tc.buckets)
			}
			if n := len(org.Account(tc.account).Calls()); n == 0 {
				t.Errorf("no call reached account %s", tc.account)
			}
			// The member's options are the parent's: the same endpoint.
			if m.Region() != p.Region() {
				t.Errorf("member region %s, want %s", m.Region(), p.Region())
			}

			again, err := p.ForAccount(ctx, tc.account, roleName, "s3baseline-test")
			if err != nil || again != m {
				t.Errorf("second ForAccount = %p, %v; want the same provider %p", again, err, m)
			}
		})
	}
	if members["222222222222"] == members["333333333333"] {
		t.Error("two accounts share one provider")
	}
	assumed := 0
	for _, c := range org.Calls() {
		if c.Operation == "AssumeRole" {
			assumed++
		}
	}
	if assumed != 2 {
		t.Errorf("%d AssumeRole calls for two accounts asked twice each, want 2 (cached credentials)", assumed)
	}

	// The parent still acts in the management account.
	refs, err := p.ListBuckets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(refs) != 1 || refs[0].Name != "mgmt-tools-111111111111" {
		t.Errorf("management account sees %v, want only mgmt-tools-111111111111", refs)
	}
}

// TestForAccountRefused fails fast, naming the role, when it cannot be
// assumed, and checks its arguments before calling anything.
func TestForAccountRefused(t *testing.T) {
	denied := func(account string) string {
		role := "arn:aws:iam::" + account + ":role/S3BaselineRole"
		return "assume role " + role + ": AccessDenied: User: arn:aws:sts::111111111111:assumed-role/OrgAdmin/ops is not authorized to perform: sts:AssumeRole on resource: " + role
	}
	cases := map[string]struct {
		reason      string
		account     string
		role        string
		want        string
		assumeCalls int
	}{
		"missing role": {"the account has no such role", "555555555555", roleName, denied("555555555555"), 2},
		"suspended":    {"a suspended account's role cannot be assumed", "444444444444", roleName, denied("444444444444"), 2},
		"unknown":      {"an account outside the organization", "999999999999", roleName, denied("999999999999"), 2},
		"no role name": {"there is no default role", "222222222222", "",
			"assume role in account 222222222222: a role name is required", 0},
		"bad account": {"an account id is 12 digits", "2222", roleName,
			`assume role in account "2222": the account id must be 12 digits`, 0},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			org := startOrg(t, orgScenario(t, 0))
			p := newOrgProvider(t, org)
			for range 2 { // a failure is not cached: the second call asks again
				m, err := p.ForAccount(context.Background(), tc.account, tc.role, "")
				if err == nil || err.Error() != tc.want || m != nil {
					t.Fatalf("%s\nForAccount = %v, %v\nwant error %s", tc.reason, m, err, tc.want)
				}
			}
			if n := countCalls(org.Calls(), op("sts", "AssumeRole")); n != tc.assumeCalls {
				t.Errorf("%s\n%d AssumeRole calls, want %d", tc.reason, n, tc.assumeCalls)
			}
		})
	}
}
