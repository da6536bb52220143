package settings

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	tlsStmt   = `{"Sid":"S3BaselineDenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b","arn:aws:s3:::b/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}`
	tlsStmt2  = `{"Sid":"S3BaselineDenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::b/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}`
	lockStmt  = `{"Sid":"S3BaselineDenyAdminPolicyChanges","Effect":"Deny","Principal":{"AWS":["arn:aws:iam::123456789012:role/Admin"]},"Action":["s3:DeleteBucketPolicy","s3:GetBucketPolicy","s3:PutBucketPolicy"],"Resource":"arn:aws:s3:::b"}`
	partner   = "{\n    \"Sid\": \"AllowPartnerRead\",\n    \"Effect\": \"Allow\",\n    \"Principal\": {\"AWS\": \"arn:aws:iam::210987654321:root\"},\n    \"Action\": \"s3:GetObject\",\n    \"Resource\": \"arn:aws:s3:::b/*\"\n  }"
	noSid     = `{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:role/Pipe"},"Action":["s3:GetObject","s3:PutObject"],"Resource":"arn:aws:s3:::b/p/*"}`
	foreignV1 = "{\n  \"Version\": \"2012-10-17\",\n  \"Id\": \"Policy&1\",\n  \"Statement\": [\n  " + partner + ",\n  " + noSid + "\n  ]\n}"
)

func set(kv ...string) map[string]json.RawMessage {
	m := map[string]json.RawMessage{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = json.RawMessage(kv[i+1])
	}
	return m
}

func pol(raw string) *Policy { return &Policy{Raw: raw} }

func TestMergePolicy(t *testing.T) {
	cases := map[string]struct {
		reason string
		cur    *Policy
		set    map[string]json.RawMessage
		remove []string
		want   *Policy
		err    string
	}{
		"NoPolicyAddOurs": {
			reason: "without a policy the result is a new document with our statements, in the owned order",
			set:    set(SidDenyAdminPolicyChanges, lockStmt, SidDenyInsecureTransport, tlsStmt),
			want:   pol(`{"Version":"2012-10-17","Statement":[` + tlsStmt + `,` + lockStmt + `]}`),
		},
		"ForeignKeptByteForByte": {
			reason: "foreign statements, Sid-less ones included, keep their exact text and order; Version and Id are kept",
			cur:    pol(foreignV1),
			set:    set(SidDenyInsecureTransport, tlsStmt),
			want:   pol(`{"Version":"2012-10-17","Id":"Policy&1","Statement":[` + partner + `,` + noSid + `,` + tlsStmt + `]}`),
		},
		"ReplaceInPlace": {
			reason: "our statement is replaced where it stands",
			cur:    pol(`{"Version":"2012-10-17","Statement":[` + noSid + `,` + tlsStmt2 + `,` + partner + `]}`),
			set:    set(SidDenyInsecureTransport, tlsStmt),
			want:   pol(`{"Version":"2012-10-17","Statement":[` + noSid + `,` + tlsStmt + `,` + partner + `]}`),
		},
		"DuplicateOursCollapsed": {
			reason: "two statements with our Sid become one",
			cur:    pol(`{"Version":"2012-10-17","Statement":[` + tlsStmt2 + `,` + noSid + `,` + tlsStmt2 + `]}`),
			set:    set(SidDenyInsecureTransport, tlsStmt),
			want:   pol(`{"Version":"2012-10-17","Statement":[` + tlsStmt + `,` + noSid + `]}`),
		},
		"SingleStatementObject": {
			reason: "a Statement that is one object is read as a list of one",
			cur:    pol(`{"Version":"2012-10-17","Statement":` + noSid + `}`),
			set:    set(SidDenyInsecureTransport, tlsStmt),
			want:   pol(`{"Version":"2012-10-17","Statement":[` + noSid + `,` + tlsStmt + `]}`),
		},
		"RemoveOurs": {
			reason: "removing ours leaves the others",
			cur:    pol(`{"Version":"2012-10-17","Statement":[` + tlsStmt + `,` + noSid + `,` + lockStmt + `]}`),
			remove: []string{SidDenyInsecureTransport, SidDenyAdminPolicyChanges},
			want:   pol(`{"Version":"2012-10-17","Statement":[` + noSid + `]}`),
		},
		"RemoveLastIsDelete": {
			reason: "nothing left means delete the policy",
			cur:    pol(`{"Version":"2012-10-17","Statement":[` + tlsStmt + `]}`),
			remove: []string{SidDenyInsecureTransport},
		},
		"RemoveAbsentIsNoop": {
			reason: "removing a Sid that is not there changes nothing",
			cur:    pol(`{"Version":"2012-10-17","Statement":[` + noSid + `]}`),
			remove: []string{SidServerAccessLogs},
			want:   pol(`{"Version":"2012-10-17","Statement":[` + noSid + `]}`),
		},
		"NothingAtAll": {
			reason: "no policy and nothing to set is no policy",
		},
		"ForeignSidRefused": {
			reason: "the tool never sets anyone else's Sid",
			set:    set("AllowPartnerRead", partner),
			err:    "not a Sid s3baseline owns",
		},
		"ForeignRemoveRefused": {
			reason: "the tool never removes anyone else's Sid",
			cur:    pol(foreignV1),
			remove: []string{"AllowPartnerRead"},
			err:    "not a Sid s3baseline owns",
		},
		"SidMismatch": {
			reason: "a statement filed under another Sid is a bug",
			set:    set(SidDenyAdminPolicyChanges, tlsStmt),
			err:    `has Sid "S3BaselineDenyInsecureTransport"`,
		},
		"SetAndRemove": {
			reason: "a Sid cannot be both set and removed",
			set:    set(SidDenyInsecureTransport, tlsStmt),
			remove: []string{SidDenyInsecureTransport},
			err:    "both set and removed",
		},
		"Unparseable": {
			reason: "a policy that is not a policy is not merged into",
			cur:    pol(`not json`),
			set:    set(SidDenyInsecureTransport, tlsStmt),
			err:    "the current policy",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := MergePolicy(tc.cur, tc.set, tc.remove)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("%s\nerr = %v, want one containing %q", tc.reason, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s\nunexpected error: %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\n-want +got:\n%s", tc.reason, diff)
			}
			if got != nil {
				if _, err := ParsePolicy(got.Raw); err != nil {
					t.Errorf("%s\nresult does not parse: %v", tc.reason, err)
				}
			}
		})
	}
}

