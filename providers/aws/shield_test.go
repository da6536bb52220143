package aws_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/s3baseline/s3baseline/fixtures/emulator"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
	"github.com/s3baseline/s3baseline/settings"
)

func TestShield(t *testing.T) {
	end := time.Date(2025, 1, 15, 12, 0, 0, 0, time.UTC)
	cases := map[string]struct {
		reason string
		shield string // the scenario's "shield" value
		fault  *emulator.Fault
		want   settings.ShieldState
	}{
		"none": {reason: "no subscription: INACTIVE, and DescribeSubscription is not asked",
			want: settings.ShieldState{}},
		"active": {reason: "an ACTIVE subscription with its end and auto-renew",
			shield: `{"start_time": "2024-01-15T12:00:00Z", "auto_renew": "DISABLED"}`,
			want:   settings.ShieldState{Subscribed: true, EndTime: &end, AutoRenew: "DISABLED"}},
		"active default renew": {reason: "a new subscription renews automatically",
			shield: `{"start_time": "2024-01-15T12:00:00Z", "end_time": "2025-01-15T12:00:00Z"}`,
			want:   settings.ShieldState{Subscribed: true, EndTime: &end, AutoRenew: "ENABLED"}},
		"vanished": {reason: "DescribeSubscription's ResourceNotFoundException is no subscription",
			shield: `{"start_time": "2024-01-15T12:00:00Z"}`,
			fault: &emulator.Fault{Service: "shield", Operation: "DescribeSubscription", Status: 400,
				Code: "ResourceNotFoundException", Message: "The subscription does not exist."},
			want: settings.ShieldState{}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			js := `{"account_id": "123456789012", "caller_arn": "arn:aws:sts::123456789012:assumed-role/Ops/alice", "buckets": []`
			if tc.shield != "" {
				js += `, "shield": ` + tc.shield
			}
			srv := start(t, parse(t, js+`}`), emulator.Options{})
			if tc.fault != nil {
				srv.InjectFault(*tc.fault)
			}
			p := newProvider(t, srv, func(o *awsprovider.Options) { o.Region = "eu-west-1" })
			got, err := p.Shield(context.Background())
			if err != nil {
				t.Fatalf("%s\nShield: %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
			calls := srv.Calls()
			wantDescribe := 1
			if tc.shield == "" {
				wantDescribe = 0
			}
			if n := countCalls(calls, op("shield", "DescribeSubscription")); n != wantDescribe {
				t.Errorf("%s\n%d DescribeSubscription calls, want %d", tc.reason, n, wantDescribe)
			}
			for _, c := range calls {
				if c.Service == "shield" && c.Region != "us-east-1" {
					t.Errorf("%s\nShield %s signed for %s, want us-east-1", tc.reason, c.Operation, c.Region)
				}
			}
			if w := srv.WriteCalls(); len(w) != 0 {
				t.Errorf("%s\nShield wrote: %+v", tc.reason, w)
			}
		})
	}
}

func TestShieldError(t *testing.T) {
	srv := start(t, e2eScenario(t), emulator.Options{})
	p := newProvider(t, srv)
	srv.InjectFault(emulator.Fault{Service: "shield", Operation: "GetSubscriptionState", Status: 400, Code: "AccessDeniedException", Message: "not authorized"})
	_, err := p.Shield(context.Background())
	want := "get shield subscription state: AccessDeniedException: not authorized"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %q", err, want)
	}
}
