// Package settings is the vocabulary every other package shares: the control
// ids, the identifiers the tool owns, and what an observed bucket or account
// setting is, as plain Go data. The AWS SDK's types never leave providers/aws;
// these are what cross package boundaries, and what the plan document and the
// journal serialise.
package settings

// ControlID names a control. Ids are stable: they appear in the plan
// document, the config file and the journal.
type ControlID string

// Bucket controls.
const (
	BlockPublicAccess  ControlID = "block_public_access"
	AccessLogging      ControlID = "access_logging"
	DefaultEncryption  ControlID = "default_encryption"
	BlockSSEC          ControlID = "block_sse_c"
	TLSOnly            ControlID = "tls_only"
	ObjectOwnership    ControlID = "object_ownership"
	EventNotifications ControlID = "event_notifications"
	AdminPolicyLock    ControlID = "admin_policy_lock"
	Versioning         ControlID = "versioning"
	// Report-only bucket controls: nothing the tool could write is safe.
	MFADelete          ControlID = "mfa_delete"
	ObjectLock         ControlID = "object_lock"
	Lifecycle          ControlID = "lifecycle"
	ACLGrants          ControlID = "acl_grants"
	CrossAccountPolicy ControlID = "cross_account_policy"
)

// Account controls.
const (
	AccountBlockPublicAccess ControlID = "account_block_public_access"
	CloudTrailDataEvents     ControlID = "cloudtrail_data_events"
	IAMMFA                   ControlID = "iam_mfa"
	Shield                   ControlID = "shield"
	// AccessPointBPA and MRAPBPA are report-only: an access point's Block
	// Public Access is fixed when it is created.
	AccessPointBPA ControlID = "access_point_bpa"
	MRAPBPA        ControlID = "mrap_bpa"
)

// BucketControls lists the bucket controls in the order plans show them:
// prerequisites of later controls first (ownership before logging, since a
// log target with ACLs disabled needs a policy grant; policy statements last).
var BucketControls = []ControlID{
	BlockPublicAccess,
	ObjectOwnership,
	DefaultEncryption,
	BlockSSEC,
	AccessLogging,
	Versioning,
	TLSOnly,
	AdminPolicyLock,
	EventNotifications,
	MFADelete,
	ObjectLock,
	Lifecycle,
	ACLGrants,
	CrossAccountPolicy,
}

// AccountControls lists the account controls in plan order.
var AccountControls = []ControlID{
	AccountBlockPublicAccess,
	CloudTrailDataEvents,
	AccessPointBPA,
	MRAPBPA,
	IAMMFA,
	Shield,
}

// IsBucketControl reports whether id is one of the bucket controls.
func IsBucketControl(id ControlID) bool {
	for _, c := range BucketControls {
		if c == id {
			return true
		}
	}
	return false
}

// IsControl reports whether id is any known control.
func IsControl(id ControlID) bool {
	if IsBucketControl(id) {
		return true
	}
	for _, c := range AccountControls {
		if c == id {
			return true
		}
	}
	return false
}

// Identifiers the tool owns. It only ever adds, replaces or removes these,
// never anyone else's statements or notification entries.
const (
	SidDenyInsecureTransport  = "S3BaselineDenyInsecureTransport"
	SidDenyAdminPolicyChanges = "S3BaselineDenyAdminPolicyChanges"
	SidServerAccessLogs       = "S3BaselineServerAccessLogs"
	SidAllowS3Publish         = "S3BaselineAllowS3Publish"
	NotificationID            = "s3baseline"
)

// OwnedSids are every policy statement Sid the tool owns, in a fixed order.
func OwnedSids() []string {
	return []string{SidDenyInsecureTransport, SidDenyAdminPolicyChanges, SidServerAccessLogs, SidAllowS3Publish,
		SidCloudTrailAclCheck, SidCloudTrailWrite, SidCloudTrailKey}
}

// OwnedSid reports whether a policy statement Sid belongs to the tool.
func OwnedSid(sid string) bool {
	switch sid {
	case SidDenyInsecureTransport, SidDenyAdminPolicyChanges, SidServerAccessLogs, SidAllowS3Publish,
		SidCloudTrailAclCheck, SidCloudTrailWrite, SidCloudTrailKey:
		return true
	}
	return false
}
