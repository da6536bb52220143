package plan

import (
	"strings"
	"testing"

	"github.com/s3baseline/s3baseline/settings"
)

func TestImpact(t *testing.T) {
	tls := string(TLSStatement(testBucket))
	lock := string(AdminLockStatement(testBucket, []string{testAdmin}))
	publicRead := `{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}`
	partner := `{"Sid":"Partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}`
	vpcOnly := `{"Sid":"VPC","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}}`

	cases := map[string]struct {
		reason  string
		mutate  func(st *settings.BucketState)
		control settings.ControlID
		want    []string // substrings, one per impact line, in order
	}{
		"public policy": {
			reason: "RestrictPublicBuckets would stop a public-read policy",
			mutate: func(st *settings.BucketState) {
				st.PublicAccessBlock = nil
				st.Policy = policyOf(tls, lock, publicRead)
			},
			control: settings.BlockPublicAccess,
			want:    []string{"grants public access (PublicRead)"},
		},
		"cross-account grants in a public policy": {
			reason: "RestrictPublicBuckets cuts the cross-account grants of a public policy too",
			mutate: func(st *settings.BucketState) {
				st.PublicAccessBlock = nil
				st.Policy = policyOf(tls, lock, publicRead, partner)
			},
			control: settings.BlockPublicAccess,
			want:    []string{"grants public access", "accounts 210987654321"},
		},
		"cross-account grants in a private policy": {
			reason:  "a policy that is not public keeps its cross-account grants under RestrictPublicBuckets",
			mutate:  func(st *settings.BucketState) { st.PublicAccessBlock = nil; st.Policy = policyOf(tls, lock, partner) },
			control: settings.BlockPublicAccess,
			want:    nil,
		},
		"conditioned statement": {
			reason:  "an Allow to * restricted by a condition is not public",
			mutate:  func(st *settings.BucketState) { st.PublicAccessBlock = nil; st.Policy = policyOf(tls, lock, vpcOnly) },
			control: settings.BlockPublicAccess,
			want:    nil,
		},
		"website": {
			reason: "a website endpoint stops answering the public",
			mutate: func(st *settings.BucketState) {
				st.PublicAccessBlock = nil
				st.Website = &settings.Website{IndexDocument: "index.html"}
				st.Observed = append(st.Observed, settings.AspectWebsite)
			},
			control: settings.BlockPublicAccess,
			want:    []string{"static website hosting"},
		},
		"cloudformation": {
			reason: "every change to a stack's bucket makes the stack drift",
			mutate: func(st *settings.BucketState) {
				st.Ownership = nil
				st.Tags = map[string]string{CloudFormationStackTag: "web-prod"}
				st.Observed = append(st.Observed, settings.AspectTags)
			},
			control: settings.ObjectOwnership,
			want:    []string{`CloudFormation stack "web-prod"`},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			in := testInput(t, "high")
			tc.mutate(&in.State)
			bp := Diff(in)
			ch, ok := findChange(bp, tc.control)
			if !ok || ch.Action == NoOp {
				t.Fatalf("%s: no %s change planned: %+v", tc.reason, tc.control, bp.Changes)
			}
			if len(ch.Impact) != len(tc.want) {
				t.Fatalf("%s: impact = %q, want %d lines like %q", tc.reason, ch.Impact, len(tc.want), tc.want)
			}
			for i, w := range tc.want {
				if !strings.Contains(ch.Impact[i], w) {
					t.Errorf("%s: impact[%d] = %q, want it to mention %q", tc.reason, i, ch.Impact[i], w)
				}
			}
		})
	}
}
