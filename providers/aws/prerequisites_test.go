package aws_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/s3baseline/s3baseline/fixtures/emulator"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
	"github.com/s3baseline/s3baseline/settings"
)

func TestCreateBucket(t *testing.T) {
	cases := map[string]struct {
		reason string
		ref    settings.BucketRef
	}{
		"us-east-1": {"no LocationConstraint; a re-create answers 200 there, so existence is asked first", usEast("acme-new-bucket-use1")},
		"eu-west-1": {"LocationConstraint names the region; a re-create is BucketAlreadyOwnedByYou", euWest("acme-new-bucket-euw1")},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := start(t, e2eScenario(t), emulator.Options{})
			p := newProvider(t, srv)
			ctx := context.Background()
			created, err := p.CreateBucket(ctx, tc.ref)
			if err != nil || !created {
				t.Fatalf("%s\nfirst CreateBucket = (%v, %v), want (true, nil)", tc.reason, created, err)
			}
			created, err = p.CreateBucket(ctx, tc.ref)
			if err != nil || created {
				t.Fatalf("%s\nsecond CreateBucket = (%v, %v), want (false, nil)", tc.reason, created, err)
			}
			if n := countCalls(srv.Calls(), func(c emulator.Call) bool { return c.Operation == "CreateBucket" && c.Status == 200 }); n != 1 {
				t.Errorf("%s\n%d successful CreateBucket calls, want 1", tc.reason, n)
			}

			// Created compliant with S3's modern defaults, in its region.
			st := p.ObserveBucket(ctx, tc.ref, allAspects)
			want := settings.BucketState{
				Name: tc.ref.Name, Region: tc.ref.Region, Observed: allAspects, Tags: map[string]string{},
				PublicAccessBlock: &settings.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true},
				Ownership:         &settings.Ownership{Rule: settings.OwnershipBucketOwnerEnforced},
				// Since April 2026 a new bucket blocks SSE-C.
				Encryption: &settings.Encryption{Algorithm: settings.SSES3, BlockedEncryptionTypes: []string{settings.EncryptionTypeSSEC}},
			}
			if diff := cmp.Diff(want, st); diff != "" {
				t.Errorf("%s\nnew bucket -want, +got:\n%s", tc.reason, diff)
			}
			refs, err := p.ListBuckets(ctx)
			if err != nil || !containsRef(refs, tc.ref) {
				t.Errorf("%s\nListBuckets = %v, %v; want it to list %v", tc.reason, refs, err, tc.ref)
			}
		})
	}
}

func containsRef(refs []settings.BucketRef, ref settings.BucketRef) bool {
	for _, r := range refs {
		if r == ref {
			return true
		}
	}
	return false
}

func TestCreateBucketRefused(t *testing.T) {
	sc := e2eScenario(t)
	sc.Buckets = append(sc.Buckets, emulator.Bucket{Name: "someone-elses", Region: "us-east-1", OwnerAccount: "210987654321"})
	srv := start(t, sc, emulator.Options{})
	p := newProvider(t, srv)
	ctx := context.Background()

	_, err := p.CreateBucket(ctx, usEast("someone-elses"))
	wantAPIError(t, err, "create bucket in us-east-1", "BucketAlreadyExists")

	_, err = p.CreateBucket(ctx, usEast("compliant-high"))
	if err == nil || err.Error() != `create bucket in us-east-1: bucket "compliant-high" already exists in region eu-west-1` {
		t.Errorf("own bucket in another region: %v, want an error naming its region", err)
	}
	_, err = p.CreateBucket(ctx, usEast("Not_A_Valid_Name"))
	wantAPIError(t, err, "create bucket in us-east-1", "InvalidBucketName")
}

