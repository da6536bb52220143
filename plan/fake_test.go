package plan

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/s3baseline/s3baseline/baselines"
	"github.com/s3baseline/s3baseline/settings"
)

// fakeObserver is a small in-memory Observer for the Build logic tests. The
// real provider is tested over HTTP against the emulator; this one only
// records what Build asks for.
type fakeObserver struct {
	account    settings.AccountState
	accountErr error
	listErr    error
	refs       []settings.BucketRef
	// states are the buckets' full states; ObserveBucket hands out the
	// asked-for aspects only. An aspect in a state's Errors fails.
	states map[string]settings.BucketState
	keys   map[string]settings.KeyInfo // by region
	// onObserve, when set, runs at each ObserveBucket call.
	onObserve func()
	// The account-level reads; a nil report is an empty one.
	trails    []settings.Trail
	trailsErr error
	iam       settings.IAMReport
	shield    settings.ShieldState
	// accessPoints and mraps are the account's access points.
	accessPoints []settings.AccessPoint
	mraps        []settings.MultiRegionAccessPoint
	// accountReads counts Trails, IAMReport and Shield calls by name.
	accountReads map[string]int

	mu        sync.Mutex
	observed  map[string][][]settings.Aspect
	described map[string]int
}

var _ Observer = (*fakeObserver)(nil)

func (f *fakeObserver) countRead(name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.accountReads == nil {
		f.accountReads = map[string]int{}
	}
	f.accountReads[name]++
}

func (f *fakeObserver) Trails(context.Context) ([]settings.Trail, error) {
	f.countRead("trails")
	return slices.Clone(f.trails), f.trailsErr
}

func (f *fakeObserver) IAMReport(context.Context) (settings.IAMReport, error) {
	f.countRead("iam")
	return f.iam, nil
}

func (f *fakeObserver) AccessPoints(_ context.Context, regions []string) ([]settings.AccessPoint, error) {
	f.countRead("access_points")
	var out []settings.AccessPoint
	for _, ap := range f.accessPoints {
		if slices.Contains(regions, ap.Region) {
			out = append(out, ap)
		}
	}
	return out, nil
}

func (f *fakeObserver) MultiRegionAccessPoints(context.Context) ([]settings.MultiRegionAccessPoint, bool, error) {
	f.countRead("mraps")
	return f.mraps, true, nil
}

func (f *fakeObserver) OrgS3Policy(context.Context) (settings.OrgS3Policy, error) {
	f.countRead("org_s3_policy")
	return settings.OrgS3Policy{}, nil
}

func (f *fakeObserver) Shield(context.Context) (settings.ShieldState, error) {
	f.countRead("shield")
	return f.shield, nil
}

func (f *fakeObserver) Account(context.Context) (settings.AccountState, error) {
	return f.account, f.accountErr
}

func (f *fakeObserver) ListBuckets(context.Context) ([]settings.BucketRef, error) {
	return slices.Clone(f.refs), f.listErr
}

func (f *fakeObserver) ObserveBucket(_ context.Context, ref settings.BucketRef, aspects []settings.Aspect) settings.BucketState {
	f.mu.Lock()
	if f.observed == nil {
		f.observed = map[string][][]settings.Aspect{}
	}
	f.observed[ref.Name] = append(f.observed[ref.Name], slices.Clone(aspects))
	f.mu.Unlock()
	if f.onObserve != nil {
		f.onObserve()
	}
	full := f.states[ref.Name]
	out := settings.BucketState{Name: ref.Name, Region: ref.Region}
	for _, a := range aspects {
		if msg, failed := full.Errors[a]; failed {
			if out.Errors == nil {
				out.Errors = map[settings.Aspect]string{}
			}
			out.Errors[a] = msg
			continue
		}
		out.Observed = append(out.Observed, a)
		out.CopyAspect(&full, a)
	}
	return out
}

func (f *fakeObserver) DescribeKey(_ context.Context, region, ref string) (settings.KeyInfo, error) {
	f.mu.Lock()
	if f.described == nil {
		f.described = map[string]int{}
	}
	f.described[region]++
	f.mu.Unlock()
	if k, ok := f.keys[region]; ok {
		return k, nil
	}
	return settings.KeyInfo{Ref: ref}, nil
}

// testNow is the plan time of the Build and golden tests.
func testNow() time.Time { return time.Date(2026, 11, 26, 18, 0, 0, 0, time.UTC) }

