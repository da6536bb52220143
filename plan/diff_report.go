package plan

import (
	"fmt"
	"slices"
	"strings"

	"github.com/s3baseline/s3baseline/settings"
)

// diffVersioning: compliant when versioning is Enabled. S3 can never take a
// bucket back to "never versioned", only suspend it, so the plan says what a
// rollback can and cannot do; with MFA delete on, S3 changes the versioning
// state only for the root user with its MFA device, so the change is held
// back rather than failing.
func diffVersioning(c *bucketCtx) *Change {
	cur := c.State.Versioning
	if cur != nil && cur.Status == settings.VersioningEnabled {
		return noop(rawJSON(cur), "versioning is Enabled")
	}
	after := &settings.VersioningConfig{Status: settings.VersioningEnabled}
	state := "versioning was never enabled"
	if cur != nil {
		after.MFADelete = cur.MFADelete
		state = "versioning is " + cur.Status
	}
	ch := &Change{
		Action: createOrUpdate(cur == nil),
		Before: rawJSON(cur),
		After:  rawJSON(after),
		Reason: state + "; baseline " + c.baseline.Name + " wants it Enabled. S3 cannot turn versioning off once it is on, only suspend it: " +
			"a rollback suspends it, and objects written meanwhile keep their versions (billed until a lifecycle rule expires noncurrent versions)",
	}
	if cur != nil && cur.MFADelete {
		ch.HeldBack = "MFA delete is enabled: S3 changes this bucket's versioning state only for the root user with its MFA device (x-amz-mfa); enable versioning as root"
	}
	return ch
}

// reporter judges a report-only control: the findings, none when the
// bucket complies.
type reporter func(c *bucketCtx) []Finding

func reporterFor(id settings.ControlID) reporter {
	switch id {
	case settings.MFADelete:
		return reportMFADelete
	case settings.ObjectLock:
		return reportObjectLock
	case settings.Lifecycle:
		return reportLifecycle
	case settings.ACLGrants:
		return reportACLGrants
	case settings.CrossAccountPolicy:
		return reportCrossAccount
	}
	return nil
}

func (c *bucketCtx) finding(detail string) Finding {
	return Finding{Subject: c.bucketARN(), Detail: detail}
}

func reportMFADelete(c *bucketCtx) []Finding {
	v := c.State.Versioning
	switch {
	case v != nil && v.MFADelete:
		return nil
	case v == nil || v.Status != settings.VersioningEnabled:
		return []Finding{c.finding("MFA delete is not enabled, and needs versioning Enabled first; only the root user with its MFA device can enable it (PutBucketVersioning with x-amz-mfa), and not on a bucket with a lifecycle configuration")}
	}
	return []Finding{c.finding("versioning is Enabled without MFA delete; only the root user with its MFA device can enable it (PutBucketVersioning with x-amz-mfa), and not on a bucket with a lifecycle configuration")}
}

func reportObjectLock(c *bucketCtx) []Finding {
	if l := c.State.ObjectLock; l != nil && l.Enabled {
		return nil
	}
	return []Finding{c.finding("Object Lock is not enabled: once the retention period is agreed, enable it on the versioned bucket (PutObjectLockConfiguration); COMPLIANCE mode cannot be shortened or removed, even by root")}
}

// reportLifecycle: a bucket needs an enabled lifecycle rule (Security Hub
// S3.13), and a versioned one a rule that expires noncurrent versions
// (S3.10), or every overwrite is kept and billed for ever.
func reportLifecycle(c *bucketCtx) []Finding {
	var enabled, noncurrent bool
	if l := c.State.Lifecycle; l != nil {
		for _, r := range l.Rules {
			if r.Enabled {
				enabled = true
				noncurrent = noncurrent || r.NoncurrentExpiration
			}
		}
	}
	versioned := c.State.Versioning != nil
	switch {
	case !enabled:
		return []Finding{c.finding("no enabled lifecycle rule: agree retention with the bucket's owners and write the rules (PutBucketLifecycleConfiguration replaces them all)")}
	case versioned && !noncurrent:
		return []Finding{c.finding("versioning is " + c.State.Versioning.Status + " but no enabled lifecycle rule expires noncurrent versions: every overwritten or deleted object is kept and billed")}
	}
	return nil
}

// reportACLGrants reports ACL grants to the public and to other accounts.
// Grants to the log-delivery group are the legacy way server access logs
// are delivered and are left out.
func reportACLGrants(c *bucketCtx) []Finding {
	acl := c.State.ACL
	if acl == nil {
		return nil
	}
	var public, others []string
	for _, g := range acl.Grants {
		switch {
		case g.Public():
			public = append(public, g.Describe())
		case g.Type == "Group":
			// LogDelivery: S3's own log delivery.
		case g.Type == "CanonicalUser" && g.ID == acl.Owner:
		default:
			others = append(others, g.Describe())
		}
	}
	fix := "move the access into the bucket policy, reset the ACL to private, and object_ownership (BucketOwnerEnforced) then disables ACLs; s3baseline never rewrites an ACL"
	var out []Finding
	if len(public) > 0 {
		out = append(out, c.finding("the bucket ACL grants the public: "+strings.Join(public, ", ")+"; "+fix))
	}
	if len(others) > 0 {
		out = append(out, c.finding("the bucket ACL grants other accounts: "+strings.Join(others, ", ")+"; "+fix))
	}
	return out
}

// crossAccountActions are the actions Security Hub S3.6 (the AWS Config
// rule s3-bucket-blacklisted-actions-prohibited) says no other account may
// be allowed.
func crossAccountActions() []string {
	return []string{"s3:DeleteBucketPolicy", "s3:PutBucketAcl", "s3:PutBucketPolicy", "s3:PutEncryptionConfiguration", "s3:PutObjectAcl"}
}

// reportCrossAccount reports Allow statements that grant another account
// (or everyone) one of crossAccountActions.
func reportCrossAccount(c *bucketCtx) []Finding {
	if c.policy == nil {
		return nil
	}
	var out []Finding
	for i, s := range c.policy.Statements {
		if s.Effect != "Allow" {
			continue
		}
		who := foreignPrincipals(s, c.Account.AccountID)
		if len(who) == 0 {
			continue
		}
		var acts []string
		for _, a := range crossAccountActions() {
			if slices.ContainsFunc(s.Action, func(p string) bool { return settings.ActionCovers(p, a) }) ||
				(s.NotAction != nil && !slices.ContainsFunc(s.NotAction, func(p string) bool { return settings.ActionCovers(p, a) })) {
				acts = append(acts, a)
			}
		}
		if len(acts) > 0 {
			out = append(out, c.finding(fmt.Sprintf("statement %s allows %s to %s; remove those actions from it (s3baseline never edits statements it does not own)",
				quoteLabel(s, i), strings.Join(who, ", "), strings.Join(acts, ", "))))
		}
	}
	return out
}

// foreignPrincipals are the statement's principals outside account (or
// everyone, "*", and NotPrincipal, which grants everyone but the named).
func foreignPrincipals(s settings.Statement, account string) []string {
	if s.NotPrincipal != nil {
		return []string{"everyone but the NotPrincipal"}
	}
	var out []string
	for _, p := range s.Principal["AWS"] {
		if p == "*" {
			out = append(out, "everyone (*)")
			continue
		}
		acct := p
		if !settings.IsAccountID(p) {
			acct = principalAccount(p)
		}
		if acct != "" && acct != account {
			out = append(out, p)
		}
	}
	return out
}
