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

	// AdminLock is admin_policy_lock's statement, resolved for the
	// account and the caller.
	AdminLock AdminLock

	// Partition is the account's partition (aws, aws-us-gov, aws-cn),
	// from the caller's ARN: every ARN the tool writes is built in it.
	Partition string
}

// DesiredFor resolves the config's settings for one bucket. key is the
// result of describing the configured key in the bucket's region (zero when
// it was not needed) and keyErr the error of doing so.
func DesiredFor(cfg *baselines.Config, acct settings.AccountState, ref settings.BucketRef, key settings.KeyInfo, keyErr error) Desired {
	s := cfg.Settings
	account := acct.AccountID
	d := Desired{
		Partition: settings.PartitionOf(acct.Caller),
		LogPrefix: s.Logging.TargetPrefix,
		KeyRef:    s.Encryption.KMSKey,
		Key:       key,
		CreateKey: s.Encryption.CreateKey,
		TopicARN:  TopicARN(settings.PartitionOf(acct.Caller), s.Notifications.Topic, account, ref.Region),
		Events:    sortedSet(s.Notifications.Events),
	}
	d.LogTarget = LogTarget(cfg, account, ref.Region)
	d.IsLogTarget = d.LogTarget != "" && d.LogTarget == ref.Name
	if keyErr != nil {
		d.KeyErr = keyErr.Error()
	}
	d.AdminLock = adminLockFor(s.AdminLock, account, acct.Caller)
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
func TopicARN(partition, topic, account, region string) string {
	if topic == "" || strings.HasPrefix(topic, "arn:") {
		return topic
	}
	return "arn:" + partition + ":sns:" + region + ":" + account + ":" + topic
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

// AdminLock is what admin_policy_lock writes: a Deny of Actions to
// Principals on the bucket, except for the principals Except matches
// (the tool's own role, so that the lock can never lock the tool out of
// the configuration it keeps).
type AdminLock struct {
	Partition  string
	Principals []string // normalised, sorted, deduplicated
	// Actions is baselines.AdminLockPolicy or AdminLockConfiguration.
	Actions string
	// Except are ArnNotLike patterns of aws:PrincipalArn.
	Except []string
}

// adminLockFor resolves settings.admin_lock for one account: templates
// filled in, account ids as root ARNs in the account's partition.
func adminLockFor(s baselines.AdminLockSettings, account, caller string) AdminLock {
	l := AdminLock{Partition: settings.PartitionOf(caller), Actions: s.Actions, Except: callerPatterns(caller)}
	if l.Actions == "" {
		l.Actions = baselines.AdminLockPolicy
	}
	for _, p := range s.Deny {
		l.Principals = append(l.Principals, settings.NormalisePrincipalIn(l.Partition, baselines.ExpandPrincipal(p, account, l.Partition)))
	}
	l.Principals = sortedSet(l.Principals)
	return l
}

// callerPatterns are the aws:PrincipalArn patterns of the caller. For an
// assumed-role session that is its role, which the session ARN names
// without the role's path: the role at the top and under any path.
func callerPatterns(caller string) []string {
	account, role := callerIdentity(caller)
	switch {
	case caller == "":
		return nil
	case role != "":
		iam := "arn:" + settings.PartitionOf(caller) + ":iam::" + account + ":role/"
		return []string{iam + role, iam + "*/" + role}
	}
	return []string{caller}
}
