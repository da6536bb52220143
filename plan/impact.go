package plan

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/s3baseline/s3baseline/settings"
)

// CloudFormationStackTag is the tag CloudFormation puts on every bucket it
// manages; a change made outside the stack makes it drift, and the next
// stack update may silently revert the change.
const CloudFormationStackTag = "aws:cloudformation:stack-name"

// The impact rules. A change that would cut off how the bucket is used
// today gets an impact line, and apply holds it back unless the operator
// passes --allow-impact. A change whose impact cannot be told (what it
// depends on was not read) is held back whatever the flags. The rules:
//
//   - block_public_access over a bucket that is public by AWS's definition
//     (S3's own GetBucketPolicyStatus verdict, and ACL grants to AllUsers or
//     AuthenticatedUsers) or hosts a website;
//   - tls_only on a website bucket (website endpoints are HTTP only);
//   - default_encryption to SSE-KMS or DSSE-KMS on a bucket read anonymously
//     or through a CloudFront origin access identity, neither of which can
//     read KMS-encrypted objects;
//   - object_ownership BucketOwnerEnforced, block_public_access's
//     IgnorePublicAcls and KMS encryption on a bucket with ACLs enabled:
//     objects may be shared through their own ACLs, which cannot be read
//     from the bucket (S3 refuses BucketOwnerEnforced outright while the
//     bucket ACL grants anyone but the owner: that change is held back);
//   - a change of the customer-managed key a bucket is encrypted with;
//   - any change to a bucket a CloudFormation stack manages.
func (c *bucketCtx) assessImpact(changes []Change) {
	stack := c.State.Tags[CloudFormationStackTag]
	for i := range changes {
		ch := &changes[i]
		if ch.Action == NoOp {
			continue
		}
		var impact []string
		var unknown string
		switch ch.Control {
		case settings.BlockPublicAccess:
			impact, unknown = c.publicAccessImpact(ch.After)
		case settings.TLSOnly:
			impact, unknown = c.websiteTLSImpact()
		case settings.DefaultEncryption:
			impact, unknown = c.encryptionImpact(ch)
		case settings.ObjectOwnership:
			var refused string
			impact, unknown, refused = c.ownershipImpact()
			if refused != "" && ch.HeldBack == "" {
				ch.HeldBack = refused
			}
		}
		ch.Impact = append(ch.Impact, impact...)
		if unknown != "" && ch.HeldBack == "" {
			ch.HeldBack = "cannot tell what it would cut off: " + unknown
		}
		if stack != "" {
			ch.Impact = append(ch.Impact, fmt.Sprintf("the bucket is managed by CloudFormation stack %q: changing it outside the stack makes the stack drift, and a stack update may revert it; prefer changing the template", stack))
		}
	}
}

// exposure is who can read the bucket today without being of its account,
// as far as the observed state tells.
type exposure struct {
	// policyKnown: the policy was read (and S3's verdict on it, when there
	// is one); policyWhy says why not.
	policyKnown bool
	policyWhy   string
	// policyPublic is S3's verdict (or, where S3 was not asked, the
	// tool's own reading); publicStmts name the statements behind it.
	policyPublic bool
	publicStmts  []string
	// crossAccounts are other accounts an Allow of a public policy names.
	crossAccounts []string
	// readsPublic: a public statement allows s3:GetObject.
	readsPublic bool
	oai         []string
	// crossReaders are the other accounts the policy lets read objects.
	crossReaders []string

	// aclKnown: the ACL was read, or ACLs are disabled (then publicACL is
	// empty); aclWhy says why not. aclsOn: ACLs are enabled (or Object
	// Ownership was not read), so objects may carry ACLs of their own.
	aclKnown  bool
	aclWhy    string
	publicACL []settings.Grant
	aclsOn    bool
}

// objectACLs is the impact line of a change that would stop object ACLs
// from granting what they grant today.
const objectACLs = "ACLs are enabled, so objects may be shared through their own ACLs (public-read uploads, other accounts), which s3baseline cannot read from the bucket: "

