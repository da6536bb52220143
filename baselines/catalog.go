package baselines

import (
	"slices"

	"github.com/s3baseline/s3baseline/settings"
)

// catalog is every control the tool knows, in plan order (bucket controls,
// then account controls, as settings lists them). It is a function rather
// than a package variable so that no caller can change the NIST mapping for
// everyone else.
//
// The NIST lists and sentences are the contract's tables; a custom baseline
// chooses controls and modes but never their NIST mapping, so that a plan's
// NIST column always means the same thing.
func catalog() []ControlSpec {
	return []ControlSpec{
		{ID: settings.BlockPublicAccess, Mode: ModeEnforce, NIST: []string{"AC-3", "CA-9", "SC-7"},
			Compliant: "All four Block Public Access flags are on (effective = bucket OR account)."},
		{ID: settings.ObjectOwnership, Mode: ModeEnforce, NIST: []string{"AC-3"},
			Compliant: "Object Ownership is BucketOwnerEnforced (ACLs disabled)."},
		{ID: settings.DefaultEncryption, Mode: ModeEnforce, NIST: []string{"SC-12", "SC-13", "SC-28"},
			Compliant: "Default encryption meets the baseline's level (sse-s3, sse-kms or customer-key)."},
		{ID: settings.BlockSSEC, Mode: ModeEnforce, NIST: []string{"SC-28", "SC-13"},
			Compliant: "The default encryption rule blocks uploads with customer-provided keys (SSE-C), as S3 does by default since April 2026."},
		{ID: settings.AccessLogging, Mode: ModeEnforce, NIST: []string{"AU-2", "AU-3", "AU-12"},
			Compliant: "Server access logging goes to the region's log bucket with the configured prefix, partitioned by event time."},
		{ID: settings.TLSOnly, Mode: ModeEnforce, NIST: []string{"SC-8"},
			Compliant: "The bucket policy denies requests where aws:SecureTransport is false."},
		{ID: settings.AdminPolicyLock, Mode: ModeEnforce, NIST: []string{"AC-5", "AC-6"},
			Compliant: "The bucket policy denies s3:PutBucketPolicy, s3:DeleteBucketPolicy and s3:GetBucketPolicy to all but the configured admin principals."},
		{ID: settings.EventNotifications, Mode: ModeEnforce, NIST: []string{"CM-3", "SI-4"},
			Compliant: "An S3 event notification with Id s3baseline sends the configured events to the region's SNS topic."},
		{ID: settings.AccountBlockPublicAccess, Mode: ModeEnforce, NIST: []string{"AC-3", "SC-7"},
			Compliant: "Account-level Block Public Access has all four flags on."},
		{ID: settings.CloudTrailDataEvents, Mode: ModeEnforce, NIST: []string{"AU-2", "AU-6", "AU-9", "AU-12", "SI-4"},
			Compliant: "A logging, KMS-encrypted, multi-region trail records S3 data events for the in-scope buckets (high adds ApiCallRateInsight)."},
		{ID: settings.IAMMFA, Mode: ModeReport, NIST: []string{"IA-2(1)", "IA-2(2)"},
			Compliant: "Every IAM user with a console password has an MFA device, and the root user has MFA (report only)."},
		{ID: settings.Shield, Mode: ModeReport, NIST: []string{"SC-5"},
			Compliant: "Shield Advanced subscription state is reported; S3 itself cannot be a Shield protection (report only)."},
	}
}

// encryptionCompliant is default_encryption's sentence for each level, so
// that a baseline says exactly what its buckets are held to.
func encryptionCompliant(level string) string {
	switch level {
	case EncryptSSES3:
		return "Default encryption is SSE-S3 or stronger."
	case EncryptSSEKMS:
		return "Default encryption is SSE-KMS or DSSE-KMS."
	case EncryptCustomerKey:
		return "Default encryption is SSE-KMS with the configured customer-managed key and S3 Bucket Key on, or DSSE-KMS with that key."
	}
	return ""
}

// encryptionLevels are the valid Baseline.Encryption values, weakest first.
func encryptionLevels() []string {
	return []string{EncryptSSES3, EncryptSSEKMS, EncryptCustomerKey}
}

// Catalog returns every known control with its NIST SP 800-53 mapping, its
// default mode and the sentence saying when a resource complies, in plan
// order. The result is the caller's to keep.
func Catalog() []ControlSpec {
	return catalog()
}

// NIST returns the NIST SP 800-53 controls that control id implements, or
// nil for an unknown id.
func NIST(id settings.ControlID) []string {
	if c, ok := catalogSpec(id); ok {
		return c.NIST
	}
	return nil
}

// catalogSpec is the catalog entry for id.
func catalogSpec(id settings.ControlID) (ControlSpec, bool) {
	for _, c := range catalog() {
		if c.ID == id {
			return c, true
		}
	}
	return ControlSpec{}, false
}

// reportOnly reports whether a control has no write at all: the tool can
// only report on it, so a baseline cannot ask for it to be enforced.
func reportOnly(id settings.ControlID) bool {
	return id == settings.IAMMFA || id == settings.Shield
}

// exemptable reports whether a bucket rule may exempt control id. Bucket
// controls may be, and so may cloudtrail_data_events (it leaves the bucket
// out of the trail's data events); the other account controls are not about
// any one bucket, so an exemption of them would be silently meaningless.
func exemptable(id settings.ControlID) bool {
	return settings.IsBucketControl(id) || id == settings.CloudTrailDataEvents
}

// planOrder is a control's position in the catalog, for sorting; unknown
// ids sort last.
func planOrder(id settings.ControlID) int {
	i := slices.IndexFunc(catalog(), func(c ControlSpec) bool { return c.ID == id })
	if i < 0 {
		return len(catalog())
	}
	return i
}
