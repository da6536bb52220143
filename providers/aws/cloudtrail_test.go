package aws_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/s3baseline/s3baseline/fixtures/emulator"
	awsprovider "github.com/s3baseline/s3baseline/providers/aws"
	"github.com/s3baseline/s3baseline/settings"
)

const (
	ctAccount  = "123456789012"
	ctKeyID    = "11111111-1111-4111-8111-111111111111"
	ctOldKeyID = "22222222-2222-4222-8222-222222222222"
	ctKeyARN   = "arn:aws:kms:us-east-1:" + ctAccount + ":key/" + ctKeyID
	ctOldARN   = "arn:aws:kms:us-east-1:" + ctAccount + ":key/" + ctOldKeyID
	orgWideARN = "arn:aws:cloudtrail:eu-west-1:" + ctAccount + ":trail/org-wide"
	auditARN   = "arn:aws:cloudtrail:us-east-1:" + ctAccount + ":trail/audit"
	euLocalARN = "arn:aws:cloudtrail:eu-west-1:" + ctAccount + ":trail/eu-local"
)

// ctKeyPolicy is the account-root key policy plus CloudTrail's grant.
const ctKeyPolicy = `{"Version":"2012-10-17","Statement":[
 {"Sid":"Enable IAM User Permissions","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"kms:*","Resource":"*"},
 {"Sid":"S3BaselineCloudTrailKey","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":["kms:GenerateDataKey*","kms:DescribeKey"],"Resource":"*",
  "Condition":{"StringLike":{"kms:EncryptionContext:aws:cloudtrail:arn":"arn:aws:cloudtrail:*:123456789012:trail/*"}}}]}`

// ctBucketPolicy lets CloudTrail deliver under any prefix of ct-logs.
const ctBucketPolicy = `{"Version":"2012-10-17","Statement":[
 {"Sid":"S3BaselineCloudTrailAclCheck","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:GetBucketAcl","Resource":"arn:aws:s3:::ct-logs"},
 {"Sid":"S3BaselineCloudTrailWrite","Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::ct-logs/*",
  "Condition":{"StringEquals":{"s3:x-amz-acl":"bucket-owner-full-control"}}}]}`

// ctScenario has a multi-region organization trail homed in eu-west-1
// with advanced selectors using every operator, a us-east-1 trail with
// basic selectors using every field, and a single-region eu-west-1 trail
// the global region does not see.
func ctScenario(t *testing.T) *emulator.Scenario {
	return parse(t, `{
  "account_id": "123456789012",
  "caller_arn": "arn:aws:sts::123456789012:assumed-role/Ops/alice",
  "kms_keys": [
    {"region": "us-east-1", "id": "`+ctKeyID+`", "aliases": ["alias/trail"], "policy": `+ctKeyPolicy+`},
    {"region": "us-east-1", "id": "`+ctOldKeyID+`", "aliases": ["alias/trail-old"], "policy": `+ctKeyPolicy+`}
  ],
  "buckets": [
    {"name": "ct-logs", "region": "us-east-1", "policy": `+ctBucketPolicy+`},
    {"name": "no-policy-logs", "region": "us-east-1"}
  ],
  "trails": [
    {"name": "org-wide", "home_region": "eu-west-1", "s3_bucket_name": "central-logs-elsewhere", "s3_key_prefix": "org",
     "multi_region": true, "log_file_validation": true, "organization": true, "is_logging": true,
     "latest_delivery_error": "AccessDenied",
     "advanced_event_selectors": [
       {"name": "management", "field_selectors": [{"field": "eventCategory", "equals": ["Management"]}, {"field": "readOnly", "equals": ["false"]}]},
       {"name": "s3-data", "field_selectors": [
         {"field": "eventCategory", "equals": ["Data"]},
         {"field": "resources.type", "equals": ["AWS::S3::Object"]},
         {"field": "resources.ARN", "starts_with": ["arn:aws:s3:::data-bucket/"], "not_starts_with": ["arn:aws:s3:::data-bucket/tmp/"],
          "ends_with": [".csv", ".json"], "not_ends_with": [".tmp"]},
         {"field": "eventName", "not_equals": ["GetObject"]}]}],
     "insights": ["ApiCallRateInsight"]},
    {"name": "audit", "home_region": "us-east-1", "s3_bucket_name": "ct-logs", "s3_key_prefix": "audit",
     "kms_key_id": "alias/trail-old", "log_file_validation": true, "include_global_service_events": false,
     "event_selectors": [
       {"read_write_type": "ReadOnly", "include_management_events": true, "exclude_management_event_sources": ["kms.amazonaws.com"],
        "data_resources": [{"type": "AWS::S3::Object", "values": ["arn:aws:s3:::data-bucket/", "arn:aws:s3:::other/prefix"]}]},
       {"read_write_type": "All", "include_management_events": false,
        "data_resources": [{"type": "AWS::Lambda::Function", "values": ["arn:aws:lambda"]}]}],
     "insights": ["ApiErrorRateInsight"]},
    {"name": "eu-local", "home_region": "eu-west-1", "s3_bucket_name": "ct-logs", "is_logging": true}
  ]
}`)
}

