package aws_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/s3baseline/s3baseline/fixtures/emulator"
	"github.com/s3baseline/s3baseline/settings"
)

var allAspects = []settings.Aspect{
	settings.AspectPublicAccessBlock,
	settings.AspectOwnership,
	settings.AspectEncryption,
	settings.AspectLogging,
	settings.AspectPolicy,
	settings.AspectNotifications,
	settings.AspectTags,
}

func loadScenario(t *testing.T, path string) *emulator.Scenario {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return parse(t, string(b))
}

func compact(t *testing.T, js string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Compact(&buf, []byte(js)); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// TestObserveBucketConversions reads every aspect of buckets that cover each
// shape S3 can answer with, and checks the conversion into settings loses
// nothing and normalises what aws-semantics says to normalise.
func TestObserveBucketConversions(t *testing.T) {
	srv := start(t, loadScenario(t, "testdata/observe.json"), emulator.Options{})
	p := newProvider(t, srv)
	ctx := context.Background()

	awsS3Key, err := p.DescribeKey(ctx, "us-east-1", "alias/aws/s3")
	if err != nil || !awsS3Key.Exists {
		t.Fatalf("DescribeKey(alias/aws/s3) = %+v, %v; want an existing key", awsS3Key, err)
	}

	const (
		keyUSE1 = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
		keyEUW1 = "arn:aws:kms:eu-west-1:111122223333:key/0987dcba-09fe-87dc-65ba-ab0987654321"
	)
	allOn := &settings.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true}
	enforced := &settings.Ownership{Rule: settings.OwnershipBucketOwnerEnforced}
	sseS3 := &settings.Encryption{Algorithm: settings.SSES3}
	noTags := map[string]string{}
	// modern is what a bucket created since 2023 reports with nothing set.
	modern := func(name string) settings.BucketState {
		return settings.BucketState{
			Name: name, Region: "us-east-1", Observed: allAspects, Tags: noTags,
			PublicAccessBlock: allOn, Ownership: enforced, Encryption: sseS3,
		}
	}
	with := func(b settings.BucketState, f func(*settings.BucketState)) settings.BucketState {
		f(&b)
		return b
	}

	cases := map[string]struct {
		reason string
		ref    settings.BucketRef
		want   settings.BucketState
	}{
		"legacy": {
			reason: "a bucket from before 2023 answers 404 for BPA, ownership and encryption; all are absent, not errors",
			ref:    settings.BucketRef{Name: "legacy", Region: "us-east-1"},
			want:   settings.BucketState{Name: "legacy", Region: "us-east-1", Observed: allAspects, Tags: noTags},
		},
		"modern": {
			reason: "a new bucket reports all BPA flags, BucketOwnerEnforced and SSE-S3",
			ref:    settings.BucketRef{Name: "modern", Region: "us-east-1"},
			want:   modern("modern"),
		},
		"kms-default-key": {
			reason: "aws:kms without a key id is the AWS-managed aws/s3 key, resolved to its ARN",
			ref:    settings.BucketRef{Name: "kms-default-key", Region: "us-east-1"},
			want: with(modern("kms-default-key"), func(b *settings.BucketState) {
				b.Encryption = &settings.Encryption{Algorithm: settings.SSEKMS, KeyARN: awsS3Key.ARN, KeyManager: "AWS"}
			}),
		},
		"kms-alias-eu": {
			reason: "an alias is kept verbatim and resolved in the bucket's own region",
			ref:    settings.BucketRef{Name: "kms-alias-eu", Region: "eu-west-1"},
			want: with(modern("kms-alias-eu"), func(b *settings.BucketState) {
				b.Region = "eu-west-1"
				b.Encryption = &settings.Encryption{Algorithm: settings.SSEKMS, KMSKeyID: "alias/data", KeyARN: keyEUW1, KeyManager: "CUSTOMER", BucketKeyEnabled: true}
			}),
		},
		"dsse-key-id": {
			reason: "DSSE-KMS with a bare key id resolves to the key ARN",
			ref:    settings.BucketRef{Name: "dsse-key-id", Region: "us-east-1"},
			want: with(modern("dsse-key-id"), func(b *settings.BucketState) {
				b.Encryption = &settings.Encryption{Algorithm: settings.SSEKMSDSS, KMSKeyID: "1234abcd-12ab-34cd-56ef-1234567890ab", KeyARN: keyUSE1, KeyManager: "CUSTOMER"}
			}),
		},
		"kms-missing-key": {
			reason: "a key KMS does not know leaves KeyARN empty and is not an observation error",
			ref:    settings.BucketRef{Name: "kms-missing-key", Region: "us-east-1"},
			want: with(modern("kms-missing-key"), func(b *settings.BucketState) {
				b.Encryption = &settings.Encryption{Algorithm: settings.SSEKMS, KMSKeyID: "alias/gone"}
			}),
		},
		"partial-bpa": {
			reason: "false flags come back false, not dropped; ObjectWriter is a rule like any other",
			ref:    settings.BucketRef{Name: "partial-bpa", Region: "us-east-1"},
			want: with(modern("partial-bpa"), func(b *settings.BucketState) {
				b.PublicAccessBlock = &settings.PublicAccessBlock{BlockPublicAcls: true, BlockPublicPolicy: true}
				b.Ownership = &settings.Ownership{Rule: settings.OwnershipObjectWriter}
			}),
		},
		"log-plain": {
			reason: "no TargetObjectKeyFormat is kept as none (S3 applies the simple format)",
			ref:    settings.BucketRef{Name: "log-plain", Region: "us-east-1"},
			want: with(modern("log-plain"), func(b *settings.BucketState) {
				b.Logging = &settings.Logging{TargetBucket: "logs-use1", TargetPrefix: "plain/"}
			}),
		},
		"log-simple": {
			reason: "an explicit SimplePrefix is the simple format",
			ref:    settings.BucketRef{Name: "log-simple", Region: "us-east-1"},
			want: with(modern("log-simple"), func(b *settings.BucketState) {
				b.Logging = &settings.Logging{TargetBucket: "logs-use1", TargetPrefix: "simple/", KeyFormat: settings.KeyFormatSimple}
			}),
		},
		"log-partitioned-nosource": {
			reason: "a partitioned format without a date source is kept so (AWS applies EventTime)",
			ref:    settings.BucketRef{Name: "log-partitioned-nosource", Region: "us-east-1"},
			want: with(modern("log-partitioned-nosource"), func(b *settings.BucketState) {
				b.Logging = &settings.Logging{TargetBucket: "logs-use1", KeyFormat: settings.KeyFormatPartitioned}
			}),
		},
		"log-partitioned-delivery": {
			reason: "DeliveryTime is kept",
			ref:    settings.BucketRef{Name: "log-partitioned-delivery", Region: "us-east-1"},
			want: with(modern("log-partitioned-delivery"), func(b *settings.BucketState) {
				b.Logging = &settings.Logging{TargetBucket: "logs-use1", TargetPrefix: "p/", KeyFormat: settings.KeyFormatPartitioned, PartitionDateSource: settings.DeliveryTime}
			}),
		},
		"with-policy": {
			reason: "the policy is the exact text S3 returned",
			ref:    settings.BucketRef{Name: "with-policy", Region: "us-east-1"},
			want: with(modern("with-policy"), func(b *settings.BucketState) {
				b.Policy = &settings.Policy{Raw: compact(t, `{"Version": "2012-10-17", "Statement": [{"Sid": "Foreign", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::with-policy/*"}]}`)}
			}),
		},
		"notified": {
			reason: "every topic, queue and Lambda entry with ids, events and filters, and EventBridge, are kept",
			ref:    settings.BucketRef{Name: "notified", Region: "us-east-1"},
			want: with(modern("notified"), func(b *settings.BucketState) {
				b.Notifications = &settings.Notifications{EventBridge: true, Entries: []settings.NotificationEntry{
					{ID: "topic-1", Kind: settings.DestTopic, ARN: "arn:aws:sns:us-east-1:111122223333:events",
						Events: []string{"s3:ObjectCreated:*", "s3:ObjectRemoved:Delete"},
						Filter: []settings.FilterRule{{Name: "prefix", Value: "in/"}, {Name: "suffix", Value: ".csv"}}},
					{ID: "queue-1", Kind: settings.DestQueue, ARN: "arn:aws:sqs:us-east-1:111122223333:jobs",
						Events: []string{"s3:ObjectRestore:Completed"}},
					{ID: "fn-1", Kind: settings.DestLambda, ARN: "arn:aws:lambda:us-east-1:111122223333:function:thumb",
						Events: []string{"s3:ObjectCreated:Put"},
						Filter: []settings.FilterRule{{Name: "suffix", Value: ".jpg"}}},
				}}
			}),
		},
		"eventbridge-only": {
			reason: "EventBridge alone is a configuration, so it is not absent",
			ref:    settings.BucketRef{Name: "eventbridge-only", Region: "us-east-1"},
			want: with(modern("eventbridge-only"), func(b *settings.BucketState) {
				b.Notifications = &settings.Notifications{EventBridge: true}
			}),
		},
		"ssec-blocked": {
			reason: "BlockedEncryptionTypes comes back as S3 returned it",
			ref:    settings.BucketRef{Name: "ssec-blocked", Region: "us-east-1"},
			want: with(modern("ssec-blocked"), func(b *settings.BucketState) {
				b.Encryption = &settings.Encryption{Algorithm: settings.SSES3, BlockedEncryptionTypes: []string{"SSE-C"}}
			}),
		},
		"ssec-none": {
			reason: "NONE is kept verbatim: it is not the absent element",
			ref:    settings.BucketRef{Name: "ssec-none", Region: "us-east-1"},
			want: with(modern("ssec-none"), func(b *settings.BucketState) {
				b.Encryption = &settings.Encryption{Algorithm: settings.SSES3, BlockedEncryptionTypes: []string{"NONE"}}
			}),
		},
		"tagged": {
			reason: "tags come back as a map",
			ref:    settings.BucketRef{Name: "tagged", Region: "us-east-1"},
			want: with(modern("tagged"), func(b *settings.BucketState) {
				b.Tags = map[string]string{"team": "analytics", "cost-center": "42"}
			}),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := p.ObserveBucket(ctx, tc.ref, allAspects)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nObserveBucket(%s) -want, +got:\n%s", tc.reason, tc.ref.Name, diff)
			}
		})
	}
}

