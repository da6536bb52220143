package aws_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/s3baseline/s3baseline/fixtures/emulator"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
	"github.com/s3baseline/s3baseline/settings"
)

const (
	keyUS     = "arn:aws:kms:us-east-1:123456789012:key/5f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b"
	logsUS    = "s3baseline-logs-123456789012-us-east-1"
	topicUS   = "arn:aws:sns:us-east-1:123456789012:s3baseline-events"
	topicEU   = "arn:aws:sns:eu-west-1:123456789012:s3baseline-events"
	queueEU   = "arn:aws:sqs:eu-west-1:123456789012:ingest"
	eventsAll = "s3:ObjectCreated:*"
)

func TestPutPublicAccessBlock(t *testing.T) {
	all := &settings.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true}
	two := &settings.PublicAccessBlock{BlockPublicAcls: true, BlockPublicPolicy: true}
	none := &settings.PublicAccessBlock{}
	runPutCases(t, map[string]putCase[settings.PublicAccessBlock]{
		"set on legacy": {
			reason: "a legacy bucket without BPA gets all four flags",
			ref:    usEast("legacy-archive"), writes: []*settings.PublicAccessBlock{all}, want: all,
		},
		"replace not merge": {
			reason: "two flags after four leave exactly two: the Put replaces, false flags are sent",
			ref:    usEast("legacy-archive"), writes: []*settings.PublicAccessBlock{all, two}, want: two,
		},
		"all false": {
			reason: "all four false is written as such, not dropped into an empty body",
			ref:    usEast("modern-default"), writes: []*settings.PublicAccessBlock{none}, want: none,
		},
		"delete": {
			reason: "nil deletes the configuration",
			ref:    usEast("modern-default"), writes: []*settings.PublicAccessBlock{nil}, want: nil,
		},
		"delete absent": {
			reason: "deleting what is already absent is success",
			ref:    usEast("legacy-archive"), writes: []*settings.PublicAccessBlock{nil}, want: nil,
		},
		"other region": {
			reason: "an eu-west-1 bucket is written through its region's client",
			ref:    euWest("analytics-events"), writes: []*settings.PublicAccessBlock{two}, want: two,
		},
	}, (*awsprovider.Provider).PutPublicAccessBlock,
		func(p *awsprovider.Provider, ctx context.Context, ref settings.BucketRef) (*settings.PublicAccessBlock, error) {
			return awsprovider.FindPublicAccessBlock(ctx, p.S3Client(ref.Region), ref.Name)
		})
}

// TestPutPublicAccessBlockSendsEveryFlag checks the wire: all four flags,
// false ones included (the Go v2 pitfall of aws-semantics §1).
func TestPutPublicAccessBlockSendsEveryFlag(t *testing.T) {
	srv := start(t, e2eScenario(t), emulator.Options{})
	rec := &recorder{}
	p := newProvider(t, srv, withRecorder(rec))
	err := p.PutPublicAccessBlock(context.Background(), usEast("modern-default"), &settings.PublicAccessBlock{IgnorePublicAcls: true})
	if err != nil {
		t.Fatal(err)
	}
	puts := rec.requests("PUT", "publicAccessBlock")
	if len(puts) != 1 {
		t.Fatalf("%d PutPublicAccessBlock requests, want 1", len(puts))
	}
	for _, want := range []string{
		"<BlockPublicAcls>false</BlockPublicAcls>", "<IgnorePublicAcls>true</IgnorePublicAcls>",
		"<BlockPublicPolicy>false</BlockPublicPolicy>", "<RestrictPublicBuckets>false</RestrictPublicBuckets>",
	} {
		if !strings.Contains(puts[0].body, want) {
			t.Errorf("body %s\nlacks %s", puts[0].body, want)
		}
	}
}

