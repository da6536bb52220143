package main

import (
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/s3baseline/s3baseline/apply"
	"github.com/s3baseline/s3baseline/plan"
	"github.com/s3baseline/s3baseline/settings"
)

const testTrailBucket = "s3baseline-cloudtrail-123456789012"

// testPlan has one bucket to change (its encryption) and one compliant.
func testPlan() *plan.Plan {
	return &plan.Plan{AccountPlan: plan.AccountPlan{Account: "123456789012", Buckets: []plan.BucketPlan{
		{Name: "drifted", Region: "us-east-1", Changes: []plan.Change{
			{Control: settings.DefaultEncryption, Action: plan.Update},
			{Control: settings.BlockPublicAccess, Action: plan.NoOp},
		}},
		{Name: "compliant", Region: "us-east-1", Changes: []plan.Change{
			{Control: settings.DefaultEncryption, Action: plan.NoOp},
		}},
	}}}
}

func started(kind, bucket, aspect, forBucket string, controls ...settings.ControlID) apply.Record {
	return apply.Record{Status: apply.RecordStarted, Kind: kind, Bucket: bucket, Aspect: aspect, For: forBucket, Controls: controls}
}

// theApply is a journal of an apply of testPlan that made exactly its
// change, the shared grants on its behalf and the account changes.
func theApply() []apply.Record {
	return []apply.Record{
		started(apply.KindBucket, "drifted", "encryption", "", settings.DefaultEncryption),
		{Status: apply.RecordDone, Kind: apply.KindBucket, Bucket: "drifted", Aspect: "encryption"},
		started(apply.KindBucket, "logs", "policy", "drifted", settings.AccessLogging),
		started(apply.KindTopic, "", "policy", "drifted", settings.EventNotifications),
		started(apply.KindAccount, "", "public_access_block", "", settings.AccountBlockPublicAccess),
		{Status: apply.RecordCreated, Kind: apply.KindKey, Target: "arn:aws:kms:us-east-1:123456789012:key/k"},
		{Status: apply.RecordCreated, Kind: apply.KindBucket, Bucket: testTrailBucket},
		// The trail bucket's baseline, then CloudTrail's grant on it.
		started(apply.KindBucket, testTrailBucket, "encryption", "", settings.DefaultEncryption),
		started(apply.KindBucket, testTrailBucket, "policy", "", settings.CloudTrailDataEvents),
		started(apply.KindTrail, "", "trail", "", settings.CloudTrailDataEvents),
	}
}

func TestSortJournal(t *testing.T) {
	cases := map[string]struct {
		reason     string
		records    []apply.Record
		bucket     map[string]int
		shared     map[string]int
		account    map[string]int
		mismatched []string
	}{
		"exact": {
			reason:  "the planned change is a bucket write; grants on its behalf are shared; the account changes, the trail bucket's baseline included, are account writes",
			records: theApply(),
			bucket:  map[string]int{"s3 PutBucketEncryption": 1},
			shared:  map[string]int{"s3 PutBucketPolicy": 1, "sns SetTopicAttributes": 1},
			account: map[string]int{"s3control PutPublicAccessBlock": 1, "s3 PutBucketEncryption": 1, "s3 PutBucketPolicy": 1, trailRecordOp: 1},
		},
		"write to a compliant bucket": {
			reason:     "a write to a planned bucket without changes is a bucket write, and that bucket does not match its (no) changes",
			records:    append(theApply(), started(apply.KindBucket, "compliant", "ownership", "", settings.ObjectOwnership)),
			bucket:     map[string]int{"s3 PutBucketEncryption": 1, "s3 PutBucketOwnershipControls": 1},
			shared:     map[string]int{"s3 PutBucketPolicy": 1, "sns SetTopicAttributes": 1},
			account:    map[string]int{"s3control PutPublicAccessBlock": 1, "s3 PutBucketEncryption": 1, "s3 PutBucketPolicy": 1, trailRecordOp: 1},
			mismatched: []string{"compliant"},
		},
		"written twice": {
			reason:     "one planned operation written twice is a mismatch though the operations are the right ones",
			records:    append(theApply(), started(apply.KindBucket, "drifted", "encryption", "", settings.DefaultEncryption)),
			bucket:     map[string]int{"s3 PutBucketEncryption": 2},
			shared:     map[string]int{"s3 PutBucketPolicy": 1, "sns SetTopicAttributes": 1},
			account:    map[string]int{"s3control PutPublicAccessBlock": 1, "s3 PutBucketEncryption": 1, "s3 PutBucketPolicy": 1, trailRecordOp: 1},
			mismatched: []string{"drifted"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var res result
			sortJournal(testPlan(), testTrailBucket, tc.records, &res)
			for _, c := range []struct {
				what      string
				got, want map[string]int
			}{{"bucket", res.BucketWrites, tc.bucket}, {"shared", res.SharedWrites, tc.shared}, {"account", res.AccountWrites, tc.account}} {
				if !maps.Equal(c.got, c.want) {
					t.Errorf("%s\n%s writes: got %v, want %v", tc.reason, c.what, c.got, c.want)
				}
			}
			if !slices.Equal(res.Mismatched, tc.mismatched) || res.MismatchedCount != len(tc.mismatched) {
				t.Errorf("%s\nmismatched: got %v (%d), want %v", tc.reason, res.Mismatched, res.MismatchedCount, tc.mismatched)
			}
			if want := []string{"key arn:aws:kms:us-east-1:123456789012:key/k", "bucket " + testTrailBucket}; !slices.Equal(res.Created, want) {
				t.Errorf("created: got %v, want %v", res.Created, want)
			}
		})
	}
}

