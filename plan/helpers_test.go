package plan

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/s3baseline/s3baseline/baselines"
	"github.com/s3baseline/s3baseline/settings"
)

// The account, region and names every diff test uses.
const (
	testAccount = "123456789012"
	testRegion  = "eu-west-1"
	testBucket  = "data"
	testCaller  = "arn:aws:sts::123456789012:assumed-role/Ops/alice"
	testKeyRef  = "alias/s3baseline"
	testKeyARN  = "arn:aws:kms:eu-west-1:123456789012:key/11112222-3333-4444-5555-666677778888"
	testAdmin   = "arn:aws:iam::123456789012:role/LegacyFullAdmin"
	testLogs    = "s3baseline-logs-123456789012-eu-west-1"
	testTopic   = "arn:aws:sns:eu-west-1:123456789012:s3baseline-events"
)

func builtin(t testing.TB, name string) *baselines.Baseline {
	t.Helper()
	b, ok := baselines.Builtin(name)
	if !ok {
		t.Fatalf("no built-in baseline %q", name)
	}
	return b
}

// testConfig is the default config with an admin principal and baseline.
func testConfig(b *baselines.Baseline) *baselines.Config {
	c := baselines.DefaultConfig()
	c.Baseline = b
	c.Settings.AdminLock.Deny = []string{testAdmin}
	return c
}

func testKey() settings.KeyInfo {
	return settings.KeyInfo{Ref: testKeyRef, Exists: true, ARN: testKeyARN, KeyID: "11112222-3333-4444-5555-666677778888",
		Enabled: true, Symmetric: true, Manager: "CUSTOMER"}
}

func testAccountState() settings.AccountState {
	return settings.AccountState{AccountID: testAccount, Caller: testCaller}
}

// policyOf makes a bucket policy from statement texts.
func policyOf(statements ...string) *settings.Policy {
	return &settings.Policy{Raw: `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`}
}

func allAspects() []settings.Aspect {
	return []settings.Aspect{settings.AspectPublicAccessBlock, settings.AspectOwnership, settings.AspectEncryption,
		settings.AspectLogging, settings.AspectPolicy, settings.AspectNotifications,
		settings.AspectACL, settings.AspectPolicyStatus, settings.AspectWebsite,
		settings.AspectVersioning, settings.AspectObjectLock, settings.AspectLifecycle}
}

// keptLifecycle is a lifecycle that passes the lifecycle control on a
// versioned bucket: it expires noncurrent versions.
func keptLifecycle() *settings.LifecycleConfig {
	return &settings.LifecycleConfig{Rules: []settings.LifecycleRule{{ID: "expire-old-versions", Enabled: true, NoncurrentExpiration: true, AbortIncomplete: true}}}
}

// testOwnerID is the bucket owner's canonical id in the ACLs of the tests.
const testOwnerID = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"

// privateACL is the ACL of a bucket nobody shared: the owner's full control.
func privateACL() *settings.ACL {
	return &settings.ACL{Owner: testOwnerID, Grants: []settings.Grant{{Type: "CanonicalUser", ID: testOwnerID, Permission: "FULL_CONTROL"}}}
}

func allOn() *settings.PublicAccessBlock {
	return &settings.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true}
}

func ourEntry() settings.NotificationEntry {
	return settings.NotificationEntry{ID: settings.NotificationID, Kind: settings.DestTopic, ARN: testTopic,
		Events: []string{"s3:ObjectCreated:*", "s3:ObjectRemoved:*"}}
}

// compliantState is a bucket that complies with the high baseline under
// testConfig; tests break one aspect at a time.
func compliantState(name string) settings.BucketState {
	return settings.BucketState{
		Name:              name,
		Region:            testRegion,
		Observed:          allAspects(),
		PublicAccessBlock: allOn(),
		Ownership:         &settings.Ownership{Rule: settings.OwnershipBucketOwnerEnforced},
		Encryption: &settings.Encryption{Algorithm: settings.SSEKMS, KMSKeyID: testKeyRef, KeyARN: testKeyARN, BucketKeyEnabled: true,
			BlockedEncryptionTypes: []string{settings.EncryptionTypeSSEC}},
		Logging:       &settings.Logging{TargetBucket: testLogs, TargetPrefix: "s3/", KeyFormat: settings.KeyFormatPartitioned, PartitionDateSource: settings.EventTime},
		Policy:        policyOf(string(TLSStatement("", name)), string(AdminLockStatement(name, testLock()))),
		Notifications: &settings.Notifications{Entries: []settings.NotificationEntry{ourEntry()}},
		ACL:           privateACL(),
		PolicyStatus:  &settings.PolicyStatus{},
		Versioning:    &settings.VersioningConfig{Status: settings.VersioningEnabled, MFADelete: true},
		ObjectLock:    &settings.ObjectLockConfig{Enabled: true, Mode: "GOVERNANCE", Days: 30},
		Lifecycle:     keptLifecycle(),
	}
}