func (c *bucketCtx) exposure() exposure {
	var e exposure
	st := &c.State
	switch {
	case !st.Has(settings.AspectPolicy):
		e.policyWhy = "the bucket policy was not read"
		if msg, ok := st.Errors[settings.AspectPolicy]; ok {
			e.policyWhy = msg
		}
	case c.policyErr != nil:
		e.policyWhy = "the bucket policy cannot be read as a policy"
	case st.Policy == nil:
		e.policyKnown = true
	default:
		e.policyKnown = true
		for i, s := range c.policy.Statements {
			if s.Public() {
				e.publicStmts = append(e.publicStmts, statementLabel(s, i))
				if s.AllowsRead() {
					e.readsPublic = true
				}
			}
		}
		e.policyPublic = len(e.publicStmts) > 0
		if msg, failed := st.Errors[settings.AspectPolicyStatus]; failed {
			e.policyKnown, e.policyWhy = false, msg
		} else if st.Has(settings.AspectPolicyStatus) && st.PolicyStatus != nil {
			// S3's verdict wins: it is what Block Public Access acts on.
			e.policyPublic = st.PolicyStatus.IsPublic
			if e.policyPublic && len(e.publicStmts) == 0 {
				e.publicStmts = []string{"S3 reports the policy as public (GetBucketPolicyStatus)"}
				e.readsPublic = true
			}
		}
		if e.policyPublic {
			e.crossAccounts = c.crossAccounts(false)
		}
		e.crossReaders = c.crossAccounts(true)
		e.oai = c.policy.OAIReaders()
	}
	e.aclsOn = true
	switch {
	case st.Has(settings.AspectOwnership) && st.Ownership != nil && st.Ownership.Rule == settings.OwnershipBucketOwnerEnforced:
		e.aclKnown, e.aclsOn = true, false // ACLs are disabled: no grant of theirs counts
	case st.Has(settings.AspectACL):
		e.aclKnown = true
		e.publicACL = st.ACL.PublicGrants()
	default:
		e.aclWhy = "the bucket ACL was not read"
		if msg, ok := st.Errors[settings.AspectACL]; ok {
			e.aclWhy = msg
		}
	}
	return e
}

// crossAccounts are the other accounts the Allow statements of the policy
// name, sorted.
func (c *bucketCtx) crossAccounts(readsOnly bool) []string {
	accounts := map[string]bool{}
	for _, s := range c.policy.Statements {
		if s.Effect != "Allow" || (readsOnly && !s.AllowsRead()) {
			continue
		}
		for _, p := range s.Principal["AWS"] {
			if acct := principalAccount(p); acct != "" && acct != c.Account.AccountID {
				accounts[acct] = true
			}
		}
	}
	ids := make([]string, 0, len(accounts))
	for a := range accounts {
		ids = append(ids, a)
	}
	slices.Sort(ids)
	return ids
}

// publicAccessImpact says what turning Block Public Access on would cut
// off: RestrictPublicBuckets stops a public policy from granting anyone
// outside the account (its cross-account grants included), IgnorePublicAcls
// stops public ACL grants, and a website endpoint needs public access to
// answer at all. BlockPublicPolicy and BlockPublicAcls only refuse new
// public grants. unknown is set when what would be cut off cannot be told.
func (c *bucketCtx) publicAccessImpact(afterJSON json.RawMessage) (out []string, unknown string) {
	var after settings.PublicAccessBlock
	if err := json.Unmarshal(afterJSON, &after); err != nil {
		return nil, "the planned flags cannot be read"
	}
	return c.flagsImpact(after)
}