// TestObserveBucketSubset reads only the aspects asked for, once each.
func TestObserveBucketSubset(t *testing.T) {
	srv := start(t, loadScenario(t, "testdata/observe.json"), emulator.Options{})
	p := newProvider(t, srv)
	srv.ResetCalls()
	got := p.ObserveBucket(context.Background(), settings.BucketRef{Name: "with-policy", Region: "us-east-1"},
		[]settings.Aspect{settings.AspectPolicy, settings.AspectPolicy, "bogus"})
	if want := []settings.Aspect{settings.AspectPolicy}; !cmp.Equal(want, got.Observed) {
		t.Errorf("Observed = %v, want %v", got.Observed, want)
	}
	if got.Policy == nil || got.PublicAccessBlock != nil {
		t.Errorf("want only the policy filled, got %+v", got)
	}
	if msg := got.Errors["bogus"]; !strings.Contains(msg, "unknown aspect") {
		t.Errorf("Errors[bogus] = %q, want an unknown aspect error", msg)
	}
	calls := srv.Calls()
	if len(calls) != 1 || calls[0].Operation != "GetBucketPolicy" {
		t.Errorf("calls = %+v, want exactly one GetBucketPolicy", calls)
	}
}

// TestObserveACLAndPolicyStatus reads the ACL and S3's verdict on the
// policy, the two aspects the impact rules judge from.
func TestObserveACLAndPolicyStatus(t *testing.T) {
	sc := loadScenario(t, "testdata/observe.json")
	sc.Buckets = append(sc.Buckets,
		emulator.Bucket{Name: "public-tls", Region: "us-east-1", Policy: json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::public-tls/*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`)},
		emulator.Bucket{Name: "vpce-only", Region: "us-east-1", Policy: json.RawMessage(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::vpce-only/*","Condition":{"StringEquals":{"aws:SourceVpce":"vpce-1"}}}]}`)},
	)
	srv := start(t, sc, emulator.Options{})
	p := newProvider(t, srv)
	ctx := context.Background()
	owner := srv.OwnerCanonicalID()
	aspects := []settings.Aspect{settings.AspectACL, settings.AspectPolicyStatus}
	cases := map[string]struct {
		reason string
		acl    *settings.ACL
		status *settings.PolicyStatus
	}{
		"modern": {reason: "the default ACL is the owner's full control; no policy is no status",
			acl: &settings.ACL{Owner: owner, Grants: []settings.Grant{{Type: "CanonicalUser", ID: owner, Permission: "FULL_CONTROL"}}}},
		"acl-shared": {reason: "group and other-account grants come back with their types (from xsi:type)",
			acl: &settings.ACL{Owner: owner, Grants: []settings.Grant{
				{Type: "Group", URI: settings.GroupAllUsers, Permission: "READ"},
				{Type: "Group", URI: settings.GroupLogDelivery, Permission: "WRITE"},
				{Type: "CanonicalUser", ID: "c4c1ede66af53448b93c283ce9448c4ba468c9432aa01d700d3878632f77d2d0", Permission: "FULL_CONTROL"},
			}}},
		"public-tls": {reason: "aws:SecureTransport does not make a policy private",
			acl: &settings.ACL{Owner: owner, Grants: []settings.Grant{{Type: "CanonicalUser", ID: owner, Permission: "FULL_CONTROL"}}}, status: &settings.PolicyStatus{IsPublic: true}},
		"vpce-only": {reason: "a fixed aws:SourceVpce does",
			acl: &settings.ACL{Owner: owner, Grants: []settings.Grant{{Type: "CanonicalUser", ID: owner, Permission: "FULL_CONTROL"}}}, status: &settings.PolicyStatus{}},
	}
	for name, tc := range cases {
		st := p.ObserveBucket(ctx, settings.BucketRef{Name: name, Region: "us-east-1"}, aspects)
		if len(st.Errors) > 0 {
			t.Fatalf("%s: %v", name, st.Errors)
		}
		if diff := cmp.Diff(tc.acl, st.ACL); diff != "" {
			t.Errorf("%s: %s\nACL -want +got:\n%s", name, tc.reason, diff)
		}
		if diff := cmp.Diff(tc.status, st.PolicyStatus); diff != "" {
			t.Errorf("%s: %s\npolicy status -want +got:\n%s", name, tc.reason, diff)
		}
	}
}

// TestObserveDisabledACL: with Object Ownership BucketOwnerEnforced, S3
// answers GetBucketAcl with the owner's full control whatever is stored, so
// once the provider knows the owner it gives that answer without the call,
// and reads the ACL again as soon as ACLs are enabled.
func TestObserveDisabledACL(t *testing.T) {
	srv := start(t, loadScenario(t, "testdata/observe.json"), emulator.Options{})
	ctx := context.Background()
	public := []emulator.Grant{
		{Type: "CanonicalUser", ID: srv.OwnerCanonicalID(), Permission: "FULL_CONTROL"},
		{Type: "Group", URI: settings.GroupAllUsers, Permission: "READ"},
	}
	// Stored grants that BucketOwnerEnforced hides: they show again
	// if ACLs are enabled.
	if err := srv.SetACL("modern", public); err != nil {
		t.Fatal(err)
	}
	ref := settings.BucketRef{Name: "modern", Region: "us-east-1"}
	// ACL first on purpose: the provider must read the ownership first.
	aspects := []settings.Aspect{settings.AspectACL, settings.AspectOwnership}
	aclCalls := func() int { return countCalls(srv.Calls(), op("s3", "GetBucketAcl")) }
	observe := func(p interface {
		ObserveBucket(context.Context, settings.BucketRef, []settings.Aspect) settings.BucketState
	}, reason string, wantCalls int) settings.BucketState {
		t.Helper()
		srv.ResetCalls()
		st := p.ObserveBucket(ctx, ref, aspects)
		if len(st.Errors) > 0 || !st.Has(settings.AspectACL) || !st.Has(settings.AspectOwnership) {
			t.Fatalf("%s: observed %v, errors %v", reason, st.Observed, st.Errors)
		}
		if n := aclCalls(); n != wantCalls {
			t.Errorf("%s: %d GetBucketAcl calls, want %d", reason, n, wantCalls)
		}
		return st
	}

	p := newProvider(t, srv)
	read := observe(p, "owner not known yet: the ACL is read", 1)
	ownerOnly := &settings.ACL{Owner: srv.OwnerCanonicalID(), Grants: []settings.Grant{{Type: "CanonicalUser", ID: srv.OwnerCanonicalID(), Permission: "FULL_CONTROL"}}}
	if diff := cmp.Diff(ownerOnly, read.ACL); diff != "" {
		t.Fatalf("GetBucketAcl under BucketOwnerEnforced (-want +got):\n%s", diff)
	}
	known := observe(p, "owner known from that answer, ownership enforced: no call", 0)
	if diff := cmp.Diff(read, known); diff != "" {
		t.Errorf("the ACL left unread differs from the one read (-read +unread):\n%s", diff)
	}

	listed := newProvider(t, srv)
	if _, err := listed.ListBuckets(ctx); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(read, observe(listed, "owner known from ListBuckets: no call", 0)); diff != "" {
		t.Errorf("after ListBuckets, the ACL left unread differs from the one read (-read +unread):\n%s", diff)
	}

	if err := srv.SetOwnership("modern", "ObjectWriter"); err != nil {
		t.Fatal(err)
	}
	enabled := observe(p, "ACLs enabled again: the ACL is read", 1)
	if n := len(enabled.ACL.Grants); n != 2 {
		t.Errorf("ACLs enabled: grants %+v, want the stored public grant back", enabled.ACL.Grants)
	}

	srv.ResetCalls()
	if st := p.ObserveBucket(ctx, ref, []settings.Aspect{settings.AspectACL}); !st.Has(settings.AspectACL) || aclCalls() != 1 {
		t.Errorf("ACL asked for without the ownership: observed %v, %d GetBucketAcl calls, want it read", st.Observed, aclCalls())
	}
}