func TestPutOwnership(t *testing.T) {
	enforced := &settings.Ownership{Rule: settings.OwnershipBucketOwnerEnforced}
	writer := &settings.Ownership{Rule: settings.OwnershipObjectWriter}
	runPutCases(t, map[string]putCase[settings.Ownership]{
		"enforce on legacy": {
			reason: "a legacy bucket without ownership controls gets BucketOwnerEnforced",
			ref:    usEast("legacy-archive"), writes: []*settings.Ownership{enforced}, want: enforced,
		},
		"replace": {
			reason: "the rule is replaced",
			ref:    usEast("modern-default"), writes: []*settings.Ownership{writer}, want: writer,
		},
		"delete": {
			reason: "nil deletes the ownership controls",
			ref:    usEast("modern-default"), writes: []*settings.Ownership{nil}, want: nil,
		},
		"delete absent": {
			reason: "deleting absent controls is success",
			ref:    usEast("legacy-archive"), writes: []*settings.Ownership{nil}, want: nil,
		},
	}, (*awsprovider.Provider).PutOwnership,
		func(p *awsprovider.Provider, ctx context.Context, ref settings.BucketRef) (*settings.Ownership, error) {
			return awsprovider.FindOwnership(ctx, p.S3Client(ref.Region), ref.Name)
		})
}

func TestPutEncryption(t *testing.T) {
	kmsKey := &settings.Encryption{Algorithm: settings.SSEKMS, KMSKeyID: keyUS, BucketKeyEnabled: true}
	dsse := &settings.Encryption{Algorithm: settings.SSEKMSDSS, KMSKeyID: keyUS}
	awsS3Key := &settings.Encryption{Algorithm: settings.SSEKMS}
	// DeleteBucketEncryption resets to the new-bucket default, SSE-C blocked.
	sseS3 := &settings.Encryption{Algorithm: settings.SSES3, BlockedEncryptionTypes: []string{settings.EncryptionTypeSSEC}}
	runPutCases(t, map[string]putCase[settings.Encryption]{
		"kms key arn": {
			reason: "SSE-KMS with a key ARN and Bucket Key, key id stored verbatim",
			ref:    usEast("modern-default"), writes: []*settings.Encryption{kmsKey}, want: kmsKey,
		},
		"dsse": {
			reason: "DSSE-KMS with a key, Bucket Key off as given",
			ref:    usEast("modern-default"), writes: []*settings.Encryption{kmsKey, dsse}, want: dsse,
		},
		"kms without key": {
			reason: "aws:kms without a key id (the aws/s3 key) keeps the id empty",
			ref:    usEast("legacy-archive"), writes: []*settings.Encryption{awsS3Key}, want: awsS3Key,
		},
		"alias verbatim": {
			reason: "an alias is stored as sent, unresolved",
			ref:    usEast("modern-default"),
			writes: []*settings.Encryption{{Algorithm: settings.SSEKMS, KMSKeyID: "alias/s3baseline"}},
			want:   &settings.Encryption{Algorithm: settings.SSEKMS, KMSKeyID: "alias/s3baseline"},
		},
		"blocked types sent": {
			reason: "BlockedEncryptionTypes is sent as given and read back",
			ref:    usEast("modern-default"),
			writes: []*settings.Encryption{{Algorithm: settings.SSEKMS, KMSKeyID: keyUS, BucketKeyEnabled: true, BlockedEncryptionTypes: []string{"SSE-C"}}},
			want:   &settings.Encryption{Algorithm: settings.SSEKMS, KMSKeyID: keyUS, BucketKeyEnabled: true, BlockedEncryptionTypes: []string{"SSE-C"}},
		},
		"none kept": {
			reason: "NONE (SSE-C allowed on purpose) is sent as given",
			ref:    usEast("modern-default"),
			writes: []*settings.Encryption{{Algorithm: settings.SSES3, BlockedEncryptionTypes: []string{"NONE"}}},
			want:   &settings.Encryption{Algorithm: settings.SSES3, BlockedEncryptionTypes: []string{"NONE"}},
		},
		"absent element unblocks": {
			reason: "a rule without the element replaces a blocking one: S3 unblocks SSE-C, which is why callers carry it",
			ref:    usEast("modern-default"), writes: []*settings.Encryption{kmsKey}, want: kmsKey,
		},
		"delete resets to SSE-S3": {
			reason: "nil deletes the rule, which S3 answers by resetting to SSE-S3",
			ref:    euWest("compliant-high"), writes: []*settings.Encryption{nil}, want: sseS3,
		},
		"delete on legacy": {
			reason: "a legacy bucket without encryption: the delete is success and it reads SSE-S3",
			ref:    usEast("legacy-archive"), writes: []*settings.Encryption{nil}, want: sseS3,
		},
	}, (*awsprovider.Provider).PutEncryption,
		func(p *awsprovider.Provider, ctx context.Context, ref settings.BucketRef) (*settings.Encryption, error) {
			return awsprovider.FindEncryption(ctx, p.S3Client(ref.Region), ref.Name)
		})
}

