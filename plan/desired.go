package plan

import (
	"slices"
	"strings"

	"github.com/s3baseline/s3baseline/baselines"
	"github.com/s3baseline/s3baseline/settings"
)

// Desired is what the config asks of one bucket, resolved for its account
// and region: the values the controls are enforced with. It is computed
// once per bucket so that every control diff reads the same values.
type Desired struct {
	// LogTarget and LogPrefix are where access logs go; LogTarget is
	// settings.logging.target_bucket expanded for the bucket's region.
	LogTarget string
	LogPrefix string
	// IsLogTarget is true for the region's log bucket itself: it keeps
	// SSE-S3 and never logs into itself.
	IsLogTarget bool

	// KeyRef is settings.encryption.kms_key as configured; Key is what
	// DescribeKey said of it in the bucket's region, KeyErr why it could
	// not be asked (empty when it could).
	KeyRef    string
	Key       settings.KeyInfo
	KeyErr    string
	CreateKey bool

	// TopicARN is the region's notification topic; Events the configured
	// events as a sorted set.
	TopicARN string
	Events   []string

	// AdminPrincipals are settings.admin_lock.principals, normalised
	// (account ids as root ARNs), sorted and deduplicated.
	AdminPrincipals []string
}

// DesiredFor resolves the config's settings for one bucket. key is the
// result of describing the configured key in the bucket's region (zero when
// it was not needed) and keyErr the error of doing so.
func DesiredFor(cfg *baselines.Config, account string, ref settings.BucketRef, key settings.KeyInfo, keyErr error) Desired {
	s := cfg.Settings
	d := Desired{
		LogPrefix: s.Logging.TargetPrefix,
		KeyRef:    s.Encryption.KMSKey,
		Key:       key,
		CreateKey: s.Encryption.CreateKey,
		TopicARN:  TopicARN(s.Notifications.Topic, account, ref.Region),
		Events:    sortedSet(s.Notifications.Events),
	}
	d.LogTarget = LogTarget(cfg, account, ref.Region)
	d.IsLogTarget = d.LogTarget != "" && d.LogTarget == ref.Name
	if keyErr != nil {
		d.KeyErr = keyErr.Error()
	}
	for _, p := range s.AdminLock.Principals {
		d.AdminPrincipals = append(d.AdminPrincipals, settings.NormalisePrincipal(p))
	}
	d.AdminPrincipals = sortedSet(d.AdminPrincipals)
	return d
}

// LogTarget is the region's server access log bucket:
// settings.logging.target_bucket expanded for the account and region, or
// empty when none is configured.
func LogTarget(cfg *baselines.Config, account, region string) string {
	if cfg.Settings.Logging.TargetBucket == "" {
		return ""
	}
	return baselines.ExpandTemplate(cfg.Settings.Logging.TargetBucket, account, region)
}

// TopicARN turns settings.notifications.topic into the topic's ARN in a
// region: a name is the topic of that name in the account and region, an
// ARN is kept as it is.
func TopicARN(topic, account, region string) string {
	if topic == "" || strings.HasPrefix(topic, "arn:") {
		return topic
	}
	return "arn:aws:sns:" + region + ":" + account + ":" + topic
}

// sortedSet returns a sorted, deduplicated copy; empty is nil.
func sortedSet(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	out := slices.Clone(list)
	slices.Sort(out)
	return slices.Compact(out)
}