// mixedScenario is an account with one bucket of every kind the text plan
// has to show: a legacy bucket, a partially compliant one, a compliant one,
// an exempt one, one whose exemption lapsed, one with read errors, one
// with others' statements and notifications, the log bucket and a low one.
func mixedScenario(t interface {
	Helper()
	Fatalf(string, ...any)
}) (*fakeObserver, Options) {
	t.Helper()
	high, ok := baselines.Builtin("high")
	if !ok {
		t.Fatalf("no built-in high")
	}
	low, _ := baselines.Builtin("low")
	cfg := testConfig(high)
	cfg.Path = "s3baseline.yaml"
	cfg.Rules = []baselines.Rule{
		{Match: "public-downloads-*", Baseline: low, Reason: "public download site, approved in SEC-142", Line: 20},
		{MatchTags: map[string]string{"team": "analytics"}, Exempt: []settings.ControlID{settings.EventNotifications},
			Reason: "analytics pipeline owns its own notifications", Until: time.Date(2027, 6, 30, 0, 0, 0, 0, time.UTC), Line: 23},
		{Match: "old-*", Exempt: []settings.ControlID{settings.ObjectOwnership},
			Reason: "legacy ACL readers", Until: time.Date(2025, 1, 31, 0, 0, 0, 0, time.UTC), Line: 27},
	}

	states := map[string]settings.BucketState{}
	add := func(s settings.BucketState) { states[s.Name] = s }

	legacy := settings.BucketState{Name: "legacy-archive", Region: testRegion}
	add(legacy)

	partial := compliantState("partial-data")
	partial.Encryption = &settings.Encryption{Algorithm: settings.SSEKMS, KeyARN: "arn:aws:kms:eu-west-1:123456789012:key/aws-s3-managed"}
	partial.Logging = &settings.Logging{TargetBucket: testLogs, TargetPrefix: "s3/", KeyFormat: settings.KeyFormatSimple}
	partial.Policy = policyOf(`{"Sid":"RequireTLS","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::partial-data","arn:aws:s3:::partial-data/*"],"Condition":{"Bool":{"aws:SecureTransport":false}}}`)
	partial.Notifications = nil
	add(partial)

	add(compliantState("compliant-app"))

	analytics := compliantState("analytics-raw")
	analytics.Tags = map[string]string{"team": "analytics"}
	analytics.Notifications = nil
	add(analytics)

	old := compliantState("old-reports")
	old.Ownership = &settings.Ownership{Rule: settings.OwnershipObjectWriter}
	add(old)

	broken := compliantState("broken-perms")
	broken.Errors = map[settings.Aspect]string{
		settings.AspectPolicy:        "get bucket policy: AccessDenied: Access Denied",
		settings.AspectNotifications: "get bucket notification configuration: AccessDenied: Access Denied",
	}
	add(broken)

	shared := compliantState("shared-ingest")
	shared.Policy = policyOf(
		`{"Sid":"AllowPartnerRead","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::shared-ingest/*"}`,
		`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/Etl"},"Action":["s3:PutObject"],"Resource":"arn:aws:s3:::shared-ingest/*"}`,
		string(AdminLockStatement("shared-ingest", testLock())),
	)
	shared.Notifications = &settings.Notifications{EventBridge: true, Entries: []settings.NotificationEntry{
		{ID: "ingest", Kind: settings.DestQueue, ARN: "arn:aws:sqs:eu-west-1:123456789012:ingest", Events: []string{"s3:ObjectCreated:Put"}},
	}}
	add(shared)

	logs := compliantState(testLogs)
	logs.Encryption = &settings.Encryption{Algorithm: settings.SSES3}
	logs.Logging = nil
	logs.Policy = policyOf(string(TLSStatement("", testLogs)), string(AdminLockStatement(testLogs, testLock())),
		`{"Sid":"S3BaselineServerAccessLogs","Effect":"Allow","Principal":{"Service":"logging.s3.amazonaws.com"},"Action":"s3:PutObject","Resource":"arn:aws:s3:::`+testLogs+`/s3/*"}`)
	add(logs)

	downloads := settings.BucketState{Name: "public-downloads-site", Region: "us-east-1",
		Encryption: &settings.Encryption{Algorithm: settings.SSES3},
		Logging: &settings.Logging{TargetBucket: "s3baseline-logs-123456789012-us-east-1", TargetPrefix: "s3/",
			KeyFormat: settings.KeyFormatPartitioned, PartitionDateSource: settings.EventTime}}
	add(downloads)

	f := &fakeObserver{
		account: testAccountState(),
		states:  states,
		keys:    map[string]settings.KeyInfo{testRegion: testKey()},
	}
	for name, s := range states {
		f.refs = append(f.refs, settings.BucketRef{Name: name, Region: s.Region})
	}
	return f, Options{Config: cfg, Now: testNow(), ToolVersion: "0.1.0"}
}
