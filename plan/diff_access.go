package plan

import (
	"strings"

	"github.com/s3baseline/s3baseline/settings"
)

// diffPublicAccessBlock judges block_public_access on the effective flags
// (bucket OR account, as S3 combines them) but writes the bucket's own: a
// bucket covered by the account's flags complies, and a change only ever
// touches the bucket.
func diffPublicAccessBlock(c *bucketCtx) *Change {
	own := c.State.PublicAccessBlock
	eff := settings.EffectivePublicAccessBlock(own, c.Account.PublicAccessBlock)
	if eff.AllOn() {
		reason := "all four Block Public Access flags are on"
		if !own.AllOn() {
			reason += " (with the account-level flags)"
		}
		return noop(rawJSON(own), reason)
	}
	if c.Account.PublicAccessBlockError != "" {
		c.warnf("account-level Block Public Access could not be read (%s): block_public_access was judged on the bucket's own flags", c.Account.PublicAccessBlockError)
	}
	var off []string
	for _, f := range []struct {
		name string
		on   bool
	}{
		{"block_public_acls", eff.BlockPublicAcls},
		{"ignore_public_acls", eff.IgnorePublicAcls},
		{"block_public_policy", eff.BlockPublicPolicy},
		{"restrict_public_buckets", eff.RestrictPublicBuckets},
	} {
		if !f.on {
			off = append(off, f.name)
		}
	}
	reason := "Block Public Access flags off: " + strings.Join(off, ", ")
	if own == nil {
		reason = "Block Public Access is not configured on the bucket (" + strings.Join(off, ", ") + " off)"
	}
	all := settings.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true}
	return &Change{
		Action: createOrUpdate(own == nil),
		Before: rawJSON(own),
		After:  rawJSON(&all),
		Reason: reason + "; baseline " + c.baseline.Name + " wants all four on",
	}
}

// diffOwnership wants BucketOwnerEnforced: ACLs disabled, so access is
// decided by policies alone. No ownership controls is ObjectWriter.
func diffOwnership(c *bucketCtx) *Change {
	cur := c.State.Ownership
	if cur != nil && cur.Rule == settings.OwnershipBucketOwnerEnforced {
		return noop(rawJSON(cur), "Object Ownership is BucketOwnerEnforced (ACLs disabled)")
	}
	reason := "Object Ownership is not configured (ObjectWriter: ACLs enabled)"
	if cur != nil {
		reason = "Object Ownership is " + cur.Rule + " (ACLs enabled)"
	}
	return &Change{
		Action: createOrUpdate(cur == nil),
		Before: rawJSON(cur),
		After:  rawJSON(&settings.Ownership{Rule: settings.OwnershipBucketOwnerEnforced}),
		Reason: reason + "; baseline " + c.baseline.Name + " wants BucketOwnerEnforced (ACLs disabled)",
	}
}
