package plan

import (
	"testing"

	"github.com/s3baseline/s3baseline/settings"
)

// TestEveryAspectIsDigested: a change to any observed aspect changes the
// state digest, or apply would write over a change it never saw.
func TestEveryAspectIsDigested(t *testing.T) {
	base := compliantState(testBucket)
	base.Tags = map[string]string{"a": "b"}
	base.Website = &settings.Website{IndexDocument: "index.html"}
	base.Observed = append(allAspects(), settings.AspectTags)
	changes := map[settings.Aspect]func(*settings.BucketState){
		settings.AspectTags:              func(s *settings.BucketState) { s.Tags = nil },
		settings.AspectPublicAccessBlock: func(s *settings.BucketState) { s.PublicAccessBlock = nil },
		settings.AspectOwnership:         func(s *settings.BucketState) { s.Ownership = nil },
		settings.AspectEncryption:        func(s *settings.BucketState) { s.Encryption = nil },
		settings.AspectLogging:           func(s *settings.BucketState) { s.Logging = nil },
		settings.AspectPolicy: func(s *settings.BucketState) {
			s.Policy = policyOf(`{"Sid":"X","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"*"}`)
		},
		settings.AspectNotifications: func(s *settings.BucketState) {
			// The tool's own entry is left out of the digest; anyone else's is in.
			s.Notifications.Entries = append(s.Notifications.Entries, settings.NotificationEntry{ID: "theirs", Kind: settings.DestQueue, ARN: "arn:aws:sqs:eu-west-1:123456789012:q", Events: []string{"s3:ObjectCreated:*"}})
		},
		settings.AspectWebsite:    func(s *settings.BucketState) { s.Website = nil },
		settings.AspectACL:        func(s *settings.BucketState) { s.ACL = nil },
		settings.AspectVersioning: func(s *settings.BucketState) { s.Versioning.MFADelete = false },
		settings.AspectObjectLock: func(s *settings.BucketState) { s.ObjectLock = nil },
		settings.AspectLifecycle:  func(s *settings.BucketState) { s.Lifecycle.Rules[0].Enabled = false },
	}
	for _, a := range base.Observed {
		if a == settings.AspectPolicyStatus {
			continue // derived from the policy, which pins it
		}
		change, ok := changes[a]
		if !ok {
			t.Errorf("aspect %s has no change in this test", a)
			continue
		}
		st := compliantState(testBucket)
		st.Tags, st.Website, st.Observed = base.Tags, base.Website, base.Observed
		change(&st)
		if StateDigest(st) == StateDigest(base) {
			t.Errorf("changing %s leaves the state digest the same", a)
		}
	}
}