// orgWide is the org-wide trail as the provider must report it.
func orgWide() settings.Trail {
	return settings.Trail{
		Name: "org-wide", ARN: orgWideARN, HomeRegion: "eu-west-1",
		S3BucketName: "central-logs-elsewhere", S3KeyPrefix: "org",
		MultiRegion: true, LogFileValidation: true, IncludeGlobalEvents: true, Organization: true,
		IsLogging: true, LatestDeliveryError: "AccessDenied",
		AdvancedEventSelectors: []settings.AdvancedEventSelector{
			{Name: "management", FieldSelectors: []settings.FieldSelector{
				{Field: "eventCategory", Equals: []string{"Management"}},
				{Field: "readOnly", Equals: []string{"false"}},
			}},
			{Name: "s3-data", FieldSelectors: []settings.FieldSelector{
				{Field: "eventCategory", Equals: []string{"Data"}},
				{Field: "resources.type", Equals: []string{"AWS::S3::Object"}},
				{Field: "resources.ARN", StartsWith: []string{"arn:aws:s3:::data-bucket/"}, NotStartsWith: []string{"arn:aws:s3:::data-bucket/tmp/"},
					EndsWith: []string{".csv", ".json"}, NotEndsWith: []string{".tmp"}},
				{Field: "eventName", NotEquals: []string{"GetObject"}},
			}},
		},
		Insights: []string{settings.InsightAPICallRate},
	}
}