func TestMergePolicyIdempotentAndReversible(t *testing.T) {
	ours := set(SidDenyInsecureTransport, tlsStmt, SidDenyAdminPolicyChanges, lockStmt)
	for name, cur := range map[string]*Policy{
		"none":     nil,
		"foreign":  pol(`{"Version":"2012-10-17","Statement":[` + partner + `,` + noSid + `]}`),
		"withOurs": pol(`{"Version":"2012-10-17","Statement":[` + tlsStmt2 + `,` + noSid + `]}`),
	} {
		t.Run(name, func(t *testing.T) {
			once, err := MergePolicy(cur, ours, nil)
			if err != nil {
				t.Fatal(err)
			}
			twice, err := MergePolicy(once, ours, nil)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(once, twice); diff != "" {
				t.Errorf("merging twice differs from merging once (-once +twice):\n%s", diff)
			}
			back, err := MergePolicy(once, nil, []string{SidDenyInsecureTransport, SidDenyAdminPolicyChanges})
			if err != nil {
				t.Fatal(err)
			}
			if name == "withOurs" {
				return // our old statement is gone for good, by design
			}
			if diff := cmp.Diff(cur, back); diff != "" {
				t.Errorf("removing ours does not restore the original (-orig +back):\n%s", diff)
			}
		})
	}
}

func TestMergePolicySizeLimit(t *testing.T) {
	// A foreign statement padded so that, with ours, the policy passes the
	// limit; whitespace does not count, so the padding is in a string.
	pad := strings.Repeat("x", MaxPolicyBytes-200)
	big := `{"Sid":"Big","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/` + pad + `"}`
	cur := pol(`{"Version":"2012-10-17","Statement":[` + big + `]}`)
	_, err := MergePolicy(cur, set(SidDenyInsecureTransport, tlsStmt), nil)
	var se *PolicySizeError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a *PolicySizeError", err)
	}
	if se.Size <= MaxPolicyBytes || !strings.Contains(err.Error(), "20480") {
		t.Errorf("err = %v (size %d): should name the size and the limit", err, se.Size)
	}

	// Whitespace does not count: a padded-out document just under the
	// limit once compacted is accepted.
	spaced := "{\n" + strings.Repeat(" ", 3*MaxPolicyBytes) + `"Version":"2012-10-17","Statement":[` + noSid + "]}"
	if _, err := MergePolicy(pol(spaced), set(SidDenyInsecureTransport, tlsStmt), nil); err != nil {
		t.Errorf("whitespace counted against the limit: %v", err)
	}
}

