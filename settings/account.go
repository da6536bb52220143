package settings

import "time"

// The account-level pieces of the baseline, as plain data. providers/aws
// reads them (CloudTrail, IAM, Shield, Organizations) and writes the first
// two; plan judges them and apply journals them like bucket aspects.

// Sids the tool owns outside bucket policies it judges: on the CloudTrail
// log bucket and on the trail's KMS key.
const (
	SidCloudTrailAclCheck = "S3BaselineCloudTrailAclCheck"
	SidCloudTrailWrite    = "S3BaselineCloudTrailWrite"
	SidCloudTrailKey      = "S3BaselineCloudTrailKey"
)

// Trail is one CloudTrail trail with everything the cloudtrail_data_events
// control is judged from. Only trails whose home region is where they were
// read are full trails; shadow copies of multi-region trails are not listed
// twice.
type Trail struct {
	Name       string `json:"name"`
	ARN        string `json:"arn,omitempty"`
	HomeRegion string `json:"home_region"`
	// S3BucketName and S3KeyPrefix are where log files go.
	S3BucketName string `json:"s3_bucket_name"`
	S3KeyPrefix  string `json:"s3_key_prefix,omitempty"`
	// KMSKeyID is the key ARN the log files are encrypted with, "" for
	// SSE-S3.
	KMSKeyID            string `json:"kms_key_id,omitempty"`
	MultiRegion         bool   `json:"multi_region"`
	LogFileValidation   bool   `json:"log_file_validation"`
	IncludeGlobalEvents bool   `json:"include_global_service_events"`
	Organization        bool   `json:"organization,omitempty"`
	IsLogging           bool   `json:"is_logging"`
	LatestDeliveryError string `json:"latest_delivery_error,omitempty"`
	// Exactly one of EventSelectors and AdvancedEventSelectors is set when
	// the trail has selectors: CloudTrail keeps either form, never both.
	EventSelectors         []EventSelector         `json:"event_selectors,omitempty"`
	AdvancedEventSelectors []AdvancedEventSelector `json:"advanced_event_selectors,omitempty"`
	// Insights are the enabled insight types (ApiCallRateInsight,
	// ApiErrorRateInsight); empty when Insights are off
	// (GetInsightSelectors' InsightNotEnabledException).
	Insights []string `json:"insights,omitempty"`
}

// EventSelector is a basic CloudTrail event selector.
type EventSelector struct {
	ReadWriteType           string         `json:"read_write_type,omitempty"` // ReadOnly|WriteOnly|All
	IncludeManagementEvents bool           `json:"include_management_events"`
	DataResources           []DataResource `json:"data_resources,omitempty"`
	// ExcludeManagementEventSources is kept as read so a rewrite of the
	// selectors does not drop it.
	ExcludeManagementEventSources []string `json:"exclude_management_event_sources,omitempty"`
}

// DataResource is a basic selector's data resource: Type is
// AWS::S3::Object, AWS::Lambda::Function, ...; Values are ARN prefixes
// ("arn:aws:s3:::bucket/", or "arn:aws:s3" for every bucket).
type DataResource struct {
	Type   string   `json:"type"`
	Values []string `json:"values,omitempty"`
}

// AdvancedEventSelector is an advanced CloudTrail event selector.
type AdvancedEventSelector struct {
	Name           string          `json:"name,omitempty"`
	FieldSelectors []FieldSelector `json:"field_selectors"`
}

// FieldSelector is one condition of an advanced selector: Field is
// eventCategory, resources.type, resources.ARN, readOnly, eventSource, ...
type FieldSelector struct {
	Field         string   `json:"field"`
	Equals        []string `json:"equals,omitempty"`
	StartsWith    []string `json:"starts_with,omitempty"`
	EndsWith      []string `json:"ends_with,omitempty"`
	NotEquals     []string `json:"not_equals,omitempty"`
	NotStartsWith []string `json:"not_starts_with,omitempty"`
	NotEndsWith   []string `json:"not_ends_with,omitempty"`
}

// Insight types.
const (
	InsightAPICallRate  = "ApiCallRateInsight"
	InsightAPIErrorRate = "ApiErrorRateInsight"
)

// IAMUser is an IAM user with what iam_mfa is judged from.
type IAMUser struct {
	Name string `json:"name"`
	ARN  string `json:"arn"`
	// ConsolePassword is true when the user has a login profile.
	ConsolePassword bool `json:"console_password"`
	// MFADevices counts the user's MFA devices.
	MFADevices int `json:"mfa_devices"`
}

// IAMReport is the account's IAM state for iam_mfa.
type IAMReport struct {
	Users []IAMUser `json:"users"`
	// RootMFA is GetAccountSummary's AccountMFAEnabled.
	RootMFA bool `json:"root_mfa"`
}

// ShieldState is the account's Shield Advanced subscription.
type ShieldState struct {
	// Subscribed is GetSubscriptionState == ACTIVE.
	Subscribed bool `json:"subscribed"`
	// EndTime and AutoRenew come from DescribeSubscription when subscribed.
	EndTime   *time.Time `json:"end_time,omitempty"`
	AutoRenew string     `json:"auto_renew,omitempty"`
}

// OrgAccount is an account of the organization as ListAccounts reports it.
type OrgAccount struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Status string `json:"status"` // ACTIVE, SUSPENDED, PENDING_CLOSURE
}

// AccessPoint is an S3 access point with its own Block Public Access,
// which S3 fixes when the access point is created.
type AccessPoint struct {
	Name          string `json:"name"`
	Bucket        string `json:"bucket"`
	Region        string `json:"region"`
	ARN           string `json:"arn"`
	NetworkOrigin string `json:"network_origin,omitempty"` // Internet | VPC
	// PublicAccessBlock is never nil: an access point always has one.
	PublicAccessBlock *PublicAccessBlock `json:"public_access_block"`
}

// MultiRegionAccessPoint is a Multi-Region Access Point with its Block
// Public Access (fixed at creation) and the buckets it routes to.
type MultiRegionAccessPoint struct {
	Name              string             `json:"name"`
	Alias             string             `json:"alias,omitempty"`
	PublicAccessBlock *PublicAccessBlock `json:"public_access_block"`
	Buckets           []string           `json:"buckets"`
}

// OrgS3Policy is what AWS Organizations says of the account's S3 policy.
type OrgS3Policy struct {
	// Managed is true when an S3 policy sets the account-level Block
	// Public Access: the account cannot change it.
	Managed bool `json:"managed"`
	// BlockPublicAccess is the effective setting, "all" or "none".
	BlockPublicAccess string `json:"block_public_access,omitempty"`
	// PolicyIDs are the S3 policies attached to the account itself, when
	// the caller may list them; an inherited policy is attached to an OU
	// or the root.
	PolicyIDs []string `json:"policy_ids,omitempty"`
}

// OrgGuardrails are the organization-wide policies attached to the root
// that can enforce what account_block_public_access and tls_only do per
// account: S3 policies and resource control policies (RCPs).
type OrgGuardrails struct {
	RootID, RootARN                string
	S3PoliciesEnabled, RCPsEnabled bool
	S3Policies, RCPs               []OrgPolicy
}

// OrgPolicy is one Organizations policy with its content.
type OrgPolicy struct {
	ID, Name   string
	AWSManaged bool
	Content    string
}
