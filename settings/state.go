package settings

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
	// AspectWebsite is read only to warn before Block Public Access would
	// cut off a public website; no control is judged from it.
	AspectWebsite Aspect = "website" // GetBucketWebsite
)

// AspectsFor returns the aspects a control is judged from.
func AspectsFor(c ControlID) []Aspect {
	switch c {
	case BlockPublicAccess:
		return []Aspect{AspectPublicAccessBlock}
	case ObjectOwnership:
		return []Aspect{AspectOwnership}
	case DefaultEncryption:
		return []Aspect{AspectEncryption}
	case AccessLogging:
		return []Aspect{AspectLogging}
	case TLSOnly, AdminPolicyLock:
		return []Aspect{AspectPolicy}
	case EventNotifications:
		return []Aspect{AspectNotifications}
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
}

// Website is a bucket's static website hosting configuration; a nil
// *Website is no website hosting.
type Website struct {
	IndexDocument string `json:"index_document,omitempty"`
	// RedirectAllRequestsTo is the host every request is redirected to.
	RedirectAllRequestsTo string `json:"redirect_all_requests_to,omitempty"`
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
	KeyARN           string `json:"key_arn,omitempty"`
	BucketKeyEnabled bool   `json:"bucket_key_enabled"`
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
	// KeyFormat is "simple" or "partitioned"; an absent
	// TargetObjectKeyFormat is normalised to "simple".
	KeyFormat string `json:"key_format"`
	// PartitionDateSource is EventTime or DeliveryTime for the partitioned
	// format (an empty source is normalised to EventTime, AWS's default).
	PartitionDateSource string `json:"partition_date_source,omitempty"`
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
