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
	Encryption string `json:"encryption"`
	// CloudTrailInsights adds ApiCallRateInsight to the trail of
	// cloudtrail_data_events (high does); it matters only with that control.
	CloudTrailInsights bool          `json:"cloudtrail_insights,omitempty"`
	Controls           []ControlSpec `json:"controls"`
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
// Its JSON form (the keys of the file, with every baseline inlined in full
// and rules under "buckets") lets a saved plan carry its scope and settings,
// so apply and rollback need no config file; see Rule.MarshalJSON.
type Config struct {
	// Path is the file it came from; empty for the defaults.
	Path string `json:"path,omitempty"`
	// Baseline is the default baseline of every bucket in scope.
	Baseline *Baseline `json:"baseline"`
	// Regions, when not empty, limits the buckets to these home regions.
	Regions  []string `json:"regions,omitempty"`
	Settings Settings `json:"settings"`
	// Rules are tried in order; the first match wins.
	Rules []Rule `json:"buckets,omitempty"`

	// Lines are the file lines of some keys, by key path ("regions[1]",
	// "settings.admin_lock.principals"), for messages about them after
	// loading (a region or the admin list the plan finds wrong). Empty for
	// a config that did not come from a file, or came from a saved plan.
	Lines map[string]int `json:"-"`
	// Warnings are what the file says that still works but should change
	// (a deprecated key), one line each, naming the file and key.
	Warnings []string `json:"-"`
}

// Line is the line of the config file with key (a path like
// "regions[1]"), 0 when unknown.
func (c *Config) Line(key string) int { return c.Lines[key] }

// Settings are the values the controls are enforced with.
type Settings struct {
	Logging       LoggingSettings      `json:"logging"`
	Encryption    EncryptionSettings   `json:"encryption"`
	Notifications NotificationSettings `json:"notifications"`
	AdminLock     AdminLockSettings    `json:"admin_lock"`
	CloudTrail    CloudTrailSettings   `json:"cloudtrail"`
}

// LoggingSettings configure access_logging.
type LoggingSettings struct {
	// TargetBucket is a template with {account} and {region}.
	TargetBucket string `json:"target_bucket"`
	TargetPrefix string `json:"target_prefix"`
	CreateTarget bool   `json:"create_target"`
}

// EncryptionSettings configure default_encryption.
type EncryptionSettings struct {
	// KMSKey is an alias, key id or key ARN, resolved per region.
	KMSKey    string `json:"kms_key"`
	CreateKey bool   `json:"create_key"`
}

// NotificationSettings configure event_notifications.
type NotificationSettings struct {
	// Topic is a topic name (per region) or a topic ARN.
	Topic       string   `json:"topic"`
	Events      []string `json:"events"`
	CreateTopic bool     `json:"create_topic"`
}

// AdminLockSettings configure admin_policy_lock.
type AdminLockSettings struct {
	// Deny are the principals the lock denies: IAM role or user ARNs,
	// account roots or account ids, with {account} (and {partition})
	// templates that each account of an organization fills in. They are
	// the overly permissive administrators of the source guide, never a
	// break-glass role.
	Deny []string `json:"deny"`
	// Actions is AdminLockPolicy (the source guide's three bucket-policy
	// actions; the default) or AdminLockConfiguration (every action that
	// can weaken the bucket's configuration).
	Actions string `json:"actions,omitempty"`
}

// admin_lock.actions values.
const (
	AdminLockPolicy        = "policy"
	AdminLockConfiguration = "configuration"
)

// CloudTrailSettings configure cloudtrail_data_events.
type CloudTrailSettings struct {
	TrailName string `json:"trail_name"`
	// Bucket is a template with {account}; the tool creates it in Region
	// when it does not exist.
	Bucket string `json:"bucket"`
	// KMSKey encrypts the log files (alias, key id or key ARN in Region);
	// an alias that names no key is created with a policy that lets
	// CloudTrail use it.
	KMSKey string `json:"kms_key"`
	// Region is the trail's home region: the multi-region trail is created
	// and managed there.
	Region string `json:"region"`
}

// Rule is one entry of the config's buckets list.
type Rule struct {
	// Match is a glob (path.Match syntax) on the bucket name; empty when the
	// rule matches by tags only.
	Match string
	// MatchTags must all be present with these values.
	MatchTags map[string]string
	// Accounts and Regions, when set, limit the rule to buckets of these
	// accounts and home regions (an organization's config names each
	// account's exceptions in one file).
	Accounts []string
	Regions  []string
	// Baseline, when set, replaces the default baseline for matching buckets.
	Baseline *Baseline
	Exempt   []settings.ControlID
	// Mute lists report-only findings the rule silences, with Reason and
	// until Until like an exemption: they are kept in the plan as muted,
	// and count as findings again once Until has passed. A rule with only
	// accounts mutes the account's own findings (iam_mfa, shield, ...).
	Mute []settings.ControlID
	// Settings, in a rule of accounts alone, are those accounts' own
	// settings (admin principals, key, topic, ...): the file's settings
	// with the keys the rule sets replaced.
	Settings *Settings
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
	// Muted lists the findings the rule mutes, in force; LapsedMutes the
	// mutes whose until date has passed.
	Muted       []Exemption
	LapsedMutes []Exemption
}

// Exemption is one exempted control of one bucket.
type Exemption struct {
	Control settings.ControlID `json:"control"`
	Reason  string             `json:"reason"`
	// Until is YYYY-MM-DD, or empty for no end.
	Until string `json:"until,omitempty"`
}