// flagsImpact is publicAccessImpact for Block Public Access flags that
// would apply to the bucket on top of what applies today (the bucket's own
// or the account's).
func (c *bucketCtx) flagsImpact(after settings.PublicAccessBlock) (out []string, unknown string) {
	before := settings.EffectivePublicAccessBlock(c.State.PublicAccessBlock, c.Account.PublicAccessBlock)
	after = settings.EffectivePublicAccessBlock(&after, &before)
	restricts := after.RestrictPublicBuckets && !before.RestrictPublicBuckets
	ignores := after.IgnorePublicAcls && !before.IgnorePublicAcls
	e := c.exposure()
	var why []string
	if restricts {
		switch {
		case !e.policyKnown:
			why = append(why, e.policyWhy)
		case e.policyPublic:
			out = append(out, "the bucket policy is public ("+strings.Join(e.publicStmts, ", ")+"): with RestrictPublicBuckets only AWS services and this account keep access through it")
			if len(e.crossAccounts) > 0 {
				out = append(out, "cross-account grants in that public policy stop working (RestrictPublicBuckets): accounts "+strings.Join(e.crossAccounts, ", "))
			}
		}
	}
	if ignores {
		switch {
		case !e.aclKnown:
			why = append(why, e.aclWhy)
		case len(e.publicACL) > 0:
			out = append(out, "the bucket ACL grants public access ("+describeGrants(e.publicACL)+"): with IgnorePublicAcls S3 ignores those grants")
		}
		if e.aclsOn {
			out = append(out, objectACLs+"IgnorePublicAcls makes S3 ignore the public ones")
		}
	}
	if w := c.State.Website; w != nil && (len(out) > 0 || restricts || ignores) {
		out = append(out, "static website hosting is on: its website endpoint will answer 403 Forbidden to the public; serve the site through CloudFront with origin access control instead")
	}
	return out, strings.Join(why, "; ")
}

// websiteTLSImpact: website endpoints speak HTTP only, so a Deny of
// aws:SecureTransport false refuses every website request, and CloudFront
// reaches a website-endpoint origin over HTTP too (AWS-doc "Website
// endpoints").
func (c *bucketCtx) websiteTLSImpact() (out []string, unknown string) {
	st := &c.State
	if !st.Has(settings.AspectWebsite) {
		if msg, ok := st.Errors[settings.AspectWebsite]; ok {
			return nil, msg
		}
		return nil, "the bucket's website configuration was not read"
	}
	if st.Website != nil {
		out = append(out, "static website hosting is on and website endpoints are HTTP only: the TLS-only Deny makes every website request (CloudFront to a website origin included) answer 403 Forbidden")
	}
	return out, ""
}

// encryptionImpact: objects under SSE-KMS or DSSE-KMS are never served to
// anonymous requests, and a CloudFront origin access identity cannot read
// them (origin access control can, with a key policy grant); and a change of
// customer-managed key leaves the objects already written under the old
// one, whose readers need the new key for new objects.
func (c *bucketCtx) encryptionImpact(ch *Change) (out []string, unknown string) {
	var before, after *settings.Encryption
	if json.Unmarshal(ch.Before, &before) != nil || json.Unmarshal(ch.After, &after) != nil || after == nil {
		return nil, "the planned rule cannot be read"
	}
	if !isKMS(before) && isKMS(after) {
		e := c.exposure()
		var why []string
		eff := settings.EffectivePublicAccessBlock(c.State.PublicAccessBlock, c.Account.PublicAccessBlock)
		switch {
		case !e.policyKnown:
			why = append(why, e.policyWhy)
		default:
			if e.policyPublic && !eff.RestrictPublicBuckets {
				out = append(out, "the bucket is read through a public policy ("+strings.Join(e.publicStmts, ", ")+"): objects written under SSE-KMS are never served to anonymous requests")
			}
			if len(e.oai) > 0 {
				out = append(out, "a CloudFront origin access identity reads the bucket ("+strings.Join(e.oai, ", ")+"): it cannot read KMS-encrypted objects; move the distribution to origin access control and grant it the key first")
			}
			// A public policy's cross-account grants are already cut
			// where RestrictPublicBuckets is on.
			if len(e.crossReaders) > 0 && !(e.policyPublic && eff.RestrictPublicBuckets) {
				out = append(out, "other accounts read objects through the bucket policy ("+strings.Join(e.crossReaders, ", ")+"): under SSE-KMS each also needs kms:Decrypt on the key, which only a customer managed key's policy can grant (never aws/s3); grant it in the key policy first")
			}
		}
		switch {
		case !e.aclKnown:
			why = append(why, e.aclWhy)
		case len(e.publicACL) > 0 && !eff.IgnorePublicAcls:
			out = append(out, "the bucket ACL grants public access ("+describeGrants(e.publicACL)+"): objects shared through ACLs are not served anonymously once KMS-encrypted")
		}
		if e.aclsOn && !eff.IgnorePublicAcls {
			out = append(out, objectACLs+"anonymous readers through public object ACLs cannot read new objects once KMS-encrypted")
		}
		if c.State.Website != nil {
			out = append(out, "static website hosting is on: website endpoints serve anonymous requests, which cannot read KMS-encrypted objects")
		}
		if len(why) > 0 {
			return out, strings.Join(why, "; ")
		}
	}
	if replaced := replacedKey(before, after); replaced != "" {
		out = append(out, "replaces the customer-managed key "+replaced+" with "+after.KMSKeyID+": objects already written stay under the old key, and everyone who reads new objects needs kms:Decrypt on the new one; keep the old key enabled")
	}
	return out, ""
}