func TestPutEncryptionRefused(t *testing.T) {
	srv := start(t, e2eScenario(t), emulator.Options{})
	p := newProvider(t, srv)
	ctx := context.Background()
	err := p.PutEncryption(ctx, usEast("modern-default"), &settings.Encryption{Algorithm: settings.SSES3, KMSKeyID: keyUS})
	wantAPIError(t, err, "put bucket encryption", "InvalidArgument")
	if !strings.Contains(err.Error(), "KMSMasterKeyID is not applicable") {
		t.Errorf("error = %q, want S3's message", err)
	}
	got, err := awsprovider.FindEncryption(ctx, p.S3Client("us-east-1"), "modern-default")
	if err != nil || got == nil || got.Algorithm != settings.SSES3 || got.KMSKeyID != "" {
		t.Errorf("after a refused put the rule is %+v, %v; want SSE-S3 unchanged", got, err)
	}
}

func TestPutPolicy(t *testing.T) {
	// Written indented; the emulator keeps the text, and S3 would
	// normalise it: either way the read-back compares parsed documents.
	tls := &settings.Policy{Raw: policyJSON(t, tlsStatement("legacy-archive"))}
	shared := &settings.Policy{Raw: policyJSON(t, tlsStatement("shared-data"), map[string]any{
		"Sid": "AllowPartnerRead", "Effect": "Allow", "Principal": map[string]any{"AWS": "210987654321"},
		"Action": "s3:GetObject", "Resource": "arn:aws:s3:::shared-data/*",
	})}
	runPutCases(t, map[string]putCase[settings.Policy]{
		"new policy": {
			reason: "a bucket without a policy gets it",
			ref:    usEast("legacy-archive"), writes: []*settings.Policy{tls}, want: tls,
		},
		"replace with foreign kept": {
			reason: "the whole document replaces the old one; what the caller kept is there",
			ref:    euWest("shared-data"), writes: []*settings.Policy{shared}, want: shared,
		},
		"delete": {
			reason: "nil deletes the policy",
			ref:    euWest("shared-data"), writes: []*settings.Policy{nil}, want: nil,
		},
		"delete absent": {
			reason: "deleting an absent policy is success",
			ref:    usEast("legacy-archive"), writes: []*settings.Policy{nil}, want: nil,
		},
	}, (*awsprovider.Provider).PutPolicy,
		func(p *awsprovider.Provider, ctx context.Context, ref settings.BucketRef) (*settings.Policy, error) {
			return awsprovider.FindPolicy(ctx, p.S3Client(ref.Region), ref.Name)
		})
}

func TestPutPolicyRefused(t *testing.T) {
	cases := map[string]struct {
		reason string
		ref    settings.BucketRef
		raw    string
		code   string
		text   string
	}{
		"malformed": {
			reason: "text that is not JSON is refused by S3",
			ref:    usEast("legacy-archive"), raw: "Version: 2012-10-17",
			code: "MalformedPolicy", text: "Policies must be valid JSON",
		},
		"wrong resource": {
			reason: "a statement about another bucket",
			ref:    usEast("legacy-archive"), raw: policyJSON(t, tlsStatement("other-bucket")),
			code: "MalformedPolicy", text: "Policy has invalid resource",
		},
		"public under BlockPublicPolicy": {
			reason: "a public policy on a bucket whose BPA blocks public policies is 403",
			ref:    usEast("modern-default"),
			raw: policyJSON(t, map[string]any{
				"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::modern-default/*",
			}),
			code: "AccessDenied", text: "BlockPublicPolicy",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := start(t, e2eScenario(t), emulator.Options{})
			p := newProvider(t, srv)
			err := p.PutPolicy(context.Background(), tc.ref, &settings.Policy{Raw: tc.raw})
			wantAPIError(t, err, "put bucket policy", tc.code)
			if err != nil && !strings.Contains(err.Error(), tc.text) {
				t.Errorf("%s\nerror = %q, want it to contain %q", tc.reason, err, tc.text)
			}
		})
	}
}