// audit is the audit trail as the provider must report it.
func audit() settings.Trail {
	return settings.Trail{
		Name: "audit", ARN: auditARN, HomeRegion: "us-east-1",
		S3BucketName: "ct-logs", S3KeyPrefix: "audit", KMSKeyID: ctOldARN,
		LogFileValidation: true,
		EventSelectors: []settings.EventSelector{
			{ReadWriteType: "ReadOnly", IncludeManagementEvents: true, ExcludeManagementEventSources: []string{"kms.amazonaws.com"},
				DataResources: []settings.DataResource{{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3:::data-bucket/", "arn:aws:s3:::other/prefix"}}}},
			{ReadWriteType: "All", IncludeManagementEvents: false,
				DataResources: []settings.DataResource{{Type: "AWS::Lambda::Function", Values: []string{"arn:aws:lambda"}}}},
		},
		Insights: []string{settings.InsightAPIErrorRate},
	}
}

// euLocal is the single-region eu-west-1 trail, with CloudTrail's default
// selector.
func euLocal() settings.Trail {
	return settings.Trail{
		Name: "eu-local", ARN: euLocalARN, HomeRegion: "eu-west-1", S3BucketName: "ct-logs",
		IncludeGlobalEvents: true, IsLogging: true,
		EventSelectors: []settings.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true}},
	}
}

// trailWrites lists the CloudTrail calls that change a trail, in order.
// Server.WriteCalls does not know UpdateTrail, StartLogging and StopLogging
// as writes, so they are named here.
func trailWrites(calls []emulator.Call) []string {
	var out []string
	for _, c := range calls {
		switch c.Operation {
		case "CreateTrail", "UpdateTrail", "DeleteTrail", "PutEventSelectors", "PutInsightSelectors", "StartLogging", "StopLogging":
			if c.Service == "cloudtrail" {
				out = append(out, c.Operation)
			}
		}
	}
	return out
}

func TestTrails(t *testing.T) {
	srv := start(t, ctScenario(t), emulator.Options{})
	p := newProvider(t, srv)
	got, err := p.Trails(context.Background())
	if err != nil {
		t.Fatalf("Trails: %v", err)
	}
	// The multi-region trail homed in eu-west-1 is listed once, read in
	// full; the single-region eu-west-1 trail is not seen from us-east-1.
	want := []settings.Trail{orgWide(), audit()}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Trails -want, +got:\n%s", diff)
	}
	for _, c := range srv.Calls() {
		if c.Service != "cloudtrail" || c.Operation == "DescribeTrails" {
			continue
		}
		// Each trail's details come from its home region.
		if c.Region != "us-east-1" && c.Region != "eu-west-1" {
			t.Errorf("%s signed for %s", c.Operation, c.Region)
		}
	}
	if n := countCalls(srv.Calls(), op("cloudtrail", "DescribeTrails")); n != 1 {
		t.Errorf("%d DescribeTrails calls, want 1", n)
	}
	perTrail := map[string]int{}
	for _, c := range srv.Calls() {
		if c.Service == "cloudtrail" && c.Operation == "GetTrailStatus" {
			perTrail[c.Region]++
		}
	}
	if diff := cmp.Diff(map[string]int{"eu-west-1": 1, "us-east-1": 1}, perTrail); diff != "" {
		t.Errorf("GetTrailStatus calls per region -want, +got:\n%s", diff)
	}
	if w := srv.WriteCalls(); len(w) != 0 {
		t.Errorf("Trails wrote: %+v", w)
	}
}

