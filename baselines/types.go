package baselines

import (
	"time"

	"github.com/s3baseline/s3baseline/settings"
)

// Encryption requirement levels of a baseline's default_encryption control.
const (
	// EncryptSSES3 is satisfied by SSE-S3 or anything stronger (low).
	EncryptSSES3 = "sse-s3"
	// EncryptSSEKMS is satisfied by SSE-KMS or DSSE-KMS with any key (medium).
	EncryptSSEKMS = "sse-kms"
	// EncryptCustomerKey needs SSE-KMS with the configured customer-managed
	// key and the S3 Bucket Key on, or DSSE-KMS with that key (high).
	EncryptCustomerKey = "customer-key"
)

// Control modes.
const (
	ModeEnforce = "enforce" // planned and applied
	ModeReport  = "report"  // findings only, never a write
)

// Baseline is a named set of controls.
type Baseline struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	// Source is "builtin" or the path of the custom baseline file.
	Source string `json:"source"`
	// Encryption is the default_encryption level (EncryptSSES3, ...); it
	// matters only when default_encryption is among Controls.
	Encryption string        `json:"encryption"`
	Controls   []ControlSpec `json:"controls"`
}

// ControlSpec is one control of a baseline.
type ControlSpec struct {
	ID   settings.ControlID `json:"id"`
	Mode string             `json:"mode"` // ModeEnforce | ModeReport
	// NIST lists the NIST SP 800-53 controls the setting implements.
	NIST []string `json:"nist"`
	// Compliant says, for people, when a resource complies.
	Compliant string `json:"compliant"`
}

// Config is the s3baseline.yaml file (or the defaults when there is none).
type Config struct {
	// Path is the file it came from; empty for the defaults.
	Path string
	// Baseline is the default baseline of every bucket in scope.
	Baseline *Baseline
	// Regions, when not empty, limits the buckets to these home regions.
	Regions  []string
	Settings Settings
	// Rules are tried in order; the first match wins.
	Rules []Rule
}

// Settings are the values the controls are enforced with.
type Settings struct {
	Logging       LoggingSettings
	Encryption    EncryptionSettings
	Notifications NotificationSettings
	AdminLock     AdminLockSettings
	CloudTrail    CloudTrailSettings
}

// LoggingSettings configure access_logging.
type LoggingSettings struct {
	// TargetBucket is a template with {account} and {region}.
	TargetBucket string
	TargetPrefix string
	CreateTarget bool
}

// EncryptionSettings configure default_encryption.
type EncryptionSettings struct {
	// KMSKey is an alias, key id or key ARN, resolved per region.
	KMSKey    string
	CreateKey bool
}

// NotificationSettings configure event_notifications.
type NotificationSettings struct {
	// Topic is a topic name (per region) or a topic ARN.
	Topic       string
	Events      []string
	CreateTopic bool
}

// AdminLockSettings configure admin_policy_lock.
type AdminLockSettings struct {
	Principals []string
}

// CloudTrailSettings configure cloudtrail_data_events.
type CloudTrailSettings struct {
	TrailName string
	// Bucket is a template with {account}.
	Bucket string
}

// Rule is one entry of the config's buckets list.
type Rule struct {
	// Match is a glob (path.Match syntax) on the bucket name; empty when the
	// rule matches by tags only.
	Match string
	// MatchTags must all be present with these values.
	MatchTags map[string]string
	// Baseline, when set, replaces the default baseline for matching buckets.
	Baseline *Baseline
	Exempt   []settings.ControlID
	Reason   string
	// Until is the last day the exemption holds (UTC); zero means no end.
	Until time.Time
	// Line is the rule's line in the config file, for messages.
	Line int
}

// Assignment is what the config decides for one bucket.
type Assignment struct {
	Baseline *Baseline
	// Rule is the rule that matched; nil when the default applies.
	Rule *Rule
	// Exempt lists controls exempted by the rule and still in force.
	Exempt []Exemption
	// Lapsed lists exemptions whose until date has passed: the controls are
	// enforced again and the plan says so.
	Lapsed []Exemption
}

// Exemption is one exempted control of one bucket.
type Exemption struct {
	Control settings.ControlID `json:"control"`
	Reason  string             `json:"reason"`
	// Until is YYYY-MM-DD, or empty for no end.
	Until string `json:"until,omitempty"`
}
