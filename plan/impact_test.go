package plan

import (
	"slices"
	"strings"
	"testing"

	"github.com/s3baseline/s3baseline/settings"
)

func TestImpact(t *testing.T) {
	tls := string(TLSStatement("", testBucket))
	lock := string(AdminLockStatement(testBucket, testLock()))
	publicRead := `{"Sid":"PublicRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}`
	partner := `{"Sid":"Partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::210987654321:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}`
	secureOnly := `{"Sid":"TLSRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}`
	notPrincipal := `{"Sid":"AllButBob","Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::123456789012:user/bob"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}`
	vpcOnly := `{"Sid":"VPC","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}}`

	cases := map[string]struct {
		reason  string
		mutate  func(st *settings.BucketState)
		control settings.ControlID
		want    []string // substrings, one per impact line, in order
		held    string   // substring of HeldBack; "" for none
	}{
		"public policy": {
			reason: "RestrictPublicBuckets would stop a public-read policy",
			mutate: func(st *settings.BucketState) {
				st.PublicAccessBlock = nil
				st.Policy = policyOf(tls, lock, publicRead)
				st.PolicyStatus = &settings.PolicyStatus{IsPublic: true}
			},
			control: settings.BlockPublicAccess,
			want:    []string{"the bucket policy is public (PublicRead)"},
		},
		"cross-account grants in a public policy": {
			reason: "RestrictPublicBuckets cuts the cross-account grants of a public policy too",
			mutate: func(st *settings.BucketState) {
				st.PublicAccessBlock = nil
				st.Policy = policyOf(tls, lock, publicRead, partner)
				st.PolicyStatus = &settings.PolicyStatus{IsPublic: true}
			},
			control: settings.BlockPublicAccess,
			want:    []string{"the bucket policy is public (PublicRead)", "accounts 210987654321"},
		},
		"secure transport is not a restriction": {
			reason: "an Allow to * conditioned on aws:SecureTransport is public by AWS's definition",
			mutate: func(st *settings.BucketState) {
				st.PublicAccessBlock = nil
				st.Policy = policyOf(tls, lock, secureOnly)
				st.PolicyStatus = &settings.PolicyStatus{IsPublic: true}
			},
			control: settings.BlockPublicAccess,
			want:    []string{"the bucket policy is public (TLSRead)"},
		},
		"not principal": {
			reason: "an Allow with NotPrincipal grants everyone but some",
			mutate: func(st *settings.BucketState) {
				st.PublicAccessBlock = nil
				st.Policy = policyOf(tls, lock, notPrincipal)
				st.PolicyStatus = &settings.PolicyStatus{IsPublic: true}
			},
			control: settings.BlockPublicAccess,
			want:    []string{"the bucket policy is public (AllButBob)"},
		},
		"S3 says public": {
			reason: "S3's verdict wins over the tool's reading of the statements",
			mutate: func(st *settings.BucketState) {
				st.PublicAccessBlock = nil
				st.Policy = policyOf(tls, lock, vpcOnly)
				st.PolicyStatus = &settings.PolicyStatus{IsPublic: true}
			},
			control: settings.BlockPublicAccess,
			want:    []string{"S3 reports the policy as public"},
		},
		"public ACL": {
			reason: "IgnorePublicAcls stops public ACL grants",
			mutate: func(st *settings.BucketState) {
				st.PublicAccessBlock = nil
				st.Ownership = &settings.Ownership{Rule: settings.OwnershipObjectWriter}
				st.ACL = &settings.ACL{Owner: testOwnerID, Grants: append(privateACL().Grants,
					settings.Grant{Type: "Group", URI: settings.GroupAllUsers, Permission: "READ"})}
			},
			control: settings.BlockPublicAccess,
			want:    []string{"the bucket ACL grants public access (AllUsers READ)", "objects may be shared through their own ACLs"},
		},
		"object ACLs": {
			reason: "with ACLs enabled, public object ACLs cannot be ruled out: IgnorePublicAcls would cut them",
			mutate: func(st *settings.BucketState) {
				st.PublicAccessBlock = nil
				st.Ownership = &settings.Ownership{Rule: settings.OwnershipObjectWriter}
			},
			control: settings.BlockPublicAccess,
			want:    []string{"objects may be shared through their own ACLs"},
		},
		"policy not read": {
			reason: "with the policy not read (tls_only exempted, a baseline without policy controls) nothing is known: held back",
			mutate: func(st *settings.BucketState) {
				st.PublicAccessBlock = nil
				st.Observed = slices.DeleteFunc(slices.Clone(st.Observed), func(a settings.Aspect) bool { return a == settings.AspectPolicy })
			},
			control: settings.BlockPublicAccess,
			held:    "the bucket policy was not read",
		},
		"policy status unreadable": {
			reason: "S3's verdict could not be read: held back rather than guessed",
			mutate: func(st *settings.BucketState) {
				st.PublicAccessBlock = nil
				st.Policy = policyOf(tls, lock, vpcOnly)
				st.Errors = map[settings.Aspect]string{settings.AspectPolicyStatus: "get bucket policy status: AccessDenied: Access Denied"}
			},
			control: settings.BlockPublicAccess,
			held:    "get bucket policy status: AccessDenied",
		},
		"tls on website": {
			reason: "a website endpoint is HTTP only: the TLS Deny refuses every website request",
			mutate: func(st *settings.BucketState) {
				st.Policy = policyOf(lock)
				st.Website = &settings.Website{IndexDocument: "index.html"}
			},
			control: settings.TLSOnly,
			want:    []string{"website endpoints are HTTP only"},
		},
		"ownership over ACL grants": {
			reason: "BucketOwnerEnforced disables the ACL grants of others (the log-delivery group here)",
			mutate: func(st *settings.BucketState) {
				st.Ownership = nil
				st.ACL = &settings.ACL{Owner: testOwnerID, Grants: append(privateACL().Grants,
					settings.Grant{Type: "Group", URI: settings.GroupLogDelivery, Permission: "WRITE"})}
			},
			control: settings.ObjectOwnership,
			want:    []string{"BucketOwnerEnforced disables them"},
			held:    "LogDelivery WRITE",
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
		"kms over cross-account readers": {
			reason: "another account reading through the policy also needs kms:Decrypt on the key once objects are KMS-encrypted",
			mutate: func(st *settings.BucketState) {
				st.Encryption = &settings.Encryption{Algorithm: settings.SSES3, BlockedEncryptionTypes: []string{"SSE-C"}}
				st.Policy = policyOf(tls, lock, partner)
			},
			control: settings.DefaultEncryption,
			want:    []string{"other accounts read objects through the bucket policy (210987654321)"},
		},
		"kms over a public policy already restricted": {
			reason: "RestrictPublicBuckets already cuts a public policy's grants, anonymous and cross-account: nothing more to lose",
			mutate: func(st *settings.BucketState) {
				st.Encryption = &settings.Encryption{Algorithm: settings.SSES3, BlockedEncryptionTypes: []string{"SSE-C"}}
				st.Policy = policyOf(tls, lock, publicRead, partner)
				st.PolicyStatus = &settings.PolicyStatus{IsPublic: true}
			},
			control: settings.DefaultEncryption,
			want:    nil,
		},
		"kms over a public policy": {
			reason: "anonymous readers and the other account both lose new objects",
			mutate: func(st *settings.BucketState) {
				st.Encryption = &settings.Encryption{Algorithm: settings.SSES3, BlockedEncryptionTypes: []string{"SSE-C"}}
				st.PublicAccessBlock = nil
				st.Policy = policyOf(tls, lock, publicRead, partner)
				st.PolicyStatus = &settings.PolicyStatus{IsPublic: true}
			},
			control: settings.DefaultEncryption,
			want:    []string{"read through a public policy (PublicRead)", "other accounts read objects through the bucket policy (210987654321)"},
		},
		"cloudformation": {
			reason: "every change to a stack's bucket makes the stack drift",
			mutate: func(st *settings.BucketState) {
				st.Ownership = nil
				st.Tags = map[string]string{CloudFormationStackTag: "web-prod"}
				st.Observed = append(st.Observed, settings.AspectTags)
			},
			control: settings.ObjectOwnership,
			want:    []string{"BucketOwnerEnforced disables them", `CloudFormation stack "web-prod"`},
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
			if (tc.held == "") != (ch.HeldBack == "") || !strings.Contains(ch.HeldBack, tc.held) {
				t.Errorf("%s: held back %q, want %q", tc.reason, ch.HeldBack, tc.held)
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