func TestPutLogging(t *testing.T) {
	partitioned := &settings.Logging{TargetBucket: logsUS, TargetPrefix: "s3/", KeyFormat: settings.KeyFormatPartitioned, PartitionDateSource: settings.EventTime}
	simple := &settings.Logging{TargetBucket: logsUS, TargetPrefix: "s3/", KeyFormat: settings.KeyFormatSimple}
	runPutCases(t, map[string]putCase[settings.Logging]{
		"partitioned": {
			reason: "partitioned by event time, to the region's log bucket (which grants delivery)",
			ref:    usEast("modern-default"), writes: []*settings.Logging{partitioned}, want: partitioned,
		},
		"partitioned default source": {
			reason: "a partitioned format without a source is sent and read back as it is (S3 applies EventTime)",
			ref:    usEast("modern-default"),
			writes: []*settings.Logging{{TargetBucket: logsUS, TargetPrefix: "s3/", KeyFormat: settings.KeyFormatPartitioned}},
			want:   &settings.Logging{TargetBucket: logsUS, TargetPrefix: "s3/", KeyFormat: settings.KeyFormatPartitioned},
		},
		"delivery time": {
			reason: "the other date source",
			ref:    usEast("modern-default"),
			writes: []*settings.Logging{{TargetBucket: logsUS, TargetPrefix: "s3/", KeyFormat: settings.KeyFormatPartitioned, PartitionDateSource: settings.DeliveryTime}},
			want:   &settings.Logging{TargetBucket: logsUS, TargetPrefix: "s3/", KeyFormat: settings.KeyFormatPartitioned, PartitionDateSource: settings.DeliveryTime},
		},
		"simple replaces partitioned": {
			reason: "the whole status is replaced",
			ref:    usEast("modern-default"), writes: []*settings.Logging{partitioned, simple}, want: simple,
		},
		"no format": {
			reason: "no key format is sent as none and read back as none (S3 applies the simple one)",
			ref:    usEast("modern-default"),
			writes: []*settings.Logging{{TargetBucket: logsUS, TargetPrefix: "s3/"}},
			want:   &settings.Logging{TargetBucket: logsUS, TargetPrefix: "s3/"},
		},
		"off": {
			reason: "nil turns logging off with an empty status",
			ref:    euWest("compliant-high"), writes: []*settings.Logging{nil}, want: nil,
		},
		"off when off": {
			reason: "turning off what is off is success",
			ref:    usEast("legacy-archive"), writes: []*settings.Logging{nil}, want: nil,
		},
	}, (*awsprovider.Provider).PutLogging,
		func(p *awsprovider.Provider, ctx context.Context, ref settings.BucketRef) (*settings.Logging, error) {
			return awsprovider.FindLogging(ctx, p.S3Client(ref.Region), ref.Name)
		})
}

// TestPutLoggingTarget walks the order apply must follow: the target's
// policy grant first, then the logging status; and refuses a target in
// another region.
func TestPutLoggingTarget(t *testing.T) {
	srv := start(t, e2eScenario(t), emulator.Options{})
	p := newProvider(t, srv)
	ctx := context.Background()
	const target = "acme-access-logs-123456789012-us-east-1"
	if _, err := p.CreateBucket(ctx, usEast(target)); err != nil {
		t.Fatal(err)
	}
	logging := &settings.Logging{TargetBucket: target, TargetPrefix: "s3/", KeyFormat: settings.KeyFormatPartitioned, PartitionDateSource: settings.EventTime}

	err := p.PutLogging(ctx, usEast("modern-default"), logging)
	wantAPIError(t, err, "put bucket logging", "InvalidTargetBucketForLogging")

	if err := p.PutPolicy(ctx, usEast(target), &settings.Policy{Raw: policyJSON(t, logGrant(target))}); err != nil {
		t.Fatalf("grant on target: %v", err)
	}
	if err := p.PutLogging(ctx, usEast("modern-default"), logging); err != nil {
		t.Fatalf("with the grant: %v", err)
	}

	err = p.PutLogging(ctx, euWest("analytics-events"), logging)
	wantAPIError(t, err, "put bucket logging", "CrossLocationLoggingProhibited")

	err = p.PutLogging(ctx, usEast("modern-default"), &settings.Logging{TargetBucket: "no-such-log-bucket", TargetPrefix: "s3/"})
	wantAPIError(t, err, "put bucket logging", "InvalidTargetBucketForLogging")
}

