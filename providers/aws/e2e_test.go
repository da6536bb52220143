package aws_test

import (
	"context"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/s3baseline/s3baseline/fixtures"
	"github.com/s3baseline/s3baseline/fixtures/emulator"
	"github.com/s3baseline/s3baseline/settings"
)

func e2eScenario(t *testing.T) *emulator.Scenario {
	t.Helper()
	sc, err := fixtures.Scenario("e2e")
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

// scenarioPolicy is the stored text of a scenario bucket's policy: the
// emulator keeps what a client would have sent, compacted.
func scenarioPolicy(t *testing.T, sc *emulator.Scenario, bucket string) *settings.Policy {
	t.Helper()
	for _, b := range sc.Buckets {
		if b.Name == bucket {
			return &settings.Policy{Raw: compact(t, string(b.Policy))}
		}
	}
	t.Fatalf("bucket %s not in scenario", bucket)
	return nil
}

// TestObserveE2E observes every aspect of every bucket of the end-to-end
// scenario, the state the plan engine's tests start from.
func TestObserveE2E(t *testing.T) {
	sc := e2eScenario(t)
	srv := start(t, sc, emulator.Options{})
	p := newProvider(t, srv)
	ctx := context.Background()

	const (
		account = "123456789012"
		keyEU   = "arn:aws:kms:eu-west-1:123456789012:key/0b9f8e7d-6c5b-4a39-8281-7f6e5d4c3b2a"
	)
	allOn := &settings.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true}
	enforced := &settings.Ownership{Rule: settings.OwnershipBucketOwnerEnforced}
	// The e2e account has no SSE-C objects: S3 blocked SSE-C on its buckets
	// in April 2026.
	sseS3 := &settings.Encryption{Algorithm: settings.SSES3, BlockedEncryptionTypes: []string{settings.EncryptionTypeSSEC}}
	modern := func(name, region string, f func(*settings.BucketState)) settings.BucketState {
		b := settings.BucketState{
			Name: name, Region: region, Observed: allAspects, Tags: map[string]string{},
			PublicAccessBlock: allOn, Ownership: enforced, Encryption: sseS3,
		}
		if f != nil {
			f(&b)
		}
		return b
	}

	cases := []struct {
		reason string
		ref    settings.BucketRef
		want   settings.BucketState
	}{
		{
			reason: "legacy bucket: 404 for BPA, ownership and encryption map to absent",
			ref:    settings.BucketRef{Name: "legacy-archive", Region: "us-east-1"},
			want:   settings.BucketState{Name: "legacy-archive", Region: "us-east-1", Observed: allAspects, Tags: map[string]string{}},
		},
		{
			reason: "modern bucket: the 2023 defaults, nothing else",
			ref:    settings.BucketRef{Name: "modern-default", Region: "us-east-1"},
			want:   modern("modern-default", "us-east-1", nil),
		},
		{
			reason: "fully configured bucket in eu-west-1",
			ref:    settings.BucketRef{Name: "compliant-high", Region: "eu-west-1"},
			want: modern("compliant-high", "eu-west-1", func(b *settings.BucketState) {
				b.Encryption = &settings.Encryption{Algorithm: settings.SSEKMS, KMSKeyID: keyEU, KeyARN: keyEU, KeyManager: "CUSTOMER", BucketKeyEnabled: true,
					BlockedEncryptionTypes: []string{settings.EncryptionTypeSSEC}}
				b.Logging = &settings.Logging{TargetBucket: "s3baseline-logs-" + account + "-eu-west-1", TargetPrefix: "s3/",
					KeyFormat: settings.KeyFormatPartitioned, PartitionDateSource: settings.EventTime}
				b.Policy = scenarioPolicy(t, sc, "compliant-high")
				b.Notifications = &settings.Notifications{Entries: []settings.NotificationEntry{{
					ID: settings.NotificationID, Kind: settings.DestTopic, ARN: "arn:aws:sns:eu-west-1:" + account + ":s3baseline-events",
					Events: []string{"s3:ObjectCreated:*", "s3:ObjectRemoved:*"},
				}}}
			}),
		},
		{
			reason: "BPA explicitly all off is present with four false flags, not absent",
			ref:    settings.BucketRef{Name: "public-downloads-site", Region: "us-east-1"},
			want: modern("public-downloads-site", "us-east-1", func(b *settings.BucketState) {
				b.PublicAccessBlock = &settings.PublicAccessBlock{}
				b.Policy = scenarioPolicy(t, sc, "public-downloads-site")
			}),
		},
		{
			reason: "tags",
			ref:    settings.BucketRef{Name: "analytics-events", Region: "eu-west-1"},
			want: modern("analytics-events", "eu-west-1", func(b *settings.BucketState) {
				b.Tags = map[string]string{"team": "analytics"}
			}),
		},
		{
			reason: "tags",
			ref:    settings.BucketRef{Name: "analytics-old", Region: "us-east-1"},
			want: modern("analytics-old", "us-east-1", func(b *settings.BucketState) {
				b.Tags = map[string]string{"team": "legacy-analytics"}
			}),
		},
		{
			reason: "foreign policy statements and a foreign queue entry with EventBridge are kept whole",
			ref:    settings.BucketRef{Name: "shared-data", Region: "eu-west-1"},
			want: modern("shared-data", "eu-west-1", func(b *settings.BucketState) {
				b.Policy = scenarioPolicy(t, sc, "shared-data")
				b.Notifications = &settings.Notifications{EventBridge: true, Entries: []settings.NotificationEntry{{
					ID: "ingest", Kind: settings.DestQueue, ARN: "arn:aws:sqs:eu-west-1:" + account + ":ingest",
					Events: []string{"s3:ObjectCreated:Put"},
					Filter: []settings.FilterRule{{Name: "prefix", Value: "incoming/"}},
				}}}
			}),
		},
		{
			reason: "a policy with an Id and a Sid-less conditioned Deny, a foreign queue entry that does not overlap ours, EventBridge",
			ref:    settings.BucketRef{Name: "partner-exchange", Region: "eu-west-1"},
			want: modern("partner-exchange", "eu-west-1", func(b *settings.BucketState) {
				b.Tags = map[string]string{"owner": "partnerships"}
				b.Policy = scenarioPolicy(t, sc, "partner-exchange")
				b.Notifications = &settings.Notifications{EventBridge: true, Entries: []settings.NotificationEntry{{
					ID: "restore-audit", Kind: settings.DestQueue, ARN: "arn:aws:sqs:eu-west-1:" + account + ":ingest",
					Events: []string{"s3:ObjectRestore:Completed"},
				}}}
			}),
		},
		{
			reason: "log bucket with the delivery grant",
			ref:    settings.BucketRef{Name: "s3baseline-logs-123456789012-us-east-1", Region: "us-east-1"},
			want: modern("s3baseline-logs-123456789012-us-east-1", "us-east-1", func(b *settings.BucketState) {
				b.Policy = scenarioPolicy(t, sc, "s3baseline-logs-123456789012-us-east-1")
			}),
		},
		{
			reason: "log bucket with the delivery grant",
			ref:    settings.BucketRef{Name: "s3baseline-logs-123456789012-eu-west-1", Region: "eu-west-1"},
			want: modern("s3baseline-logs-123456789012-eu-west-1", "eu-west-1", func(b *settings.BucketState) {
				b.Policy = scenarioPolicy(t, sc, "s3baseline-logs-123456789012-eu-west-1")
			}),
		},
	}
	if len(cases) != len(sc.Buckets) {
		t.Fatalf("%d cases for %d scenario buckets: every bucket must be covered", len(cases), len(sc.Buckets))
	}
	for _, tc := range cases {
		t.Run(tc.ref.Name, func(t *testing.T) {
			got := p.ObserveBucket(ctx, tc.ref, allAspects)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nObserveBucket(%s) -want, +got:\n%s", tc.reason, tc.ref.Name, diff)
			}
		})
	}
}