func TestTrail(t *testing.T) {
	srv := start(t, ctScenario(t), emulator.Options{})
	p := newProvider(t, srv)
	cases := map[string]struct {
		reason       string
		region, name string
		want         *settings.Trail
	}{
		"by name":      {"a trail by name in its home region", "us-east-1", "audit", ptr(audit())},
		"by ARN":       {"a trail by ARN", "eu-west-1", orgWideARN, ptr(orgWide())},
		"other region": {"a single-region trail of another region", "eu-west-1", "eu-local", ptr(euLocal())},
		"not found":    {"an unknown trail is nil, not an error", "us-east-1", "nope-trail", nil},
		"not visible":  {"a single-region trail is not seen from elsewhere", "us-east-1", euLocalARN, nil},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := p.Trail(context.Background(), tc.region, tc.name)
			if err != nil {
				t.Fatalf("%s\nTrail: %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\n-want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

// newTrail is the trail the baseline makes: multi-region, KMS by alias,
// advanced selectors for management and S3 data events, ApiCallRate
// insights, logging.
func newTrail() settings.Trail {
	return settings.Trail{
		Name: "s3baseline", HomeRegion: "us-east-1",
		S3BucketName: "ct-logs", S3KeyPrefix: "baseline", KMSKeyID: "alias/trail",
		MultiRegion: true, LogFileValidation: true, IncludeGlobalEvents: true,
		AdvancedEventSelectors: []settings.AdvancedEventSelector{
			{Name: "Management events", FieldSelectors: []settings.FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}}},
			{Name: "S3 data events", FieldSelectors: []settings.FieldSelector{
				{Field: "eventCategory", Equals: []string{"Data"}},
				{Field: "resources.type", Equals: []string{"AWS::S3::Object"}},
				{Field: "resources.ARN", StartsWith: []string{"arn:aws:s3:::data-bucket/", "arn:aws:s3:::other-bucket/"}},
			}},
		},
		Insights:  []string{settings.InsightAPICallRate},
		IsLogging: true,
	}
}

// TestPutTrailCreate makes a trail from nothing, in the order AWS
// validates (selectors before insights, logging last), and a second
// PutTrail with the same want writes nothing.
func TestPutTrailCreate(t *testing.T) {
	srv := start(t, ctScenario(t), emulator.Options{})
	p := newProvider(t, srv)
	ctx := context.Background()
	want := newTrail()

	if err := p.PutTrail(ctx, want); err != nil {
		t.Fatalf("PutTrail: %v", err)
	}
	wantOps := []string{"CreateTrail", "PutEventSelectors", "PutInsightSelectors", "StartLogging"}
	if diff := cmp.Diff(wantOps, trailWrites(srv.Calls())); diff != "" {
		t.Errorf("writes -want, +got:\n%s", diff)
	}
	got, err := p.Trail(ctx, "us-east-1", "s3baseline")
	if err != nil {
		t.Fatal(err)
	}
	read := want
	read.ARN = "arn:aws:cloudtrail:us-east-1:" + ctAccount + ":trail/s3baseline"
	read.KMSKeyID = ctKeyARN // CloudTrail reports the key ARN
	if diff := cmp.Diff(&read, got); diff != "" {
		t.Errorf("trail read back -want, +got:\n%s", diff)
	}

	srv.ResetCalls()
	if err := p.PutTrail(ctx, want); err != nil {
		t.Fatalf("second PutTrail: %v", err)
	}
	if w := trailWrites(srv.Calls()); len(w) != 0 {
		t.Errorf("second PutTrail wrote %v, want nothing", w)
	}
	if w := srv.WriteCalls(); len(w) != 0 {
		t.Errorf("second PutTrail wrote %+v, want nothing", w)
	}

	// The same trail named by its read-back form (key ARN, ARN set) is
	// the same want.
	srv.ResetCalls()
	if err := p.PutTrail(ctx, *got); err != nil {
		t.Fatalf("PutTrail of the read-back trail: %v", err)
	}
	if w := trailWrites(srv.Calls()); len(w) != 0 {
		t.Errorf("PutTrail of the read-back trail wrote %v, want nothing", w)
	}
}

// TestPutTrailRoundTrip reads trails and writes them back: basic selectors
// with every field, and (copied into a new trail) advanced selectors with
// every operator, come back unchanged.
func TestPutTrailRoundTrip(t *testing.T) {
	srv := start(t, ctScenario(t), emulator.Options{})
	p := newProvider(t, srv)
	ctx := context.Background()

	read, err := p.Trail(ctx, "us-east-1", "audit")
	if err != nil || read == nil {
		t.Fatalf("Trail: %v, %v", read, err)
	}
	srv.ResetCalls()
	if err := p.PutTrail(ctx, *read); err != nil {
		t.Fatalf("PutTrail(read): %v", err)
	}
	if w := trailWrites(srv.Calls()); len(w) != 0 {
		t.Errorf("writing back a read trail wrote %v, want nothing", w)
	}
	again, err := p.Trail(ctx, "us-east-1", "audit")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(read, again); diff != "" {
		t.Errorf("basic selectors round trip -read, +after:\n%s", diff)
	}

	// Every FieldSelector operator survives the write path: copy the
	// organization trail's selectors into a trail this account owns.
	org, err := p.Trail(ctx, "eu-west-1", orgWideARN)
	if err != nil || org == nil {
		t.Fatalf("Trail(org-wide): %v, %v", org, err)
	}
	cp := settings.Trail{
		Name: "copy-of-org", HomeRegion: "us-east-1", S3BucketName: "ct-logs",
		IncludeGlobalEvents:    true,
		AdvancedEventSelectors: org.AdvancedEventSelectors,
		Insights:               org.Insights,
	}
	if err := p.PutTrail(ctx, cp); err != nil {
		t.Fatalf("PutTrail(copy): %v", err)
	}
	got, err := p.Trail(ctx, "us-east-1", "copy-of-org")
	if err != nil || got == nil {
		t.Fatalf("Trail(copy): %v, %v", got, err)
	}
	cp.ARN = "arn:aws:cloudtrail:us-east-1:" + ctAccount + ":trail/copy-of-org"
	if diff := cmp.Diff(&cp, got); diff != "" {
		t.Errorf("advanced selectors round trip -want, +got:\n%s", diff)
	}
}

// TestPutTrailUpdate changes one thing at a time on existing trails and
// checks that exactly the calls that change it are made.
func TestPutTrailUpdate(t *testing.T) {
	cases := map[string]struct {
		reason string
		base   func() settings.Trail
		change func(*settings.Trail)
		// read is what the trail reads back as, when it differs from want
		read    func(*settings.Trail)
		wantOps []string
	}{
		"clear prefix and key": {
			reason: "an empty prefix and key are cleared through UpdateTrail",
			base:   audit, change: func(t *settings.Trail) { t.S3KeyPrefix, t.KMSKeyID = "", "" },
			wantOps: []string{"UpdateTrail"},
		},
		"key by alias": {
			reason: "a key named by alias is compared as its ARN",
			base:   audit, change: func(t *settings.Trail) { t.KMSKeyID = "alias/trail" },
			read:    func(t *settings.Trail) { t.KMSKeyID = ctKeyARN },
			wantOps: []string{"UpdateTrail"},
		},
		"same key by alias": {
			reason: "the trail's own key named by alias is no change",
			base:   audit, change: func(t *settings.Trail) { t.KMSKeyID = "alias/trail-old" },
			read:    func(t *settings.Trail) { t.KMSKeyID = ctOldARN },
			wantOps: nil,
		},
		"flags": {
			reason: "multi-region, validation and global events are sent explicitly, false included",
			base:   audit, change: func(t *settings.Trail) { t.MultiRegion, t.IncludeGlobalEvents, t.LogFileValidation = true, true, false },
			wantOps: []string{"UpdateTrail"},
		},
		"basic to advanced": {
			reason: "advanced selectors replace basic ones",
			base:   audit,
			change: func(t *settings.Trail) {
				t.EventSelectors = nil
				t.AdvancedEventSelectors = newTrail().AdvancedEventSelectors
			},
			wantOps: []string{"PutEventSelectors"},
		},
		"selectors reordered": {
			reason: "the same selectors in another order are no change",
			base:   audit,
			change: func(t *settings.Trail) {
				slices.Reverse(t.EventSelectors)
				slices.Reverse(t.EventSelectors[1].DataResources[0].Values)
			},
			read:    func(t *settings.Trail) { *t = audit() },
			wantOps: nil,
		},
		"selectors left alone": {
			reason: "a want without selectors leaves the trail's as they are",
			base:   audit, change: func(t *settings.Trail) { t.EventSelectors = nil },
			read:    func(t *settings.Trail) { t.EventSelectors = audit().EventSelectors },
			wantOps: nil,
		},
		"write events then ApiCallRate": {
			reason: "ApiCallRateInsight needs write management events: selectors go first",
			base:   audit,
			change: func(t *settings.Trail) {
				t.EventSelectors = []settings.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true}}
				t.Insights = []string{settings.InsightAPICallRate, settings.InsightAPIErrorRate}
			},
			wantOps: []string{"PutEventSelectors", "PutInsightSelectors"},
		},
		"insights off": {
			reason: "an empty insight list turns Insights off",
			base:   audit, change: func(t *settings.Trail) { t.Insights = nil },
			wantOps: []string{"PutInsightSelectors"},
		},
		"start logging": {
			reason: "StartLogging when the trail should log",
			base:   audit, change: func(t *settings.Trail) { t.IsLogging = true },
			wantOps: []string{"StartLogging"},
		},
		"stop logging": {
			reason: "StopLogging in the trail's own region",
			base:   euLocal, change: func(t *settings.Trail) { t.IsLogging = false },
			wantOps: []string{"StopLogging"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := start(t, ctScenario(t), emulator.Options{})
			p := newProvider(t, srv)
			ctx := context.Background()
			want := tc.base()
			tc.change(&want)
			if err := p.PutTrail(ctx, want); err != nil {
				t.Fatalf("%s\nPutTrail: %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.wantOps, trailWrites(srv.Calls())); diff != "" {
				t.Errorf("%s\nwrites -want, +got:\n%s", tc.reason, diff)
			}
			for _, c := range srv.Calls() {
				if c.Service == "cloudtrail" && slices.Contains(tc.wantOps, c.Operation) && c.Region != want.HomeRegion {
					t.Errorf("%s\n%s signed for %s, want the home region %s", tc.reason, c.Operation, c.Region, want.HomeRegion)
				}
			}
			got, err := p.Trail(ctx, want.HomeRegion, want.Name)
			if err != nil {
				t.Fatal(err)
			}
			read := want
			if tc.read != nil {
				tc.read(&read)
			}
			if diff := cmp.Diff(&read, got); diff != "" {
				t.Errorf("%s\nread back -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

// TestPutTrailRefused reports what CloudTrail or the provider refuses in
// one line, and writes nothing the refusal would leave half done.
func TestPutTrailRefused(t *testing.T) {
	cases := map[string]struct {
		reason  string
		want    settings.Trail
		wantErr string
	}{
		"shadow": {
			reason:  "a multi-region trail is changed only from its home region",
			want:    settings.Trail{Name: "org-wide", HomeRegion: "us-east-1", S3BucketName: "ct-logs"},
			wantErr: "put trail org-wide in us-east-1: the trail's home region is eu-west-1",
		},
		"organization": {
			reason:  "organization trails are never made",
			want:    settings.Trail{Name: "new-org", HomeRegion: "us-east-1", S3BucketName: "ct-logs", Organization: true},
			wantErr: "put trail new-org in us-east-1: organization trails are not made or changed by this tool",
		},
		"bucket policy": {
			reason:  "CloudTrail's own refusal passes through with its code",
			want:    settings.Trail{Name: "no-grant", HomeRegion: "us-east-1", S3BucketName: "no-policy-logs"},
			wantErr: "create trail no-grant in us-east-1: InsufficientS3BucketPolicyException: Incorrect S3 bucket policy is detected for bucket: no-policy-logs",
		},
		"both selector forms": {
			reason: "a trail holds one form of selectors",
			want: settings.Trail{Name: "both", HomeRegion: "us-east-1", S3BucketName: "ct-logs",
				EventSelectors: audit().EventSelectors, AdvancedEventSelectors: newTrail().AdvancedEventSelectors},
			wantErr: "put trail both in us-east-1: a trail has either basic or advanced event selectors, not both",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			srv := start(t, ctScenario(t), emulator.Options{})
			p := newProvider(t, srv)
			err := p.PutTrail(context.Background(), tc.want)
			if err == nil || err.Error() != tc.wantErr {
				t.Fatalf("%s\nerror = %v\nwant    %s", tc.reason, err, tc.wantErr)
			}
			if awsprovider.ErrorCode(err) == "" && strings.Contains(tc.wantErr, "Exception") {
				t.Errorf("%s\nerror does not carry the AWS code", tc.reason)
			}
			for _, c := range srv.Calls() {
				if c.Service == "cloudtrail" && c.Status < 300 && slices.Contains(trailWrites([]emulator.Call{c}), c.Operation) {
					t.Errorf("%s\n%s succeeded", tc.reason, c.Operation)
				}
			}
		})
	}
}

func TestDeleteTrail(t *testing.T) {
	srv := start(t, ctScenario(t), emulator.Options{})
	p := newProvider(t, srv)
	ctx := context.Background()
	if err := p.PutTrail(ctx, newTrail()); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		reason       string
		region, name string
	}{
		{"the trail the tool made", "us-east-1", "s3baseline"},
		{"already deleted is success", "us-east-1", "s3baseline"},
		{"never existed is success", "us-east-1", "never-made"},
		{"by ARN in its home region", "eu-west-1", euLocalARN},
	}
	for _, tc := range cases {
		if err := p.DeleteTrail(ctx, tc.region, tc.name); err != nil {
			t.Fatalf("%s: DeleteTrail: %v", tc.reason, err)
		}
		got, err := p.Trail(ctx, tc.region, tc.name)
		if err != nil || got != nil {
			t.Errorf("%s: after delete Trail = %+v, %v; want nil", tc.reason, got, err)
		}
	}
	trails, err := p.Trails(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var arns []string
	for _, tr := range trails {
		arns = append(arns, tr.ARN)
	}
	if want := []string{orgWideARN, auditARN}; !slices.Equal(arns, want) {
		t.Errorf("trails left %v, want %v", arns, want)
	}
}
