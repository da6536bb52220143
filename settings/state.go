package settings

import (
	"slices"
	"strings"
)

// Aspect is one observable piece of a bucket's configuration. A control is
// judged from one or more aspects (tls_only and admin_policy_lock both read
// the policy), and observation fetches each aspect at most once.
type Aspect string

// The observable aspects of a bucket, one API read each.
const (
	AspectPublicAccessBlock Aspect = "public_access_block" // GetPublicAccessBlock
	AspectOwnership         Aspect = "ownership"           // GetBucketOwnershipControls
	AspectEncryption        Aspect = "encryption"          // GetBucketEncryption
	AspectLogging           Aspect = "logging"             // GetBucketLogging
	AspectPolicy            Aspect = "policy"              // GetBucketPolicy
	AspectNotifications     Aspect = "notifications"       // GetBucketNotificationConfiguration
	AspectTags              Aspect = "tags"                // GetBucketTagging
	AspectVersioning        Aspect = "versioning"          // GetBucketVersioning
	AspectObjectLock        Aspect = "object_lock"         // GetObjectLockConfiguration
	AspectLifecycle         Aspect = "lifecycle"           // GetBucketLifecycleConfiguration
	// The aspects below are read to judge what a change would cut off
	// (the impact rules); acl_grants is judged from the ACL too.
	AspectWebsite      Aspect = "website"       // GetBucketWebsite
	AspectACL          Aspect = "acl"           // GetBucketAcl
	AspectPolicyStatus Aspect = "policy_status" // GetBucketPolicyStatus
)

// AspectsFor returns the aspects a control is judged from.
func AspectsFor(c ControlID) []Aspect {
	switch c {
	case BlockPublicAccess:
		return []Aspect{AspectPublicAccessBlock}
	case ObjectOwnership:
		return []Aspect{AspectOwnership}
	case DefaultEncryption, BlockSSEC:
		return []Aspect{AspectEncryption}
	case AccessLogging:
		return []Aspect{AspectLogging}
	case TLSOnly, AdminPolicyLock, CrossAccountPolicy:
		return []Aspect{AspectPolicy}
	case EventNotifications:
		return []Aspect{AspectNotifications}
	case Versioning, MFADelete:
		return []Aspect{AspectVersioning}
	case ObjectLock:
		return []Aspect{AspectObjectLock}
	case Lifecycle:
		// A versioned bucket's lifecycle must also expire noncurrent
		// versions (Security Hub S3.10).
		return []Aspect{AspectLifecycle, AspectVersioning}
	case ACLGrants:
		return []Aspect{AspectACL}
	}
	return nil
}

// BucketRef is a bucket as listed: its name and home region.
type BucketRef struct {
	Name   string `json:"name"`
	Region string `json:"region"`
}

// BucketState is what was observed of one bucket. A nil pointer field is
// "absent" (AWS answered its "not configured" error, or nothing is set) only
// when the aspect is in Observed; otherwise it was not asked for.
type BucketState struct {
	Name   string `json:"name"`
	Region string `json:"region"`

	// Observed lists the aspects that were read successfully.
	Observed []Aspect `json:"observed"`
	// Errors maps an aspect that could not be read to the error, already
	// wrapped with what was being done ("get bucket encryption: AccessDenied: ...").
	Errors map[Aspect]string `json:"errors,omitempty"`
	// Unanswered is set when a read ran out its call timeout: the bucket's
	// region did not answer, and the remaining aspects were not tried.
	Unanswered bool `json:"unanswered,omitempty"`

	Tags              map[string]string  `json:"tags,omitempty"`
	PublicAccessBlock *PublicAccessBlock `json:"public_access_block"`
	Ownership         *Ownership         `json:"ownership"`
	Encryption        *Encryption        `json:"encryption"`
	Logging           *Logging           `json:"logging"`
	Policy            *Policy            `json:"policy"`
	Notifications     *Notifications     `json:"notifications"`
	Website           *Website           `json:"website,omitempty"`
	ACL               *ACL               `json:"acl,omitempty"`
	// PolicyStatus is S3's own verdict on the bucket policy
	// (GetBucketPolicyStatus); nil when there is no policy.
	PolicyStatus *PolicyStatus `json:"policy_status,omitempty"`
	// Versioning is nil when versioning was never enabled (no Status).
	Versioning *VersioningConfig `json:"versioning,omitempty"`
	// ObjectLock is nil when the bucket has no Object Lock configuration.
	ObjectLock *ObjectLockConfig `json:"object_lock,omitempty"`
	// Lifecycle is nil when the bucket has no lifecycle configuration.
	Lifecycle *LifecycleConfig `json:"lifecycle,omitempty"`
}

