package plan

import (
	"testing"

	"github.com/s3baseline/s3baseline/settings"
)

func TestOrgPolicyFindings(t *testing.T) {
	rcp := SuggestedTLSRCP
	for _, tc := range []struct {
		name  string
		g     settings.OrgGuardrails
		want  []settings.ControlID
		notes int
	}{
		{"nothing enabled", settings.OrgGuardrails{RootID: "r-1"}, []settings.ControlID{settings.AccountBlockPublicAccess, settings.TLSOnly}, 0},
		{"both at the root", settings.OrgGuardrails{RootID: "r-1", S3PoliciesEnabled: true, RCPsEnabled: true,
			S3Policies: []settings.OrgPolicy{{ID: "p-a", Content: SuggestedS3Policy}}, RCPs: []settings.OrgPolicy{{ID: "p-b", Content: rcp}}}, nil, 2},
		{"enabled, none assigns all", settings.OrgGuardrails{RootID: "r-1", S3PoliciesEnabled: true, RCPsEnabled: true,
			S3Policies: []settings.OrgPolicy{{ID: "p-a", Content: `{"s3_attributes":{"public_access_block_configuration":{"@@assign":"none"}}}`}},
			RCPs:       []settings.OrgPolicy{{ID: "p-full", AWSManaged: true, Content: rcp}}}, []settings.ControlID{settings.AccountBlockPublicAccess, settings.TLSOnly}, 0},
	} {
		f, notes := OrgPolicyFindings(tc.g)
		var got []settings.ControlID
		for _, x := range f {
			got = append(got, x.Control)
			if len(x.NIST) == 0 || x.Subject != "r-1" {
				t.Errorf("%s: finding %+v lacks NIST or the root", tc.name, x)
			}
		}
		if len(got) != len(tc.want) || (len(got) > 0 && (got[0] != tc.want[0] || got[1] != tc.want[1])) || len(notes) != tc.notes {
			t.Errorf("%s: findings %v notes %q, want %v and %d notes", tc.name, got, notes, tc.want, tc.notes)
		}
	}
}