func TestCreateKey(t *testing.T) {
	srv := start(t, e2eScenario(t), emulator.Options{})
	p := newProvider(t, srv)
	ctx := context.Background()

	before, err := p.DescribeKey(ctx, "eu-west-1", "alias/s3baseline-new")
	if err != nil || before.Exists {
		t.Fatalf("DescribeKey before = %+v, %v; want not found", before, err)
	}
	info, err := p.CreateKey(ctx, "eu-west-1", "s3baseline-new", "s3baseline default encryption key")
	if err != nil {
		t.Fatal(err)
	}
	if !info.Exists || !info.Enabled || !info.Symmetric || info.Manager != "CUSTOMER" ||
		!strings.HasPrefix(info.ARN, "arn:aws:kms:eu-west-1:123456789012:key/") || info.Ref != "alias/s3baseline-new" {
		t.Errorf("CreateKey = %+v, want an enabled symmetric customer key in eu-west-1 named by the alias", info)
	}
	for _, ref := range []string{"alias/s3baseline-new", info.ARN, info.KeyID} {
		got, err := p.DescribeKey(ctx, "eu-west-1", ref)
		if err != nil || !got.Exists || got.ARN != info.ARN {
			t.Errorf("DescribeKey(%s) after CreateKey = %+v, %v; want the new key (cache refreshed)", ref, got, err)
		}
	}

	again, err := p.CreateKey(ctx, "eu-west-1", "alias/s3baseline-new", "ignored")
	if err != nil || again.ARN != info.ARN {
		t.Errorf("CreateKey again = %+v, %v; want the same key", again, err)
	}
	if n := countCalls(srv.Calls(), op("kms", "CreateKey")); n != 1 {
		t.Errorf("%d CreateKey calls, want 1: an existing alias is returned, not re-made", n)
	}
	other, err := p.DescribeKey(ctx, "us-east-1", "alias/s3baseline-new")
	if err != nil || other.Exists {
		t.Errorf("the alias in us-east-1 = %+v, %v; want not found, keys are regional", other, err)
	}
}

// TestCreateKeyLosesAliasRace: another run names its key with the alias
// between this run's CreateKey and CreateAlias (KMS answers the second
// CreateAlias AlreadyExistsException): the alias's key is returned, with
// an UnnamedKeyError naming the key made here, so the caller can record it.
func TestCreateKeyLosesAliasRace(t *testing.T) {
	srv := start(t, e2eScenario(t), emulator.Options{})
	p, other := newProvider(t, srv), newProvider(t, srv)
	ctx := context.Background()
	var theirs settings.KeyInfo
	srv.OnRequest(emulator.Hook{Service: "kms", Operation: "CreateKey", Times: 1, Do: func(*emulator.Server) {
		var err error
		if theirs, err = other.CreateKey(ctx, "eu-west-1", "alias/raced", "the other run's"); err != nil {
			t.Errorf("the other run's CreateKey: %v", err)
		}
	}})
	info, err := p.CreateKey(ctx, "eu-west-1", "alias/raced", "this run's")
	var unnamed *awsprovider.UnnamedKeyError
	if !errors.As(err, &unnamed) {
		t.Fatalf("CreateKey = %+v, %v; want an UnnamedKeyError", info, err)
	}
	if !info.Exists || info.ARN != theirs.ARN || unnamed.Existing != theirs.ARN || unnamed.Key == theirs.ARN || unnamed.Key == "" {
		t.Errorf("CreateKey = %+v, %+v; want the other run's key %s returned and ours named", info, unnamed, theirs.ARN)
	}
	if n := countCalls(srv.Calls(), op("kms", "CreateKey")); n != 2 {
		t.Errorf("%d CreateKey calls, want 2 (ours and theirs)", n)
	}
	got, err := p.DescribeKey(ctx, "eu-west-1", "alias/raced")
	if err != nil || got.ARN != theirs.ARN {
		t.Errorf("DescribeKey after the race = %+v, %v; want the alias's key", got, err)
	}
}

// TestTopicLifecycle: a topic the tool makes, then grants S3 SNS:Publish,
// becomes a notification destination S3 validates only after the grant.
func TestTopicLifecycle(t *testing.T) {
	srv := start(t, e2eScenario(t), emulator.Options{})
	p := newProvider(t, srv)
	ctx := context.Background()
	const arn = "arn:aws:sns:us-east-1:123456789012:acme-bucket-events"

	got, err := p.Topic(ctx, arn)
	if err != nil || got != (settings.Topic{ARN: arn}) {
		t.Fatalf("Topic(unknown) = %+v, %v; want Exists false", got, err)
	}
	created, err := p.CreateTopic(ctx, "us-east-1", "acme-bucket-events")
	if err != nil {
		t.Fatal(err)
	}
	if created.ARN != arn || !created.Exists || created.Policy == "" {
		t.Fatalf("CreateTopic = %+v, want %s with SNS's default policy", created, arn)
	}
	again, err := p.CreateTopic(ctx, "us-east-1", "acme-bucket-events")
	if err != nil || again.ARN != arn {
		t.Errorf("CreateTopic again = %+v, %v; want the same topic", again, err)
	}

	ours := &settings.Notifications{Entries: []settings.NotificationEntry{
		{ID: settings.NotificationID, Kind: settings.DestTopic, ARN: arn, Events: []string{"s3:ObjectCreated:*", "s3:ObjectRemoved:*"}},
	}}
	err = p.PutNotifications(ctx, usEast("modern-default"), ours)
	wantAPIError(t, err, "put bucket notification configuration", "InvalidArgument")
	if err != nil && !strings.Contains(err.Error(), "Unable to validate the following destination configurations") {
		t.Errorf("error = %q, want S3's validation message", err)
	}

	// Merge our statement into the default policy, keeping its statement.
	var doc map[string]any
	if err := json.Unmarshal([]byte(created.Policy), &doc); err != nil {
		t.Fatal(err)
	}
	doc["Statement"] = append(doc["Statement"].([]any), publishGrant(arn))
	merged, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.PutTopicPolicy(ctx, arn, string(merged)); err != nil {
		t.Fatal(err)
	}
	got, err = p.Topic(ctx, arn)
	if err != nil || !got.Exists {
		t.Fatalf("Topic after policy = %+v, %v", got, err)
	}
	pd, err := settings.ParsePolicy(got.Policy)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := pd.Owned(settings.SidAllowS3Publish); !ok || len(pd.Statements) != 2 {
		t.Errorf("topic policy read back = %s, want the default statement and ours", got.Policy)
	}

	if err := p.PutNotifications(ctx, usEast("modern-default"), ours); err != nil {
		t.Fatalf("after the grant: %v", err)
	}
}