// VersioningConfig is GetBucketVersioning. S3 can suspend versioning but never
// return a bucket to "never enabled", so a nil *VersioningConfig is only ever
// observed, never written.
type VersioningConfig struct {
	Status string `json:"status"` // Enabled | Suspended
	// MFADelete is true when MfaDelete is Enabled: then changing the
	// versioning state needs the root user's MFA device.
	MFADelete bool `json:"mfa_delete,omitempty"`
}

// Versioning states.
const (
	VersioningEnabled   = "Enabled"
	VersioningSuspended = "Suspended"
)

// ObjectLockConfig is GetObjectLockConfiguration.
type ObjectLockConfig struct {
	Enabled bool `json:"enabled"`
	// Mode, Days and Years are the default retention, when there is one.
	Mode  string `json:"mode,omitempty"` // GOVERNANCE | COMPLIANCE
	Days  int32  `json:"days,omitempty"`
	Years int32  `json:"years,omitempty"`
}

// LifecycleConfig is what the lifecycle controls read of a lifecycle
// configuration: each rule's id, status and whether it expires current
// or noncurrent versions or aborts incomplete uploads.
type LifecycleConfig struct {
	Rules []LifecycleRule `json:"rules"`
}

// LifecycleRule is one lifecycle rule, summarised.
type LifecycleRule struct {
	ID                   string `json:"id,omitempty"`
	Enabled              bool   `json:"enabled"`
	Expiration           bool   `json:"expiration,omitempty"`
	NoncurrentExpiration bool   `json:"noncurrent_expiration,omitempty"`
	Transition           bool   `json:"transition,omitempty"`
	AbortIncomplete      bool   `json:"abort_incomplete,omitempty"`
}

// PolicyStatus is GetBucketPolicyStatus: whether S3 itself counts the
// bucket policy as public ("The meaning of public" in the S3 user guide).
type PolicyStatus struct {
	IsPublic bool `json:"is_public"`
}

// ACL is a bucket's access control list as GetBucketAcl returns it.
type ACL struct {
	// Owner is the bucket owner's canonical user id.
	Owner  string  `json:"owner"`
	Grants []Grant `json:"grants"`
}

// Grant is one ACL grant. Exactly one of ID (a canonical user), URI (a
// predefined group) or Email identifies the grantee, as Type says.
type Grant struct {
	Type       string `json:"type"` // CanonicalUser | Group | AmazonCustomerByEmail
	ID         string `json:"id,omitempty"`
	URI        string `json:"uri,omitempty"`
	Email      string `json:"email,omitempty"`
	Permission string `json:"permission"` // FULL_CONTROL | READ | WRITE | READ_ACP | WRITE_ACP
}

// The predefined ACL groups.
const (
	GroupAllUsers           = "http://acs.amazonaws.com/groups/global/AllUsers"
	GroupAuthenticatedUsers = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
	GroupLogDelivery        = "http://acs.amazonaws.com/groups/s3/LogDelivery"
)

// Public reports whether the grant is to everyone: AllUsers, or
// AuthenticatedUsers (any AWS account), which S3 counts as public too.
func (g Grant) Public() bool {
	return g.Type == "Group" && (g.URI == GroupAllUsers || g.URI == GroupAuthenticatedUsers)
}

// Describe names a grant for messages: "AllUsers READ".
func (g Grant) Describe() string {
	who := g.ID
	switch {
	case g.URI != "":
		who = g.URI[strings.LastIndexByte(g.URI, '/')+1:]
	case g.Email != "":
		who = g.Email
	case len(who) > 12:
		who = "canonical user " + who[:12] + "..."
	}
	return who + " " + g.Permission
}

// PublicGrants are the ACL's grants to everyone; a nil ACL has none.
func (a *ACL) PublicGrants() []Grant {
	if a == nil {
		return nil
	}
	var out []Grant
	for _, g := range a.Grants {
		if g.Public() {
			out = append(out, g)
		}
	}
	return out
}

// OthersGrants are the grants to anyone but the bucket owner: other
// accounts, the groups (LogDelivery included) and e-mail grantees. These
// stop working when ACLs are disabled (BucketOwnerEnforced).
func (a *ACL) OthersGrants() []Grant {
	if a == nil {
		return nil
	}
	var out []Grant
	for _, g := range a.Grants {
		if g.Type == "CanonicalUser" && g.ID == a.Owner {
			continue
		}
		out = append(out, g)
	}
	return out
}

// Website is a bucket's static website hosting configuration; a nil
// *Website is no website hosting.
type Website struct {
	IndexDocument string `json:"index_document,omitempty"`
	// RedirectAllRequestsTo is the host every request is redirected to.
	RedirectAllRequestsTo string `json:"redirect_all_requests_to,omitempty"`
}