// TestObserveCallsAndRegions observes all e2e buckets and checks the cost
// and the addressing: seven S3 reads per bucket, each signed for the
// bucket's own region (so no 301), and one DescribeKey per distinct key.
func TestObserveCallsAndRegions(t *testing.T) {
	sc := e2eScenario(t)
	srv := start(t, sc, emulator.Options{})
	p := newProvider(t, srv)
	ctx := context.Background()

	refs, err := p.ListBuckets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	srv.ResetCalls()
	for range 2 { // the second pass proves key lookups are cached
		for _, ref := range refs {
			st := p.ObserveBucket(ctx, ref, allAspects)
			if len(st.Errors) > 0 {
				t.Errorf("%s: unexpected errors %v", ref.Name, st.Errors)
			}
		}
	}
	calls := srv.Calls()

	regionOf := map[string]string{}
	for _, b := range sc.Buckets {
		regionOf[b.Name] = b.Region
	}
	perBucket := map[string]int{}
	keyCalls := 0
	for _, c := range calls {
		switch c.Service {
		case "s3":
			perBucket[c.Bucket]++
			if c.Region != regionOf[c.Bucket] {
				t.Errorf("%s %s signed for %s, want the bucket's region %s", c.Operation, c.Bucket, c.Region, regionOf[c.Bucket])
			}
			if c.Status == 301 || c.ErrorCode == "PermanentRedirect" {
				t.Errorf("%s %s got a redirect", c.Operation, c.Bucket)
			}
		case "kms":
			if c.Operation != "DescribeKey" || c.Region != "eu-west-1" {
				t.Errorf("unexpected KMS call %+v", c)
			}
			keyCalls++
		default:
			t.Errorf("unexpected call %+v", c)
		}
	}
	for _, ref := range refs {
		if got := perBucket[ref.Name]; got != 2*len(allAspects) {
			t.Errorf("%s: %d S3 calls over two passes, want %d (one per aspect)", ref.Name, got, 2*len(allAspects))
		}
	}
	// Only compliant-high uses a KMS key.
	if keyCalls != 1 {
		t.Errorf("%d DescribeKey calls, want 1 (one per distinct key and region)", keyCalls)
	}
}