func TestPutLoggingRejectsBadFormat(t *testing.T) {
	srv := start(t, e2eScenario(t), emulator.Options{})
	p := newProvider(t, srv)
	for _, l := range []*settings.Logging{
		{TargetBucket: logsUS, KeyFormat: "daily"},
		{TargetBucket: logsUS, KeyFormat: settings.KeyFormatSimple, PartitionDateSource: settings.EventTime},
	} {
		err := p.PutLogging(context.Background(), usEast("modern-default"), l)
		if err == nil || !strings.HasPrefix(err.Error(), "put bucket logging: ") || awsprovider.ErrorCode(err) != "" {
			t.Errorf("PutLogging(%+v) = %v, want a local error before any call", l, err)
		}
	}
	if n := len(srv.WriteCalls()); n != 0 {
		t.Errorf("%d writes, want none", n)
	}
}

func TestPutNotifications(t *testing.T) {
	foreign := settings.NotificationEntry{
		ID: "ingest", Kind: settings.DestQueue, ARN: queueEU, Events: []string{"s3:ObjectCreated:Put"},
		Filter: []settings.FilterRule{{Name: "prefix", Value: "incoming/"}},
	}
	ours := settings.NotificationEntry{
		ID: settings.NotificationID, Kind: settings.DestTopic, ARN: topicEU,
		Events: []string{"s3:ObjectRemoved:*", eventsAll},
		Filter: []settings.FilterRule{{Name: "prefix", Value: "data/"}},
	}
	both := &settings.Notifications{Entries: []settings.NotificationEntry{foreign, ours}, EventBridge: true}
	runPutCases(t, map[string]putCase[settings.Notifications]{
		"ours beside foreign": {
			reason: "the foreign queue entry with its filter and EventBridge are kept when given",
			ref:    euWest("shared-data"), writes: []*settings.Notifications{both},
			// S3 lists topics before queues.
			want: &settings.Notifications{Entries: []settings.NotificationEntry{ours, foreign}, EventBridge: true},
		},
		"only ours": {
			reason: "replace, not merge: what is not given is gone, EventBridge included",
			ref:    euWest("shared-data"),
			writes: []*settings.Notifications{{Entries: []settings.NotificationEntry{ours}}},
			want:   &settings.Notifications{Entries: []settings.NotificationEntry{ours}},
		},
		"eventbridge only": {
			reason: "EventBridge alone is a configuration",
			ref:    euWest("analytics-events"), writes: []*settings.Notifications{{EventBridge: true}},
			want: &settings.Notifications{EventBridge: true},
		},
		"off": {
			reason: "nil writes the empty configuration",
			ref:    euWest("shared-data"), writes: []*settings.Notifications{nil}, want: nil,
		},
		"off when off": {
			reason: "nothing to nothing is success",
			ref:    usEast("modern-default"), writes: []*settings.Notifications{nil}, want: nil,
		},
	}, (*awsprovider.Provider).PutNotifications,
		func(p *awsprovider.Provider, ctx context.Context, ref settings.BucketRef) (*settings.Notifications, error) {
			return awsprovider.FindNotifications(ctx, p.S3Client(ref.Region), ref.Name)
		})
}