// CopyAspect sets aspect a of b to from's.
func (b *BucketState) CopyAspect(from *BucketState, a Aspect) {
	switch a {
	case AspectTags:
		b.Tags = from.Tags
	case AspectPublicAccessBlock:
		b.PublicAccessBlock = from.PublicAccessBlock
	case AspectOwnership:
		b.Ownership = from.Ownership
	case AspectEncryption:
		b.Encryption = from.Encryption
	case AspectLogging:
		b.Logging = from.Logging
	case AspectPolicy:
		b.Policy = from.Policy
	case AspectNotifications:
		b.Notifications = from.Notifications
	case AspectWebsite:
		b.Website = from.Website
	case AspectACL:
		b.ACL = from.ACL
	case AspectPolicyStatus:
		b.PolicyStatus = from.PolicyStatus
	case AspectVersioning:
		b.Versioning = from.Versioning
	case AspectObjectLock:
		b.ObjectLock = from.ObjectLock
	case AspectLifecycle:
		b.Lifecycle = from.Lifecycle
	}
}

// Has reports whether aspect a was observed successfully.
func (b *BucketState) Has(a Aspect) bool {
	for _, o := range b.Observed {
		if o == a {
			return true
		}
	}
	return false
}

// PublicAccessBlock is the four Block Public Access flags.
type PublicAccessBlock struct {
	BlockPublicAcls       bool `json:"block_public_acls"`
	IgnorePublicAcls      bool `json:"ignore_public_acls"`
	BlockPublicPolicy     bool `json:"block_public_policy"`
	RestrictPublicBuckets bool `json:"restrict_public_buckets"`
}

// AllOn reports whether all four flags are on; a nil block has none on.
func (p *PublicAccessBlock) AllOn() bool {
	return p != nil && p.BlockPublicAcls && p.IgnorePublicAcls && p.BlockPublicPolicy && p.RestrictPublicBuckets
}

// EffectivePublicAccessBlock combines a bucket's and the account's flags the
// way S3 does: per flag, the most restrictive of the two. Either may be nil.
func EffectivePublicAccessBlock(bucket, account *PublicAccessBlock) PublicAccessBlock {
	var e PublicAccessBlock
	for _, p := range []*PublicAccessBlock{bucket, account} {
		if p == nil {
			continue
		}
		e.BlockPublicAcls = e.BlockPublicAcls || p.BlockPublicAcls
		e.IgnorePublicAcls = e.IgnorePublicAcls || p.IgnorePublicAcls
		e.BlockPublicPolicy = e.BlockPublicPolicy || p.BlockPublicPolicy
		e.RestrictPublicBuckets = e.RestrictPublicBuckets || p.RestrictPublicBuckets
	}
	return e
}

// Ownership is the Object Ownership rule.
type Ownership struct {
	Rule string `json:"rule"` // BucketOwnerEnforced | BucketOwnerPreferred | ObjectWriter
}

// Object Ownership rules.
const (
	OwnershipBucketOwnerEnforced  = "BucketOwnerEnforced"
	OwnershipBucketOwnerPreferred = "BucketOwnerPreferred"
	OwnershipObjectWriter         = "ObjectWriter"
)

// Encryption is a bucket's default encryption rule.
type Encryption struct {
	Algorithm string `json:"algorithm"` // AES256 | aws:kms | aws:kms:dsse
	// KMSKeyID is the key as S3 stores it: verbatim, unresolved (an id, an
	// ARN, an alias or an alias ARN). Empty with aws:kms means aws/s3.
	KMSKeyID string `json:"kms_key_id,omitempty"`
	// KeyARN is KMSKeyID resolved with DescribeKey in the bucket's region;
	// empty when there is no key or it could not be resolved.
	KeyARN string `json:"key_arn,omitempty"`
	// KeyManager is the resolved key's manager, AWS or CUSTOMER; empty
	// when not resolved.
	KeyManager       string `json:"key_manager,omitempty"`
	BucketKeyEnabled bool   `json:"bucket_key_enabled"`
	// BlockedEncryptionTypes is the rule's BlockedEncryptionTypes element
	// exactly as S3 returned it ("SSE-C", or "NONE"); nil when the element
	// is absent. PutBucketEncryption replaces the whole rule, so every
	// write must carry it or it silently unblocks SSE-C.
	BlockedEncryptionTypes []string `json:"blocked_encryption_types,omitempty"`
}

// The encryption types a rule can block.
const (
	EncryptionTypeSSEC = "SSE-C"
	EncryptionTypeNone = "NONE"
)

// SSECBlocked reports whether the rule blocks uploads with customer-
// provided keys (SSE-C); a nil rule blocks nothing.
func (e *Encryption) SSECBlocked() bool {
	return e != nil && slices.Contains(e.BlockedEncryptionTypes, EncryptionTypeSSEC)
}