func TestApplyExact(t *testing.T) {
	// What the emulator gets for theApply.
	calls := func(extra map[string]int) map[string]int {
		m := map[string]int{
			"s3 GetBucketEncryption": 10, // reads never count
			"s3 PutBucketEncryption": 2, "s3 PutBucketPolicy": 2, "sns SetTopicAttributes": 1,
			"s3control PutPublicAccessBlock": 1, "kms CreateKey": 1, "kms CreateAlias": 1, "s3 CreateBucket": 1,
			"cloudtrail CreateTrail": 1, "cloudtrail PutEventSelectors": 1, "cloudtrail StartLogging": 1,
		}
		for op, n := range extra {
			m[op] += n
		}
		return m
	}
	cases := map[string]struct {
		reason    string
		calls     map[string]int
		unmatched []string
	}{
		"exact": {
			reason: "every write is a journaled one, a creation or part of the trail",
			calls:  calls(nil),
		},
		"an unjournaled bucket write": {
			reason:    "a write the journal does not record is not exact",
			calls:     calls(map[string]int{"s3 PutBucketPolicy": 1}),
			unmatched: []string{"s3 PutBucketPolicy: journal 2, emulator 3"},
		},
		"an unknown write": {
			reason:    "a write of an operation the journal never records is not exact",
			calls:     calls(map[string]int{"s3 DeleteBucketPolicy": 1}),
			unmatched: []string{"s3 DeleteBucketPolicy: emulator 1, journal 0"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			var res result
			sortJournal(testPlan(), testTrailBucket, theApply(), &res)
			res.ToChange, res.ChangeWrites = 1, map[string]int{"s3 PutBucketEncryption": 1}
			a := applyReport{run: run{Buckets: 2, Calls: tc.calls, Result: res}}
			if got := a.unmatched(); !slices.Equal(got, tc.unmatched) {
				t.Errorf("%s\nunmatched: got %q, want %q", tc.reason, got, tc.unmatched)
			}
			if got, want := a.exact(), len(tc.unmatched) == 0; got != want {
				t.Errorf("%s\nexact: got %v, want %v (%s)", tc.reason, got, want, a.writesText())
			}
		})
	}
}

func TestCallsVerdict(t *testing.T) {
	mk := func(rules string, tags, total int) run {
		return run{Buckets: 100, Rules: rules, Calls: map[string]int{
			"s3 GetPublicAccessBlock": 100, "s3 GetBucketPolicy": 100, "s3 GetBucketEncryption": 100,
			"s3 GetBucketOwnershipControls": 100, "s3 GetBucketLogging": 100, "s3 GetBucketNotificationConfiguration": 100,
			opTags: tags, opWebsite: total - 600 - tags - 1, "sts GetCallerIdentity": 1,
		}}
	}
	cases := map[string]struct {
		reason      string
		tags, names run
		want        string
	}{
		"names only meets it": {
			reason: "the verdict names the config that meets the target and the one that does not",
			tags:   mk(rulesTags, 100, 730), names: mk(rulesNames, 50, 690),
			want: "met with rules by name only (6.90) and not with a rule matching on tags (7.30)",
		},
		"neither": {
			reason: "over 7 with both configs is said so",
			tags:   mk(rulesTags, 100, 730), names: mk(rulesNames, 80, 710),
			want: "met with neither config",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := callsVerdict(tc.tags, tc.names); !strings.Contains(got, tc.want) {
				t.Errorf("%s\ngot %q, want it to contain %q", tc.reason, got, tc.want)
			}
		})
	}
}
