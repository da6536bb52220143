package aws_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/s3baseline/s3baseline/fixtures/emulator"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
)

// defaultRegions are the commercial Regions launched before 20 March 2019,
// enabled in every account (AWS-doc "Enable or disable AWS Regions in your
// account").
var defaultRegions = []string{
	"ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
	"ca-central-1", "eu-central-1", "eu-north-1", "eu-west-1", "eu-west-2", "eu-west-3",
	"sa-east-1", "us-east-1", "us-east-2", "us-west-1", "us-west-2",
}

func TestEnabledRegions(t *testing.T) {
	withOptIns := func(extra ...string) []string {
		out := slices.Concat(defaultRegions, extra)
		slices.Sort(out)
		return out
	}
	optIns := []string{"af-south-1", "ap-east-1", "ap-south-2", "ap-southeast-3", "eu-central-2", "eu-south-1", "eu-south-2", "il-central-1", "me-central-1", "me-south-1"}
	cases := map[string]struct {
		reason    string
		set       map[string]string
		want      []string
		wantPages int
	}{
		"defaults": {"a new account: the default Regions, opt-in ones left out", nil, withOptIns(), 1},
		"one opted in": {"an enabled opt-in Region is listed, one still enabling is not",
			map[string]string{"me-central-1": emulator.RegionEnabled, "af-south-1": emulator.RegionEnabling, "eu-south-1": emulator.RegionDisabling},
			withOptIns("me-central-1"), 1},
		"all opted in": {"more Regions than one page holds are all listed",
			func() map[string]string {
				m := map[string]string{}
				for _, r := range optIns {
					m[r] = emulator.RegionEnabled
				}
				return m
			}(), withOptIns(optIns...), 2},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := start(t, parse(t, objectsScenario), emulator.Options{})
			for r, st := range tc.set {
				if err := srv.SetRegionOptStatus(r, st); err != nil {
					t.Fatal(err)
				}
			}
			p := newProvider(t, srv)
			got, err := p.EnabledRegions(context.Background())
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("%s\nEnabledRegions = %v, %v\nwant %v", tc.reason, got, err, tc.want)
			}
			calls := srv.Calls()
			if n := countCalls(calls, op("account", "ListRegions")); n != tc.wantPages || len(calls) != n {
				t.Errorf("%s\n%d ListRegions calls of %d, want %d pages", tc.reason, n, len(calls), tc.wantPages)
			}
			for _, c := range calls {
				if c.Region != "us-east-1" {
					t.Errorf("%s\nListRegions signed for %s, want us-east-1 (a global service)", tc.reason, c.Region)
				}
			}
		})
	}
}

// TestEnabledRegionsRefused: a refused ListRegions is ErrRegionsUnreadable,
// so the caller can fall back; other failures are not.
func TestEnabledRegionsRefused(t *testing.T) {
	cases := map[string]struct {
		reason         string
		deny           bool
		fault          *emulator.Fault
		wantUnreadable bool
		wantCode       string
	}{
		"denied": {"no account:ListRegions", true, nil, true, "AccessDeniedException"},
		"denied on the second page": {"refused part way", false,
			&emulator.Fault{Service: "account", After: 1, Status: 403, Code: "AccessDeniedException", Message: "explicit deny in a service control policy"}, true, "AccessDeniedException"},
		"invalid": {"a validation failure is a plain error", false,
			&emulator.Fault{Service: "account", Status: 400, Code: "ValidationException", Message: "bad"}, false, "ValidationException"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := start(t, parse(t, objectsScenario), emulator.Options{})
			srv.SetListRegionsDenied(tc.deny)
			if tc.fault != nil {
				for _, r := range []string{"af-south-1", "ap-east-1", "ap-south-2", "ap-southeast-3"} {
					_ = srv.SetRegionOptStatus(r, emulator.RegionEnabled) // 21 Regions: two pages
				}
				srv.InjectFault(*tc.fault)
			}
			p := newProvider(t, srv)
			got, err := p.EnabledRegions(context.Background())
			if err == nil || got != nil {
				t.Fatalf("%s\nEnabledRegions = %v, %v; want an error", tc.reason, got, err)
			}
			if errors.Is(err, awsprovider.ErrRegionsUnreadable) != tc.wantUnreadable || awsprovider.ErrorCode(err) != tc.wantCode {
				t.Errorf("%s\nerr %v: unreadable %v, code %q; want %v, %q", tc.reason, err, !tc.wantUnreadable, awsprovider.ErrorCode(err), tc.wantUnreadable, tc.wantCode)
			}
			if !strings.HasPrefix(err.Error(), "list enabled regions: "+tc.wantCode) {
				t.Errorf("%s\nerror %q does not say what was done", tc.reason, err)
			}
		})
	}
}