func isKMS(e *settings.Encryption) bool {
	return e != nil && (e.Algorithm == settings.SSEKMS || e.Algorithm == settings.SSEKMSDSS)
}

// replacedKey is the customer-managed key a rule change replaces, "" when it
// replaces none (no key, the AWS-managed aws/s3, or the same key).
func replacedKey(before, after *settings.Encryption) string {
	if !isKMS(before) || !isKMS(after) || before.KMSKeyID == "" || before.KeyManager == "AWS" {
		return ""
	}
	if strings.HasSuffix(before.KMSKeyID, "alias/aws/s3") {
		return ""
	}
	if before.KMSKeyID == after.KMSKeyID || (before.KeyARN != "" && (before.KeyARN == after.KeyARN || before.KeyARN == after.KMSKeyID)) {
		return ""
	}
	return before.KMSKeyID
}

// ownershipImpact: BucketOwnerEnforced disables every ACL, so the access
// object ACLs give stops (public-read uploads, other accounts, CloudFront
// standard logging's writes). S3 refuses it outright while the bucket ACL
// grants anyone but the owner ("your bucket ACL must give full control
// only to the bucket owner", 400 InvalidBucketAclWithObjectOwnership,
// AWS-doc "Troubleshooting", Object Ownership): that is a refusal, held
// back whatever the flags, and s3baseline never rewrites an ACL.
func (c *bucketCtx) ownershipImpact() (out []string, unknown, refused string) {
	st := &c.State
	if !st.Has(settings.AspectACL) {
		if msg, ok := st.Errors[settings.AspectACL]; ok {
			return nil, msg, ""
		}
		return nil, "the bucket ACL was not read", ""
	}
	if others := st.ACL.OthersGrants(); len(others) > 0 {
		refused = "the bucket ACL grants access to others (" + describeGrants(others) + "), and S3 refuses BucketOwnerEnforced while it does (InvalidBucketAclWithObjectOwnership): move what those grants allow (other accounts, the log-delivery group, CloudFront standard logging) to the bucket policy and reset the ACL to private first"
	}
	out = append(out, objectACLs+"BucketOwnerEnforced disables them")
	return out, "", refused
}

func describeGrants(gs []settings.Grant) string {
	s := make([]string, len(gs))
	for i, g := range gs {
		s[i] = g.Describe()
	}
	return strings.Join(s, ", ")
}

// principalAccount is the account id of an IAM principal ARN
// (arn:PARTITION:iam::ACCOUNT:...), or "" for anything else.
func principalAccount(p string) string {
	parts := strings.SplitN(p, ":", 6)
	if len(parts) == 6 && parts[2] == "iam" && settings.IsAccountID(parts[4]) {
		return parts[4]
	}
	return ""
}
