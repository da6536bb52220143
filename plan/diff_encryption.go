package plan

import (
	"slices"

	"github.com/s3baseline/s3baseline/baselines"
	"github.com/s3baseline/s3baseline/settings"
)

// logTargetReason says why a server access log target keeps SSE-S3.
const logTargetReason = "server access log target: log delivery to SSE-KMS targets fails"

// diffEncryption holds default encryption to the baseline's level. Keys are
// compared by their resolved ARN (the provider resolves the bucket's key
// with DescribeKey), never by text: S3 stores whatever it was given, so
// alias/x and its key ARN are the same key.
func diffEncryption(c *bucketCtx) *Change {
	cur := c.State.Encryption
	current := rawJSON(cur)
	// The rule is one document: what this control does not own (the SSE-C
	// block) is carried over as it is, so a write never unblocks SSE-C.
	keep := func(e settings.Encryption) settings.Encryption {
		if cur != nil {
			e.BlockedEncryptionTypes = slices.Clone(cur.BlockedEncryptionTypes)
		}
		return e
	}
	sseS3 := keep(settings.Encryption{Algorithm: settings.SSES3})

	if c.Desired.IsLogTarget {
		switch {
		case cur != nil && cur.Algorithm == settings.SSES3:
			return noop(current, "SSE-S3 (AES256), as a "+logTargetReason+" must keep")
		case cur != nil:
			// Never weaker: a log target on KMS keeps it, and the plan says
			// delivery may not work.
			c.warnf("default_encryption: %s; a %s, but s3baseline never weakens encryption: switch it to SSE-S3 yourself or choose another log target", describeEncryption(cur), logTargetReason)
			return noop(current, describeEncryption(cur)+", kept: never weakened")
		}
		return &Change{
			Action: Create,
			Before: current,
			After:  rawJSON(&sseS3),
			Reason: describeEncryption(cur) + "; " + logTargetReason + ", so it keeps SSE-S3 (AES256) whatever the baseline",
		}
	}

	switch c.baseline.Encryption {
	case baselines.EncryptSSEKMS:
		if isKMS(cur) {
			return noop(current, describeEncryption(cur)+", which baseline "+c.baseline.Name+" accepts")
		}
		after, keyDesc, ok := c.kmsTarget(false)
		if !ok {
			return nil
		}
		after = keep(after)
		return &Change{
			Action: createOrUpdate(cur == nil),
			Before: current,
			After:  rawJSON(&after),
			Reason: describeEncryption(cur) + "; baseline " + c.baseline.Name + " wants SSE-KMS (here with " + keyDesc + " and the S3 Bucket Key)",
		}

	case baselines.EncryptCustomerKey:
		after, keyDesc, ok := c.kmsTarget(true)
		if !ok {
			return nil
		}
		if cur != nil && c.Desired.Key.Exists && customerKeyCompliant(cur, c.Desired.Key.ARN) {
			return noop(current, describeEncryption(cur)+", the configured customer-managed key")
		}
		after = keep(after)
		reason := describeEncryption(cur) + "; baseline " + c.baseline.Name + " wants SSE-KMS with " + keyDesc + " and the S3 Bucket Key on (or DSSE-KMS with that key)"
		if cur != nil && cur.Algorithm == settings.SSEKMSDSS {
			// Never weaker: DSSE-KMS is two layers; it keeps both and takes
			// the configured key (Bucket Keys do not apply to DSSE-KMS).
			after.Algorithm, after.BucketKeyEnabled = settings.SSEKMSDSS, false
			reason = describeEncryption(cur) + "; baseline " + c.baseline.Name + " wants " + keyDesc + ": DSSE-KMS is kept (both layers), with that key"
		}
		return &Change{
			Action: createOrUpdate(cur == nil),
			Before: current,
			After:  rawJSON(&after),
			Reason: reason,
		}

	default: // baselines.EncryptSSES3: anything S3 accepts is SSE-S3 or stronger
		if cur != nil {
			return noop(current, describeEncryption(cur)+", which baseline "+c.baseline.Name+" accepts")
		}
		return &Change{
			Action: Create,
			Before: current,
			After:  rawJSON(&sseS3),
			Reason: describeEncryption(cur) + "; baseline " + c.baseline.Name + " wants SSE-S3 or stronger",
		}
	}
}

