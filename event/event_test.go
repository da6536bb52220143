package event

import "testing"

func TestByRole(t *testing.T) {
	cases := []struct {
		name              string
		actor, actorRole  string
		account, roleName string
		want              bool
	}{
		{"session issuer is the role", "arn:aws:sts::111122223333:assumed-role/S3Baseline/run", "arn:aws:iam::111122223333:role/S3Baseline", "111122223333", "S3Baseline", true},
		{"pathed role", "", "arn:aws:iam::111122223333:role/ops/S3Baseline", "111122223333", "S3Baseline", true},
		{"same role name, other account", "", "arn:aws:iam::444455556666:role/S3Baseline", "111122223333", "S3Baseline", false},
		{"another role", "", "arn:aws:iam::111122223333:role/Developer", "111122223333", "S3Baseline", false},
		{"no issuer: the session ARN", "arn:aws-us-gov:sts::111122223333:assumed-role/S3Baseline/x", "", "111122223333", "S3Baseline", true},
		{"a user", "arn:aws:iam::111122223333:user/S3Baseline", "", "111122223333", "S3Baseline", false},
		{"no role name known", "", "arn:aws:iam::111122223333:role/S3Baseline", "111122223333", "", false},
	}
	for _, tc := range cases {
		e := Event{Actor: tc.actor, ActorRole: tc.actorRole}
		if got := e.ByRole(tc.account, tc.roleName); got != tc.want {
			t.Errorf("%s: ByRole = %v, want %v", tc.name, got, tc.want)
		}
	}
	if got := RoleName("arn:aws:sts::111122223333:assumed-role/Ops/alice"); got != "Ops" {
		t.Errorf("RoleName = %q", got)
	}
}