// testInput is the diff input of a compliant "data" bucket under the named
// built-in baseline.
func testInput(t testing.TB, baseline string) Input {
	cfg := testConfig(builtin(t, baseline))
	ref := settings.BucketRef{Name: testBucket, Region: testRegion}
	return Input{
		State:      compliantState(testBucket),
		Account:    testAccountState(),
		Assignment: baselines.Assignment{Baseline: cfg.Baseline},
		Desired:    DesiredFor(cfg, testAccountState(), ref, testKey(), nil),
	}
}

func findChange(bp BucketPlan, id settings.ControlID) (Change, bool) {
	for _, c := range bp.Changes {
		if c.Control == id {
			return c, true
		}
	}
	return Change{}, false
}

// jsonEqual compares two JSON texts by meaning.
func jsonEqual(t testing.TB, a, b []byte) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal(a, &x); err != nil {
		t.Fatalf("bad JSON %s: %v", a, err)
	}
	if err := json.Unmarshal(b, &y); err != nil {
		t.Fatalf("bad JSON %s: %v", b, err)
	}
	xa, _ := json.Marshal(x)
	ya, _ := json.Marshal(y)
	return string(xa) == string(ya)
}

func containsLine(lines []string, sub string) bool {
	for _, l := range lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

// diffCase is one case of a control's diff table.
type diffCase struct {
	reason   string
	baseline string // default "high"
	state    func(*settings.BucketState)
	input    func(*Input)
	// action is the change's action word; "" means no change entry.
	action string
	before string // JSON, checked when set
	after  string // JSON, checked when set
	// inReason, err and warn are substrings of the reason, of a bucket
	// error and of a bucket warning.
	inReason string
	err      string
	warn     string
	// held and impact are substrings of the change's HeldBack and of one
	// of its impact lines; empty means none.
	held   string
	impact string
}

func runDiffCases(t *testing.T, id settings.ControlID, cases map[string]diffCase) {
	t.Helper()
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			b := tc.baseline
			if b == "" {
				b = "high"
			}
			in := testInput(t, b)
			if tc.state != nil {
				tc.state(&in.State)
			}
			if tc.input != nil {
				tc.input(&in)
			}
			bp := Diff(in)
			ch, ok := findChange(bp, id)
			switch {
			case tc.action == "" && ok:
				t.Errorf("\n%s\nDiff: got a %s change %+v, want none", tc.reason, id, ch)
			case tc.action != "" && !ok:
				t.Fatalf("\n%s\nDiff: no %s change, want %s (errors %q)", tc.reason, id, tc.action, bp.Errors)
			case ok && ch.Action.String() != tc.action:
				t.Errorf("\n%s\nDiff: action %s, want %s (reason %q)", tc.reason, ch.Action, tc.action, ch.Reason)
			}
			if ok && tc.before != "" && !jsonEqual(t, ch.Before, []byte(tc.before)) {
				t.Errorf("\n%s\nbefore = %s, want %s", tc.reason, ch.Before, tc.before)
			}
			if ok && tc.after != "" && !jsonEqual(t, ch.After, []byte(tc.after)) {
				t.Errorf("\n%s\nafter = %s, want %s", tc.reason, ch.After, tc.after)
			}
			if ok && ch.Action == NoOp && string(ch.Before) != string(ch.After) {
				t.Errorf("\n%s\na no-op must have before == after, got %s and %s", tc.reason, ch.Before, ch.After)
			}
			if ok && len(ch.NIST) == 0 {
				t.Errorf("\n%s\nchange has no NIST controls", tc.reason)
			}
			if tc.inReason != "" && !strings.Contains(ch.Reason, tc.inReason) {
				t.Errorf("\n%s\nreason %q does not say %q", tc.reason, ch.Reason, tc.inReason)
			}
			if tc.err != "" && !containsLine(bp.Errors, tc.err) {
				t.Errorf("\n%s\nerrors %q, want one containing %q", tc.reason, bp.Errors, tc.err)
			}
			if tc.err == "" && len(bp.Errors) > 0 {
				t.Errorf("\n%s\nunexpected errors %q", tc.reason, bp.Errors)
			}
			if tc.warn != "" && !containsLine(bp.Warnings, tc.warn) {
				t.Errorf("\n%s\nwarnings %q, want one containing %q", tc.reason, bp.Warnings, tc.warn)
			}
			if tc.warn == "" && len(bp.Warnings) > 0 {
				t.Errorf("\n%s\nunexpected warnings %q", tc.reason, bp.Warnings)
			}
			if (tc.held == "") != (ch.HeldBack == "") || !strings.Contains(ch.HeldBack, tc.held) {
				t.Errorf("\n%s\nheld back %q, want %q", tc.reason, ch.HeldBack, tc.held)
			}
			if tc.impact != "" && !containsLine(ch.Impact, tc.impact) {
				t.Errorf("\n%s\nimpact %q, want one containing %q", tc.reason, ch.Impact, tc.impact)
			}
			if tc.impact == "" && len(ch.Impact) > 0 {
				t.Errorf("\n%s\nunexpected impact %q", tc.reason, ch.Impact)
			}
		})
	}
}

// testLock is admin_policy_lock's statement under testConfig: the admin
// denied the bucket policy, the caller's role excepted.
func testLock() AdminLock {
	return AdminLock{Partition: "aws", Principals: []string{testAdmin}, Actions: baselines.AdminLockPolicy, Except: callerPatterns(testCaller)}
}
