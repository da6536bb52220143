package plan

import (
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/s3baseline/s3baseline/settings"
)

// StateDigest pins a bucket's observed security state: "sha256:" and the
// hex SHA-256 of a canonical JSON of every observed aspect. apply
// re-observes the same aspects (BucketPlan.Observed) and compares.
//
// What the tool itself writes is left out: statements with an owned Sid
// and the notification entry with our Id. During one apply the tool adds
// grants to shared buckets (the log bucket's delivery statement) before it
// reaches them, and those writes must not make them look stale; anyone
// else's change must. For the same reason the policy is compared in its
// normalised form: a policy put back by the tool comes back from AWS with
// other whitespace but the same meaning. A policy with no foreign
// statement is the same state as no policy at all.
//
// Read errors are left out (they are not state), and so are what is
// derived rather than read: the resolved key of the encryption rule
// (DescribeKey) and the policy status (S3's verdict on the policy, which
// the policy itself pins).
func StateDigest(st settings.BucketState) string {
	aspects := map[settings.Aspect]any{}
	for _, a := range sortedAspects(st.Observed) {
		if a == settings.AspectPolicyStatus {
			continue
		}
		aspects[a] = aspectState(st, a)
	}
	doc := struct {
		Name    string                  `json:"name"`
		Region  string                  `json:"region"`
		Aspects map[settings.Aspect]any `json:"aspects"`
	}{st.Name, st.Region, aspects}
	// encoding/json writes map keys sorted and struct fields in order,
	// which makes this canonical.
	sum := sha256.Sum256(rawJSON(doc))
	return "sha256:" + hex.EncodeToString(sum[:])
}

func aspectState(st settings.BucketState, a settings.Aspect) any {
	switch a {
	case settings.AspectTags:
		return st.Tags
	case settings.AspectPublicAccessBlock:
		return st.PublicAccessBlock
	case settings.AspectOwnership:
		return st.Ownership
	case settings.AspectEncryption:
		if st.Encryption == nil {
			return nil
		}
		e := *st.Encryption
		e.KeyARN, e.KeyManager = "", ""
		e.BlockedEncryptionTypes = sortedSet(e.BlockedEncryptionTypes)
		return e
	case settings.AspectLogging:
		return st.Logging
	case settings.AspectPolicy:
		return policyState(st.Policy)
	case settings.AspectNotifications:
		return notificationState(st.Notifications)
	case settings.AspectWebsite:
		return st.Website
	case settings.AspectACL:
		return aclState(st.ACL)
	case settings.AspectVersioning:
		return st.Versioning
	case settings.AspectObjectLock:
		return st.ObjectLock
	case settings.AspectLifecycle:
		return st.Lifecycle
	}
	return nil
}

// AspectDigests is the StateDigest of each observed aspect alone.
func AspectDigests(st settings.BucketState) map[settings.Aspect]string {
	out := make(map[settings.Aspect]string, len(st.Observed))
	for _, a := range st.Observed {
		if a == settings.AspectPolicyStatus {
			continue
		}
		out[a] = AspectDigest(st, a)
	}
	return out
}

// AspectDigest is the StateDigest of one aspect of st.
func AspectDigest(st settings.BucketState, a settings.Aspect) string {
	st.Observed = []settings.Aspect{a}
	return StateDigest(st)
}

// aclState is an ACL with its grants in a stable order: S3 does not promise
// one.
func aclState(a *settings.ACL) any {
	if a == nil {
		return nil
	}
	c := *a
	c.Grants = slices.Clone(a.Grants)
	slices.SortFunc(c.Grants, func(x, y settings.Grant) int {
		return strings.Compare(x.Type+"|"+x.ID+"|"+x.URI+"|"+x.Email+"|"+x.Permission, y.Type+"|"+y.ID+"|"+y.URI+"|"+y.Email+"|"+y.Permission)
	})
	return c
}

func policyState(p *settings.Policy) any {
	if p == nil {
		return nil
	}
	doc, err := settings.ParsePolicy(p.Raw)
	if err != nil {
		// Not a policy we can read: any change to its text counts.
		return map[string]string{"unparsed": p.Raw}
	}
	foreign := doc.Foreign()
	if len(foreign) == 0 {
		return nil
	}
	return struct {
		Version    string               `json:"version"`
		ID         string               `json:"id"`
		Statements []settings.Statement `json:"statements"`
	}{doc.Version, doc.ID, foreign}
}

func notificationState(n *settings.Notifications) any {
	if n == nil {
		return nil
	}
	foreign := n.Foreign()
	if len(foreign) == 0 && !n.EventBridge {
		return nil
	}
	entries := make([]settings.NotificationEntry, len(foreign))
	for i, e := range foreign {
		e.Events = sortedSet(e.Events)
		e.Filter = slices.Clone(e.Filter)
		slices.SortFunc(e.Filter, func(a, b settings.FilterRule) int {
			return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
		})
		entries[i] = e
	}
	// S3 does not promise to return entries in the order they were put.
	slices.SortStableFunc(entries, func(a, b settings.NotificationEntry) int {
		if c := strings.Compare(a.ID, b.ID); c != 0 {
			return c
		}
		return strings.Compare(a.ARN, b.ARN)
	})
	return struct {
		Entries     []settings.NotificationEntry `json:"entries"`
		EventBridge bool                         `json:"eventbridge"`
	}{entries, n.EventBridge}
}