// SameRule reports whether two rules are the same rule as S3 stores it:
// algorithm, key id text, Bucket Key and blocked encryption types (as a
// set). KeyARN is a resolution, not part of the rule. Nil is no rule.
func SameRule(a, b *Encryption) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Algorithm == b.Algorithm && a.KMSKeyID == b.KMSKeyID && a.BucketKeyEnabled == b.BucketKeyEnabled &&
		slices.Equal(sortedSet(slices.Clone(a.BlockedEncryptionTypes)), sortedSet(slices.Clone(b.BlockedEncryptionTypes)))
}

// Server-side encryption algorithms.
const (
	SSES3     = "AES256"
	SSEKMS    = "aws:kms"
	SSEKMSDSS = "aws:kms:dsse"
)

// Logging is server access logging. A nil *Logging is logging off.
type Logging struct {
	TargetBucket string `json:"target_bucket"`
	TargetPrefix string `json:"target_prefix"`
	// KeyFormat is "simple" (SimplePrefix), "partitioned" (PartitionedPrefix)
	// or "" when S3 returned no TargetObjectKeyFormat, kept apart from
	// "simple" so a rollback puts back exactly what was there; S3 treats
	// both alike (Normalized).
	KeyFormat string `json:"key_format"`
	// PartitionDateSource is EventTime or DeliveryTime for the partitioned
	// format, "" when S3 returned none (AWS's default, EventTime).
	PartitionDateSource string `json:"partition_date_source,omitempty"`
}

// SameLogging reports whether two logging configurations log the same way
// as S3 applies them: no key format is the simple one, a partitioned
// format without a date source uses EventTime. Nil is logging off.
func SameLogging(a, b *Logging) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Normalized() == b.Normalized()
}

// Normalized is l with S3's defaults applied.
func (l Logging) Normalized() Logging {
	if l.KeyFormat == "" {
		l.KeyFormat = KeyFormatSimple
	}
	switch l.KeyFormat {
	case KeyFormatPartitioned:
		if l.PartitionDateSource == "" {
			l.PartitionDateSource = EventTime
		}
	case KeyFormatSimple:
		l.PartitionDateSource = ""
	}
	return l
}

// Log key formats and partition date sources.
const (
	KeyFormatSimple      = "simple"
	KeyFormatPartitioned = "partitioned"
	EventTime            = "EventTime"
	DeliveryTime         = "DeliveryTime"
)

// Notifications is a bucket's whole notification configuration. S3 replaces
// it whole on every put, so it is kept whole here: every entry and the
// EventBridge switch, so a merge can write back everything that is not ours.
type Notifications struct {
	Entries     []NotificationEntry `json:"entries"`
	EventBridge bool                `json:"eventbridge"`
}

// Notification destination kinds.
const (
	DestTopic  = "topic"
	DestQueue  = "queue"
	DestLambda = "lambda"
)

// NotificationEntry is one topic, queue or Lambda configuration.
type NotificationEntry struct {
	ID     string       `json:"id"`
	Kind   string       `json:"kind"` // topic | queue | lambda
	ARN    string       `json:"arn"`
	Events []string     `json:"events"`
	Filter []FilterRule `json:"filter,omitempty"`
}

// FilterRule is an S3 key filter rule (prefix or suffix).
type FilterRule struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// KeyInfo is a KMS key as DescribeKey reports it.
type KeyInfo struct {
	// Ref is what was asked for (alias, id or ARN).
	Ref     string `json:"ref"`
	Exists  bool   `json:"exists"`
	ARN     string `json:"arn,omitempty"`
	KeyID   string `json:"key_id,omitempty"`
	Enabled bool   `json:"enabled"`
	// Symmetric is true for SYMMETRIC_DEFAULT keys, the only kind S3 accepts.
	Symmetric bool `json:"symmetric"`
	// Manager is AWS or CUSTOMER.
	Manager string `json:"manager,omitempty"`
}

// AccountState is what was observed of the account itself.
type AccountState struct {
	AccountID string `json:"account"`
	// Caller is the calling principal as GetCallerIdentity returned it.
	Caller string `json:"caller"`
	// PublicAccessBlock is the account-level Block Public Access; nil when
	// not configured.
	PublicAccessBlock *PublicAccessBlock `json:"public_access_block"`
	// PublicAccessBlockError is set when the account flags could not be read.
	PublicAccessBlockError string `json:"public_access_block_error,omitempty"`
}

// Policy is a bucket policy exactly as GetBucketPolicy returned it. It is
// kept as text so that a rollback can put back the very same document and a
// merge can keep every foreign statement byte for byte; ParsePolicy gives the
// normalised form used for comparisons.
type Policy struct {
	Raw string `json:"raw"`
}