// diffBlockSSEC wants the rule to block uploads with customer-provided keys
// (BlockedEncryptionTypes SSE-C), as S3 sets for new buckets since April
// 2026. Everything else of the rule is carried over as it is.
func diffBlockSSEC(c *bucketCtx) *Change {
	cur := c.State.Encryption
	current := rawJSON(cur)
	if cur.SSECBlocked() {
		return noop(current, "the default encryption rule blocks SSE-C uploads")
	}
	after := settings.Encryption{Algorithm: settings.SSES3}
	if cur != nil {
		after = *cur
	}
	after.BlockedEncryptionTypes = []string{settings.EncryptionTypeSSEC}
	reason := "the default encryption rule does not block SSE-C"
	if cur == nil {
		reason = "default encryption is not configured (a bucket from before 2023), so SSE-C is not blocked"
	}
	return &Change{
		Action: createOrUpdate(cur == nil),
		Before: current,
		After:  rawJSON(&after),
		Reason: reason + "; baseline " + c.baseline.Name + " wants uploads with customer-provided keys (SSE-C) refused, as S3 does for new buckets since April 2026 (objects already stored with SSE-C stay readable)",
	}
}

// customerKeyCompliant: SSE-KMS with the key and the S3 Bucket Key, or
// DSSE-KMS with the key (Bucket Keys do not exist for DSSE-KMS). When the
// provider could not resolve the bucket's key, only the key's own ARN
// written verbatim can be trusted to be the same key.
func customerKeyCompliant(cur *settings.Encryption, keyARN string) bool {
	same := cur.KeyARN == keyARN || (cur.KeyARN == "" && cur.KMSKeyID == keyARN)
	switch cur.Algorithm {
	case settings.SSEKMS:
		return same && cur.BucketKeyEnabled
	case settings.SSEKMSDSS:
		return same
	}
	return false
}

// kmsTarget is the SSE-KMS rule a change writes, with a description of the
// key for the reason. ok is false when there is no usable key; the bucket
// error says why. customer requires a customer-managed key (high).
func (c *bucketCtx) kmsTarget(customer bool) (after settings.Encryption, keyDesc string, ok bool) {
	d := c.Desired
	after = settings.Encryption{Algorithm: settings.SSEKMS, BucketKeyEnabled: true}
	switch {
	case d.KeyRef == "" && customer:
		c.errorf("default_encryption: baseline %s needs a customer-managed KMS key: settings.encryption.kms_key is not set", c.baseline.Name)
		return after, "", false
	case d.KeyRef == "":
		// No key configured: aws:kms without a key is the AWS-managed aws/s3.
		return after, "the AWS-managed key aws/s3", true
	case d.KeyErr != "":
		c.errorf("default_encryption: describe KMS key %s in %s: %s", d.KeyRef, c.State.Region, d.KeyErr)
		return after, "", false
	case !d.Key.Exists && d.CreateKey:
		after.KMSKeyID = d.KeyRef
		return after, "the customer-managed key " + d.KeyRef + " (it does not exist in " + c.State.Region + " yet: s3baseline will create it)", true
	case !d.Key.Exists:
		c.errorf("default_encryption: the KMS key %s does not exist in %s and settings.encryption.create_key is off", d.KeyRef, c.State.Region)
		return after, "", false
	case customer && d.Key.Manager == "AWS":
		c.errorf("default_encryption: settings.encryption.kms_key %s is an AWS-managed key; baseline %s needs a customer-managed key", d.KeyRef, c.baseline.Name)
		return after, "", false
	case !d.Key.Enabled:
		c.errorf("default_encryption: the KMS key %s (%s) is disabled: objects written with it would fail", d.KeyRef, d.Key.ARN)
		return after, "", false
	case !d.Key.Symmetric:
		c.errorf("default_encryption: the KMS key %s (%s) is not a symmetric key, the only kind S3 accepts", d.KeyRef, d.Key.ARN)
		return after, "", false
	}
	// The ARN, not the alias: S3 resolves an alias in the requester's
	// account, so only the ARN names this key for everyone.
	after.KMSKeyID = d.Key.ARN
	after.KeyARN = d.Key.ARN
	desc := "the customer-managed key " + d.Key.ARN
	if d.Key.Manager == "AWS" {
		desc = "the key " + d.Key.ARN
	}
	return after, desc, true
}

// describeEncryption says what a default encryption rule is, for reasons.
func describeEncryption(e *settings.Encryption) string {
	if e == nil {
		return "default encryption is not configured (a bucket from before 2023)"
	}
	key := e.KMSKeyID
	if key == "" {
		key = "the AWS-managed key aws/s3"
	}
	switch e.Algorithm {
	case settings.SSES3:
		return "default encryption is SSE-S3 (AES256)"
	case settings.SSEKMS:
		s := "default encryption is SSE-KMS with " + key
		if !e.BucketKeyEnabled {
			s += ", S3 Bucket Key off"
		}
		return s
	case settings.SSEKMSDSS:
		return "default encryption is DSSE-KMS with " + key
	}
	return "default encryption is " + e.Algorithm
}