// TestPutNotificationsWire checks S3 is asked to validate destinations
// (SkipDestinationValidation is never set) and that an entry written
// without an Id verifies against the Id S3 made up.
func TestPutNotificationsWire(t *testing.T) {
	srv := start(t, e2eScenario(t), emulator.Options{})
	rec := &recorder{}
	p := newProvider(t, srv, withRecorder(rec))
	ctx := context.Background()
	n := &settings.Notifications{Entries: []settings.NotificationEntry{{Kind: settings.DestTopic, ARN: topicUS, Events: []string{eventsAll}}}}
	if err := p.PutNotifications(ctx, usEast("modern-default"), n); err != nil {
		t.Fatal(err)
	}
	got, err := awsprovider.FindNotifications(ctx, p.S3Client("us-east-1"), "modern-default")
	if err != nil || got == nil || len(got.Entries) != 1 || got.Entries[0].ID == "" {
		t.Fatalf("read back %+v, %v; want one entry with an Id S3 made up", got, err)
	}
	puts := rec.requests("PUT", "notification")
	if len(puts) != 1 {
		t.Fatalf("%d puts, want 1", len(puts))
	}
	if v := puts[0].header.Get("X-Amz-Skip-Destination-Validation"); v != "" {
		t.Errorf("x-amz-skip-destination-validation: %q sent, want S3 to validate", v)
	}
}

func TestPutNotificationsRefused(t *testing.T) {
	cases := map[string]struct {
		reason string
		ref    settings.BucketRef
		n      *settings.Notifications
		text   string
	}{
		"overlap": {
			reason: "two entries sharing an event type",
			ref:    euWest("shared-data"),
			n: &settings.Notifications{Entries: []settings.NotificationEntry{
				{ID: "ingest", Kind: settings.DestQueue, ARN: queueEU, Events: []string{"s3:ObjectCreated:Put"}},
				{ID: settings.NotificationID, Kind: settings.DestTopic, ARN: topicEU, Events: []string{eventsAll}},
			}},
			text: "Configurations overlap",
		},
		"topic in another region": {
			reason: "S3 publishes only to a topic in the bucket's region",
			ref:    usEast("modern-default"),
			n: &settings.Notifications{Entries: []settings.NotificationEntry{
				{ID: settings.NotificationID, Kind: settings.DestTopic, ARN: topicEU, Events: []string{eventsAll}},
			}},
			text: "Unable to validate the following destination configurations",
		},
		"missing topic": {
			reason: "a destination that does not exist",
			ref:    usEast("modern-default"),
			n: &settings.Notifications{Entries: []settings.NotificationEntry{
				{ID: settings.NotificationID, Kind: settings.DestTopic, ARN: "arn:aws:sns:us-east-1:123456789012:nope", Events: []string{eventsAll}},
			}},
			text: "Unable to validate the following destination configurations",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := start(t, e2eScenario(t), emulator.Options{})
			p := newProvider(t, srv)
			err := p.PutNotifications(context.Background(), tc.ref, tc.n)
			wantAPIError(t, err, "put bucket notification configuration", "InvalidArgument")
			if err != nil && !strings.Contains(err.Error(), tc.text) {
				t.Errorf("%s\nerror = %q, want %q", tc.reason, err, tc.text)
			}
		})
	}
}

// TestPutAccessDenied injects a 403 on one bucket: every mutator reports
// it with its doing-part and the code, and other buckets are unaffected.
func TestPutAccessDenied(t *testing.T) {
	ref := usEast("modern-default")
	puts := map[string]struct {
		op  string
		put func(context.Context, *awsprovider.Provider, settings.BucketRef) error
	}{
		"public access block": {"put public access block", func(ctx context.Context, p *awsprovider.Provider, r settings.BucketRef) error {
			return p.PutPublicAccessBlock(ctx, r, &settings.PublicAccessBlock{BlockPublicAcls: true})
		}},
		"delete public access block": {"delete public access block", func(ctx context.Context, p *awsprovider.Provider, r settings.BucketRef) error {
			return p.PutPublicAccessBlock(ctx, r, nil)
		}},
		"ownership": {"put bucket ownership controls", func(ctx context.Context, p *awsprovider.Provider, r settings.BucketRef) error {
			return p.PutOwnership(ctx, r, &settings.Ownership{Rule: settings.OwnershipBucketOwnerEnforced})
		}},
		"encryption": {"put bucket encryption", func(ctx context.Context, p *awsprovider.Provider, r settings.BucketRef) error {
			return p.PutEncryption(ctx, r, &settings.Encryption{Algorithm: settings.SSEKMS, KMSKeyID: keyUS})
		}},
		"logging": {"put bucket logging", func(ctx context.Context, p *awsprovider.Provider, r settings.BucketRef) error {
			return p.PutLogging(ctx, r, &settings.Logging{TargetBucket: logsUS, TargetPrefix: "s3/"})
		}},
		"policy": {"put bucket policy", func(ctx context.Context, p *awsprovider.Provider, r settings.BucketRef) error {
			return p.PutPolicy(ctx, r, &settings.Policy{Raw: policyJSON(t, tlsStatement(r.Name))})
		}},
		"delete policy": {"delete bucket policy", func(ctx context.Context, p *awsprovider.Provider, r settings.BucketRef) error {
			return p.PutPolicy(ctx, r, nil)
		}},
		"notifications": {"put bucket notification configuration", func(ctx context.Context, p *awsprovider.Provider, r settings.BucketRef) error {
			return p.PutNotifications(ctx, r, nil)
		}},
	}
	for name, tc := range puts {
		t.Run(name, func(t *testing.T) {
			srv := start(t, e2eScenario(t), emulator.Options{})
			p := newProvider(t, srv)
			srv.InjectFault(emulator.Fault{Service: "s3", Bucket: ref.Name, WritesOnly: true, Status: 403, Code: "AccessDenied", Message: "Access Denied"})
			ctx := context.Background()
			wantAPIError(t, tc.put(ctx, p, ref), tc.op, "AccessDenied")
			if err := tc.put(ctx, p, usEast("analytics-old")); err != nil {
				t.Errorf("another bucket: %v", err)
			}
		})
	}
}