// TestListBucketsE2E lists every bucket with its region from ListBuckets
// alone: no HeadBucket and no GetBucketLocation when BucketRegion is given.
func TestListBucketsE2E(t *testing.T) {
	sc := e2eScenario(t)
	srv := start(t, sc, emulator.Options{})
	p := newProvider(t, srv)

	got, err := p.ListBuckets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var want []settings.BucketRef
	for _, b := range sc.Buckets {
		want = append(want, settings.BucketRef{Name: b.Name, Region: b.Region})
	}
	byName := func(a, b settings.BucketRef) int {
		if a.Name < b.Name {
			return -1
		}
		if a.Name > b.Name {
			return 1
		}
		return 0
	}
	slices.SortFunc(want, byName)
	slices.SortFunc(got, byName)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListBuckets -want, +got:\n%s", diff)
	}
	for _, c := range srv.Calls() {
		if c.Operation != "ListBuckets" {
			t.Errorf("unexpected call %s %s", c.Operation, c.Bucket)
		}
		if c.Region != "us-east-1" {
			t.Errorf("ListBuckets signed for %s, want the global region us-east-1", c.Region)
		}
	}
}

// TestAccountE2E reads the caller and finds the account BPA absent.
func TestAccountE2E(t *testing.T) {
	srv := start(t, e2eScenario(t), emulator.Options{})
	p := newProvider(t, srv)
	got, err := p.Account(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := settings.AccountState{AccountID: "123456789012", Caller: "arn:aws:sts::123456789012:assumed-role/Ops/alice"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Account -want, +got:\n%s", diff)
	}
}
