package plan

import (
	"slices"
	"testing"

	"github.com/s3baseline/s3baseline/settings"
)

func TestStateDigest(t *testing.T) {
	partner := `{"Sid":"AllowPartnerRead","Effect":"Allow","Principal":{"AWS":"111122223333"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}`
	queue := settings.NotificationEntry{ID: "ingest", Kind: settings.DestQueue, ARN: "arn:aws:sqs:eu-west-1:123456789012:ingest",
		Events: []string{"s3:ObjectCreated:Put"}}
	base := func() settings.BucketState {
		s := compliantState(testBucket)
		s.Policy = policyOf(partner)
		s.Notifications = &settings.Notifications{Entries: []settings.NotificationEntry{queue}}
		return s
	}
	cases := map[string]struct {
		reason string
		change func(*settings.BucketState)
		same   bool
	}{
		"Unchanged": {
			reason: "the same state has the same digest",
			change: func(*settings.BucketState) {},
			same:   true,
		},
		"OwnedStatementsAdded": {
			reason: "our own statements do not count",
			change: func(s *settings.BucketState) {
				s.Policy = policyOf(partner, string(TLSStatement("", testBucket)), `{"Sid":"S3BaselineServerAccessLogs","Effect":"Allow"}`)
			},
			same: true,
		},
		"PolicyWhitespaceAndForms": {
			reason: "a policy that means the same (whitespace, account id vs root ARN, scalar vs list) is the same state",
			change: func(s *settings.BucketState) {
				s.Policy = &settings.Policy{Raw: `{ "Version": "2012-10-17", "Statement": { "Sid": "AllowPartnerRead", "Effect": "Allow",
				  "Principal": {"AWS": ["arn:aws:iam::111122223333:root"]}, "Action": ["S3:GetObject"], "Resource": ["arn:aws:s3:::data/*"] } }`}
			},
			same: true,
		},
		"ForeignStatementChanged": {
			reason: "anyone else's statement change counts",
			change: func(s *settings.BucketState) {
				s.Policy = policyOf(`{"Sid":"AllowPartnerRead","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}`)
			},
		},
		"OurEntryChanged": {
			reason: "our notification entry does not count",
			change: func(s *settings.BucketState) {
				s.Notifications.Entries = append(s.Notifications.Entries, ourEntry())
			},
			same: true,
		},
		"ForeignEntryChanged": {
			reason: "anyone else's entry counts",
			change: func(s *settings.BucketState) { s.Notifications.Entries[0].Events = []string{"s3:ObjectCreated:*"} },
		},
		"EventBridge": {
			reason: "EventBridge switched on counts",
			change: func(s *settings.BucketState) { s.Notifications.EventBridge = true },
		},
		"FlagChanged": {
			reason: "a Block Public Access flag counts",
			change: func(s *settings.BucketState) { s.PublicAccessBlock.RestrictPublicBuckets = false },
		},
		"KeyARNIgnored": {
			reason: "the resolved key ARN is derived, not bucket state",
			change: func(s *settings.BucketState) { s.Encryption.KeyARN = "" },
			same:   true,
		},
		"KeyChanged": {
			reason: "another key counts",
			change: func(s *settings.BucketState) { s.Encryption.KMSKeyID = "alias/other" },
		},
		"ObservedOrder": {
			reason: "the order aspects were read in does not count, nor do errors",
			change: func(s *settings.BucketState) {
				s.Observed = slices.Clone(s.Observed)
				slices.Reverse(s.Observed)
				s.Errors = map[settings.Aspect]string{settings.AspectTags: "get bucket tagging: AccessDenied"}
			},
			same: true,
		},
		"FewerAspects": {
			reason: "another set of observed aspects is another state",
			change: func(s *settings.BucketState) { s.Observed = s.Observed[1:] },
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			a := base()
			b := base()
			tc.change(&b)
			da, db := StateDigest(a), StateDigest(b)
			if (da == db) != tc.same {
				t.Errorf("\n%s\nsame digest = %v, want %v", tc.reason, da == db, tc.same)
			}
			if len(da) != len("sha256:")+64 || da[:7] != "sha256:" {
				t.Errorf("digest %q is not sha256:HEX", da)
			}
		})
	}

	// Our own statements on a bucket that had no policy: the same state.
	a := compliantState(testBucket)
	a.Policy = nil
	b := compliantState(testBucket)
	b.Policy = policyOf(string(TLSStatement("", testBucket)), `{"Sid":"S3BaselineServerAccessLogs","Effect":"Allow"}`)
	if StateDigest(a) != StateDigest(b) {
		t.Error("a policy holding only our statements must digest like no policy")
	}
}
