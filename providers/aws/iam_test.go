package aws_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/s3baseline/s3baseline/fixtures/emulator"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
	"github.com/s3baseline/s3baseline/settings"
)

// iamScenario is an account with the four kinds of user iam_mfa tells
// apart, plus extra service users so ListUsers needs more than one page
// (IAM's default page is 100 users).
func iamScenario(t *testing.T, rootMFA bool, extra int) *emulator.Scenario {
	t.Helper()
	sc := parse(t, `{"account_id": "123456789012", "caller_arn": "arn:aws:sts::123456789012:assumed-role/Ops/alice", "buckets": []}`)
	sc.RootMFA = rootMFA
	sc.IAMUsers = []emulator.IAMUser{
		{Name: "alice", ConsolePassword: true, MFADevices: 1},
		{Name: "bob", ConsolePassword: true},
		{Name: "carol", MFADevices: 2},
		{Name: "ci-bot", Path: "/automation/"},
	}
	for i := range extra {
		sc.IAMUsers = append(sc.IAMUsers, emulator.IAMUser{Name: fmt.Sprintf("svc-%03d", i), ConsolePassword: i%3 == 0, MFADevices: i % 2})
	}
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	return sc
}

func iamUser(name, path string, password bool, mfa int) settings.IAMUser {
	return settings.IAMUser{Name: name, ARN: "arn:aws:iam::123456789012:user" + path + name, ConsolePassword: password, MFADevices: mfa}
}

func TestIAMReport(t *testing.T) {
	base := []settings.IAMUser{
		iamUser("alice", "/", true, 1),
		iamUser("bob", "/", true, 0),
		iamUser("carol", "/", false, 2),
		iamUser("ci-bot", "/automation/", false, 0),
	}
	many := append([]settings.IAMUser{}, base...)
	for i := range 150 {
		many = append(many, iamUser(fmt.Sprintf("svc-%03d", i), "/", i%3 == 0, i%2))
	}
	cases := map[string]struct {
		reason      string
		rootMFA     bool
		extra       int
		concurrency int
		want        settings.IAMReport
		listPages   int
	}{
		"root without MFA": {"each user's password and MFA devices; root MFA off",
			false, 0, 0, settings.IAMReport{Users: base}, 1},
		"root with MFA": {"AccountMFAEnabled 1 is root MFA",
			true, 0, 0, settings.IAMReport{Users: base, RootMFA: true}, 1},
		"paginated": {"154 users take two ListUsers pages and are all read, in name order",
			true, 150, 3, settings.IAMReport{Users: many, RootMFA: true}, 2},
		"one worker": {"a pool of one reads every user too",
			false, 150, 1, settings.IAMReport{Users: many}, 2},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := start(t, iamScenario(t, tc.rootMFA, tc.extra), emulator.Options{})
			p := newProvider(t, srv, func(o *awsprovider.Options) { o.Concurrency = tc.concurrency })
			got, err := p.IAMReport(context.Background())
			if err != nil {
				t.Fatalf("%s\nIAMReport: %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
			calls := srv.Calls()
			if n := countCalls(calls, op("iam", "ListUsers")); n != tc.listPages {
				t.Errorf("%s\n%d ListUsers calls, want %d", tc.reason, n, tc.listPages)
			}
			users := len(tc.want.Users)
			for _, o := range []string{"GetLoginProfile", "ListMFADevices"} {
				if n := countCalls(calls, op("iam", o)); n != users {
					t.Errorf("%s\n%d %s calls, want one per user (%d)", tc.reason, n, o, users)
				}
			}
			for _, c := range calls {
				if c.Service == "iam" && c.Region != "us-east-1" {
					t.Errorf("%s\nIAM %s signed for %s, want us-east-1", tc.reason, c.Operation, c.Region)
				}
			}
			if w := srv.WriteCalls(); len(w) != 0 {
				t.Errorf("%s\nIAMReport wrote: %+v", tc.reason, w)
			}
		})
	}
}

// TestIAMReportError fails the whole report on a per-user error, naming
// the user, in one line.
func TestIAMReportError(t *testing.T) {
	srv := start(t, iamScenario(t, false, 30), emulator.Options{})
	p := newProvider(t, srv)
	srv.InjectFault(emulator.Fault{Service: "iam", Operation: "ListMFADevices", Status: 403, Code: "AccessDenied",
		Message: "User is not authorized to perform: iam:ListMFADevices", After: 5, Times: 1})
	_, err := p.IAMReport(context.Background())
	if err == nil {
		t.Fatal("IAMReport succeeded, want the ListMFADevices error")
	}
	code := awsprovider.ErrorCode(err)
	if code != "AccessDenied" {
		t.Errorf("error %q carries code %q, want AccessDenied", err, code)
	}
	if !strings.HasPrefix(err.Error(), "list mfa devices ") || strings.Contains(err.Error(), "\n") {
		t.Errorf("error = %q, want one line naming the user's list mfa devices", err)
	}
}
