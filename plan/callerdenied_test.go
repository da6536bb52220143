package plan

import "testing"

func TestCallerDenied(t *testing.T) {
	const session = "arn:aws:sts::111122223333:assumed-role/S3Baseline/run"
	const gov = "arn:aws-us-gov:sts::111122223333:assumed-role/S3Baseline/run"
	cases := []struct {
		name       string
		caller     string
		principals []string
		want       bool
	}{
		{"everyone", session, []string{"*"}, true},
		{"the role", session, []string{"arn:aws:iam::111122223333:role/S3Baseline"}, true},
		{"the role with a path", session, []string{"arn:aws:iam::111122223333:role/ops/S3Baseline"}, true},
		{"the account root", session, []string{"arn:aws:iam::111122223333:root"}, true},
		{"the account as a bare id", session, []string{"111122223333"}, true},
		{"another role", session, []string{"arn:aws:iam::111122223333:role/LegacyFullAdmin"}, false},
		{"the role in another account", session, []string{"arn:aws:iam::444455556666:role/S3Baseline"}, false},
		{"GovCloud: the role", gov, []string{"arn:aws-us-gov:iam::111122223333:role/S3Baseline"}, true},
		{"GovCloud: the root", gov, []string{"arn:aws-us-gov:iam::111122223333:root"}, true},
		{"GovCloud caller, commercial ARN", gov, []string{"arn:aws:iam::111122223333:role/S3Baseline"}, false},
		{"no caller known", "", []string{"*"}, false},
	}
	for _, tc := range cases {
		if got := CallerDenied(tc.caller, tc.principals); got != tc.want {
			t.Errorf("%s: CallerDenied = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// TestAccountWideLock: a Deny of the caller's whole account, or of
// everyone, is held back without the exception of the caller's role and
// planned with it; naming the caller's role itself is held back either way.
func TestAccountWideLock(t *testing.T) {
	caller := "arn:aws-us-gov:sts::123456789012:assumed-role/Ops/s"
	except := callerPatterns(caller)
	for _, tc := range []struct {
		principals []string
		except     []string
		held       bool
	}{
		{[]string{"arn:aws-us-gov:iam::123456789012:root"}, nil, true},
		{[]string{"arn:aws-us-gov:iam::123456789012:root"}, except, false},
		{[]string{"*"}, except, false},
		{[]string{"arn:aws-us-gov:iam::123456789012:role/Ops"}, except, true},
		{[]string{"arn:aws-us-gov:iam::123456789012:role/team/Ops"}, except, true},
		{[]string{"arn:aws:iam::123456789012:root"}, nil, false}, // another partition's account: not this caller
	} {
		held := CallerDenied(caller, tc.principals) && !(Excepted(caller, tc.except) && !CallerNamed(caller, tc.principals))
		if held != tc.held {
			t.Errorf("%v except %v: held %v, want %v", tc.principals, tc.except, held, tc.held)
		}
	}
	if !Excepted(caller, except) || Excepted("arn:aws-us-gov:sts::123456789012:assumed-role/Other/s", except) {
		t.Error("Excepted does not match exactly the caller's role")
	}
}