// TestPutRetriesOperationAborted: a 409 OperationAborted from a concurrent
// writer is retried, and the whole-document write then lands once.
func TestPutRetriesOperationAborted(t *testing.T) {
	srv := start(t, e2eScenario(t), emulator.Options{})
	p := newProvider(t, srv)
	srv.InjectFault(emulator.Fault{Service: "s3", Operation: "PutBucketPolicy", Bucket: "legacy-archive", Status: 409, Code: "OperationAborted",
		Message: "A conflicting conditional operation is currently in progress against this resource. Please try again.", Times: 2})
	pol := &settings.Policy{Raw: policyJSON(t, tlsStatement("legacy-archive"))}
	if err := p.PutPolicy(context.Background(), usEast("legacy-archive"), pol); err != nil {
		t.Fatal(err)
	}
	if n := countCalls(srv.Calls(), op("s3", "PutBucketPolicy")); n != 3 {
		t.Errorf("%d PutBucketPolicy calls, want 3 (two aborted, one applied)", n)
	}
}

// TestPutVerify plays an S3 whose read-back lags or differs: a lag is
// waited out; a difference that stays is an error saying what was written
// and what was read.
func TestPutVerify(t *testing.T) {
	flip := func(query string, body []byte) ([]byte, bool) {
		if !strings.HasPrefix(query, "publicAccessBlock") {
			return body, false
		}
		return []byte(strings.Replace(string(body), "<RestrictPublicBuckets>true<", "<RestrictPublicBuckets>false<", 1)), true
	}
	all := &settings.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true}
	cases := map[string]struct {
		reason  string
		times   int
		wantErr string
		reads   int
	}{
		"lagging": {reason: "two stale reads, then the new document", times: 2, reads: 3},
		"different": {
			reason: "a read-back that never matches",
			times:  -1,
			wantErr: `verify public access block: wrote {"block_public_acls":true,"ignore_public_acls":true,"block_public_policy":true,"restrict_public_buckets":true}, ` +
				`read {"block_public_acls":true,"ignore_public_acls":true,"block_public_policy":true,"restrict_public_buckets":false}`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := start(t, e2eScenario(t), emulator.Options{})
			rec := &recorder{rewrite: flip, times: tc.times}
			p := newProvider(t, srv, withRecorder(rec), func(o *awsprovider.Options) { o.PropagationTimeout = 300 * time.Millisecond })
			err := p.PutPublicAccessBlock(context.Background(), usEast("legacy-archive"), all)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("%s\n%v", tc.reason, err)
			case tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr):
				t.Fatalf("%s\nerror = %v\nwant    %s", tc.reason, err, tc.wantErr)
			}
			if tc.reads > 0 {
				if n := len(rec.requests("GET", "publicAccessBlock")); n != tc.reads {
					t.Errorf("%s\n%d reads, want %d", tc.reason, n, tc.reads)
				}
			}
		})
	}
}