func TestTopicErrors(t *testing.T) {
	srv := start(t, e2eScenario(t), emulator.Options{})
	p := newProvider(t, srv)
	ctx := context.Background()
	if _, err := p.Topic(ctx, "s3baseline-events"); err == nil || !strings.Contains(err.Error(), "invalid SNS topic ARN") {
		t.Errorf("Topic(name) = %v, want an invalid ARN error", err)
	}
	err := p.PutTopicPolicy(ctx, "arn:aws:sns:us-east-1:123456789012:nope", policyJSON(t, publishGrant("arn:aws:sns:us-east-1:123456789012:nope")))
	wantAPIError(t, err, "set topic policy arn:aws:sns:us-east-1:123456789012:nope", "NotFound")

	// The topic's region picks the client: the eu-west-1 topic is read in
	// eu-west-1.
	eu, err := p.Topic(ctx, topicEU)
	if err != nil || !eu.Exists {
		t.Errorf("Topic(eu) = %+v, %v", eu, err)
	}
	for _, c := range srv.Calls() {
		if c.Service == "sns" && c.Operation == "GetTopicAttributes" && c.Status == 200 && c.Region != "eu-west-1" {
			t.Errorf("GetTopicAttributes signed for %s, want eu-west-1", c.Region)
		}
	}

	srv.InjectFault(emulator.Fault{Service: "sns", Operation: "SetTopicAttributes", Status: 403, Code: "AuthorizationError", Message: "not authorized"})
	err = p.PutTopicPolicy(ctx, topicUS, policyJSON(t, publishGrant(topicUS)))
	wantAPIError(t, err, "set topic policy "+topicUS, "AuthorizationError")
}

func TestIdentity(t *testing.T) {
	cases := map[string]struct {
		caller string
		want   settings.Identity
	}{
		"assumed role": {
			caller: "arn:aws:sts::123456789012:assumed-role/Ops/alice",
			want: settings.Identity{Account: account, ARN: "arn:aws:sts::123456789012:assumed-role/Ops/alice",
				PrincipalARN: "arn:aws:iam::123456789012:role/Ops"},
		},
		"user": {
			caller: "arn:aws:iam::123456789012:user/ci",
			want:   settings.Identity{Account: account, ARN: "arn:aws:iam::123456789012:user/ci", PrincipalARN: "arn:aws:iam::123456789012:user/ci"},
		},
		"root": {
			caller: "arn:aws:iam::123456789012:root",
			want:   settings.Identity{Account: account, ARN: "arn:aws:iam::123456789012:root", PrincipalARN: "arn:aws:iam::123456789012:root"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			sc := e2eScenario(t)
			sc.CallerARN = tc.caller
			srv := start(t, sc, emulator.Options{})
			p := newProvider(t, srv)
			got, err := p.Identity(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("Identity -want, +got:\n%s", diff)
			}
		})
	}
}

func TestIdentityError(t *testing.T) {
	srv := start(t, e2eScenario(t), emulator.Options{})
	p := newProvider(t, srv)
	srv.InjectFault(emulator.Fault{Service: "sts", Status: 403, Code: "ExpiredToken", Message: "The security token included in the request is expired"})
	_, err := p.Identity(context.Background())
	wantAPIError(t, err, "get caller identity", "ExpiredToken")
}

func TestErrorCode(t *testing.T) {
	if got := awsprovider.ErrorCode(nil); got != "" {
		t.Errorf("ErrorCode(nil) = %q", got)
	}
	if got := awsprovider.ErrorCode(context.DeadlineExceeded); got != "" {
		t.Errorf("ErrorCode(non-API error) = %q", got)
	}
}