func TestMergeNotifications(t *testing.T) {
	ours := NotificationEntry{ID: NotificationID, Kind: DestTopic, ARN: "arn:aws:sns:eu-west-1:1:t", Events: []string{"s3:ObjectCreated:*"}}
	oldOurs := NotificationEntry{ID: NotificationID, Kind: DestTopic, ARN: "arn:aws:sns:eu-west-1:1:old", Events: []string{"s3:ObjectRemoved:*"}}
	queue := NotificationEntry{ID: "ingest", Kind: DestQueue, ARN: "arn:aws:sqs:eu-west-1:1:q", Events: []string{"s3:ObjectCreated:Put"}, Filter: []FilterRule{{Name: "prefix", Value: "in/"}}}
	lambda := NotificationEntry{Kind: DestLambda, ARN: "arn:aws:lambda:eu-west-1:1:function:f", Events: []string{"s3:ObjectRestore:*"}}

	cases := map[string]struct {
		reason string
		cur    *Notifications
		ours   *NotificationEntry
		want   *Notifications
	}{
		"AddToNothing": {
			reason: "no configuration: ours alone",
			ours:   &ours,
			want:   &Notifications{Entries: []NotificationEntry{ours}},
		},
		"AddKeepsForeignAndEventBridge": {
			reason: "foreign entries (Id-less too) and EventBridge are kept, ours appended",
			cur:    &Notifications{Entries: []NotificationEntry{queue, lambda}, EventBridge: true},
			ours:   &ours,
			want:   &Notifications{Entries: []NotificationEntry{queue, lambda, ours}, EventBridge: true},
		},
		"ReplaceInPlace": {
			reason: "our old entry is replaced where it stands",
			cur:    &Notifications{Entries: []NotificationEntry{oldOurs, queue}},
			ours:   &ours,
			want:   &Notifications{Entries: []NotificationEntry{ours, queue}},
		},
		"Remove": {
			reason: "nil removes ours only",
			cur:    &Notifications{Entries: []NotificationEntry{queue, oldOurs}, EventBridge: true},
			want:   &Notifications{Entries: []NotificationEntry{queue}, EventBridge: true},
		},
		"RemoveLastIsEmpty": {
			reason: "nothing left is the empty configuration",
			cur:    &Notifications{Entries: []NotificationEntry{oldOurs}},
		},
		"EventBridgeAlone": {
			reason: "EventBridge alone is still a configuration",
			cur:    &Notifications{Entries: []NotificationEntry{oldOurs}, EventBridge: true},
			want:   &Notifications{EventBridge: true},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := MergeNotifications(tc.cur, tc.ours)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\n-want +got:\n%s", tc.reason, diff)
			}
			if tc.ours != nil {
				again := MergeNotifications(got, tc.ours)
				if diff := cmp.Diff(got, again); diff != "" {
					t.Errorf("%s\nmerging twice differs from once:\n%s", tc.reason, diff)
				}
			}
		})
	}

	t.Run("RemoveRestoresOriginal", func(t *testing.T) {
		orig := &Notifications{Entries: []NotificationEntry{queue, lambda}, EventBridge: true}
		back := MergeNotifications(MergeNotifications(orig, &ours), nil)
		if diff := cmp.Diff(orig, back); diff != "" {
			t.Errorf("-orig +back:\n%s", diff)
		}
	})
	t.Run("DoesNotModifyInput", func(t *testing.T) {
		orig := &Notifications{Entries: []NotificationEntry{oldOurs, queue}}
		MergeNotifications(orig, &ours)
		if orig.Entries[0].ARN != oldOurs.ARN {
			t.Error("MergeNotifications modified its input")
		}
	})
	t.Run("ForcesOurID", func(t *testing.T) {
		e := ours
		e.ID = "other"
		got := MergeNotifications(nil, &e)
		if got.Entries[0].ID != NotificationID {
			t.Errorf("id = %q, want %q", got.Entries[0].ID, NotificationID)
		}
	})
}

func TestOverlapConflicts(t *testing.T) {
	ours := NotificationEntry{ID: NotificationID, Kind: DestTopic, ARN: "t", Events: []string{"s3:ObjectCreated:*", "s3:ObjectRemoved:*"}}
	cases := map[string]struct {
		entry NotificationEntry
		want  bool
	}{
		"SameWildcard":      {NotificationEntry{ID: "a", Events: []string{"s3:ObjectCreated:*"}}, true},
		"NarrowerFiltered":  {NotificationEntry{ID: "b", Events: []string{"s3:ObjectCreated:Put"}, Filter: []FilterRule{{Name: "prefix", Value: "in/"}}}, true},
		"OtherEvent":        {NotificationEntry{ID: "c", Events: []string{"s3:ObjectRestore:*"}}, false},
		"OursNotAConflict":  {NotificationEntry{ID: NotificationID, Events: []string{"s3:ObjectCreated:*"}}, false},
		"RemovedDelete":     {NotificationEntry{ID: "d", Events: []string{"s3:ObjectRemoved:Delete"}, Filter: []FilterRule{{Name: "suffix", Value: ".csv"}}}, true},
		"ReducedRedundancy": {NotificationEntry{ID: "e", Events: []string{"s3:ReducedRedundancyLostObject"}}, false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := OverlapConflicts(&Notifications{Entries: []NotificationEntry{tc.entry}}, ours)
			if (len(got) > 0) != tc.want {
				t.Errorf("conflicts = %v, want conflict %v", got, tc.want)
			}
		})
	}
	if got := OverlapConflicts(nil, ours); got != nil {
		t.Errorf("nil configuration: %v", got)
	}
}
