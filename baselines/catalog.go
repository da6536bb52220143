package baselines

import (
	"slices"
	"strings"
	"sync"

	"go.yaml.in/yaml/v3"

	"github.com/s3baseline/s3baseline/settings"
)

// Control is one entry of the control catalogue: what the tool can judge,
// how, and what it maps to. The catalogue is the one place these facts
// live; `baselines catalogue` prints it and the README's control tables
// are generated from it (readme_test.go keeps them equal).
type Control struct {
	ID settings.ControlID `json:"id"`
	// Scope is "bucket" or "account".
	Scope string `json:"scope"`
	// Compliant says, for people, when a resource complies.
	Compliant string `json:"compliant"`
	// Fix says what enforcing the control writes, or for a report-only
	// control what a person has to do, since no API call of the tool can.
	Fix string `json:"fix"`
	// ReportOnly controls have no write: a baseline may only report them.
	ReportOnly bool `json:"report_only,omitempty"`
	// NIST lists the NIST SP 800-53 rev5 controls the setting implements,
	// and NISTSource where that mapping comes from: AWS Security Hub's
	// "related requirements" of the control named, or the source guide
	// (../shared/seed/securing-s3-buckets.txt and the contract's table)
	// where Security Hub gives none, or s3baseline's own reasoning, said.
	NIST       []string `json:"nist"`
	NISTSource string   `json:"nist_source"`
	// SecurityHub lists the AWS Security Hub S3 controls this one covers
	// (S3.8, ...), CIS the CIS AWS Foundations Benchmark recommendations
	// Security Hub relates to them ("v5.0.0/2.1.4").
	SecurityHub []string `json:"security_hub,omitempty"`
	CIS         []string `json:"cis,omitempty"`
}

// The sources a catalogue NIST mapping may name.
const (
	sourceGuide = "source guide"
	sourceHub   = "Security Hub "
	sourceOwn   = "s3baseline"
)

// catalog is every control the tool knows, in plan order (bucket controls,
// then account controls, as settings lists them). It is a function rather
// than a package variable so that no caller can change the NIST mapping for
// everyone else.
//
// A custom baseline chooses controls and modes but never their NIST
// mapping, so that a plan's NIST column always means the same thing. Where
// a control covers a Security Hub control whose related requirements name
// NIST SP 800-53 rev5 controls, the mapping is exactly that list
// (data/securityhub-s3.yaml; catalog_test.go checks it).
func catalog() []Control {
	hubBPA := []string{"AC-21", "AC-3", "AC-3(7)", "AC-4", "AC-4(21)", "AC-6", "SC-7", "SC-7(11)", "SC-7(16)", "SC-7(20)", "SC-7(21)", "SC-7(3)", "SC-7(4)", "SC-7(9)"}
	hubLifecycle := []string{"CP-10", "CP-6(2)", "CP-9", "SC-5(2)", "SI-13(5)"}
	return []Control{
		{ID: settings.BlockPublicAccess, Scope: "bucket",
			Compliant: "All four Block Public Access flags are on (effective = bucket OR account).",
			Fix:       "PutPublicAccessBlock with all four flags on, held back where it would cut off public or cross-account readers.",
			NIST:      hubBPA, NISTSource: sourceHub + "S3.8", SecurityHub: []string{"S3.8"}, CIS: []string{"v5.0.0/2.1.4", "v3.0.0/2.1.4", "v1.4.0/2.1.5"}},
		{ID: settings.ObjectOwnership, Scope: "bucket",
			Compliant: "Object Ownership is BucketOwnerEnforced (ACLs disabled).",
			Fix:       "PutBucketOwnershipControls BucketOwnerEnforced; never while the bucket ACL grants anyone but the owner.",
			NIST:      []string{"AC-2(1)", "AC-3", "AC-3(15)", "AC-3(7)", "AC-6"}, NISTSource: sourceHub + "S3.12", SecurityHub: []string{"S3.12"}},
		{ID: settings.DefaultEncryption, Scope: "bucket",
			Compliant: "Default encryption meets the baseline's level (sse-s3, sse-kms or customer-key).",
			Fix:       "PutBucketEncryption with the baseline's algorithm and key, keeping the rule's BlockedEncryptionTypes; never a downgrade (DSSE-KMS stays).",
			NIST:      []string{"SC-12(2)", "CM-3(6)", "SC-13", "SC-28", "SC-28(1)", "SC-7(10)", "CA-9(1)", "SI-7(6)", "AU-9"}, NISTSource: sourceHub + "S3.17", SecurityHub: []string{"S3.17"}},
		{ID: settings.BlockSSEC, Scope: "bucket",
			Compliant: "The default encryption rule blocks uploads with customer-provided keys (SSE-C), as S3 does by default since April 2026.",
			Fix:       "PutBucketEncryption with BlockedEncryptionTypes SSE-C, the rest of the rule unchanged.",
			NIST:      []string{"SC-28", "SC-13"}, NISTSource: sourceGuide},
		{ID: settings.AccessLogging, Scope: "bucket",
			Compliant: "Server access logging goes to the region's log bucket with the configured prefix, partitioned by event time.",
			Fix:       "PutBucketLogging to the region's log bucket, after granting the logging service on that bucket's policy.",
			NIST:      []string{"AC-2(4)", "AC-4(26)", "AC-6(9)", "AU-10", "AU-12", "AU-2", "AU-3", "AU-6(3)", "AU-6(4)", "CA-7", "SC-7(9)", "SI-3(8)", "SI-4(20)", "SI-7(8)"}, NISTSource: sourceHub + "S3.9", SecurityHub: []string{"S3.9"}},
		{ID: settings.Versioning, Scope: "bucket",
			Compliant: "Versioning is Enabled.",
			Fix:       "PutBucketVersioning Enabled. S3 can never turn versioning off again, only suspend it: a rollback suspends it only when it was not enabled before; never while MFA delete needs the root user's device.",
			NIST:      []string{"AU-9(2)", "CP-10", "CP-6", "CP-6(1)", "CP-6(2)", "CP-9", "SC-5(2)", "SI-12", "SI-13(5)"}, NISTSource: sourceHub + "S3.14", SecurityHub: []string{"S3.14"}},
		{ID: settings.TLSOnly, Scope: "bucket",
			Compliant: "The bucket policy denies requests where aws:SecureTransport is false.",
			Fix:       "Adds the statement " + settings.SidDenyInsecureTransport + " to the bucket policy, keeping every other statement.",
			NIST:      []string{"AC-17(2)", "AC-4", "IA-5(1)", "SC-12(3)", "SC-13", "SC-23", "SC-23(3)", "SC-7(4)", "SC-8", "SC-8(1)", "SC-8(2)", "SI-7(6)"}, NISTSource: sourceHub + "S3.5", SecurityHub: []string{"S3.5"}, CIS: []string{"v5.0.0/2.1.1", "v3.0.0/2.1.1", "v1.4.0/2.1.2"}},
		{ID: settings.AdminPolicyLock, Scope: "bucket",
			Compliant: "The bucket policy denies the principals of settings.admin_lock.deny the bucket-policy actions (actions: policy, the source guide's three) or every action that can weaken the bucket's configuration (actions: configuration); the tool's own role is excepted.",
			Fix:       "Adds the statement " + settings.SidDenyAdminPolicyChanges + " to the bucket policy, keeping every other statement. Recovery if it locks the wrong people out: the account's root user deletes the bucket policy (the S3UnlockBucketPolicy task of sts:AssumeRoot).",
			NIST:      []string{"AC-5", "AC-6"}, NISTSource: sourceGuide},
		{ID: settings.EventNotifications, Scope: "bucket",
			Compliant: "An S3 event notification with Id s3baseline sends the configured events to the region's SNS topic.",
			Fix:       "Adds the entry s3baseline to the notification configuration, keeping every other entry, after granting S3 on the topic's policy.",
			NIST:      []string{"CA-7", "SI-3(8)", "SI-4", "SI-4(4)"}, NISTSource: sourceHub + "S3.11", SecurityHub: []string{"S3.11"}},
		{ID: settings.MFADelete, Scope: "bucket", ReportOnly: true,
			Compliant: "Versioning has MFA delete enabled (report only).",
			Fix:       "Only the bucket owner's root user, with its MFA device, can enable MFA delete (PutBucketVersioning with x-amz-mfa); S3 refuses it on a bucket with a lifecycle configuration.",
			NIST:      []string{"CA-9(1)", "CM-2", "CM-2(2)", "CM-3", "SC-5(2)"}, NISTSource: sourceHub + "S3.20", SecurityHub: []string{"S3.20"}, CIS: []string{"v5.0.0/2.1.2", "v3.0.0/2.1.2", "v1.4.0/2.1.3"}},
		{ID: settings.ObjectLock, Scope: "bucket", ReportOnly: true,
			Compliant: "Object Lock is enabled (report only).",
			Fix:       "Object Lock is a retention decision (COMPLIANCE mode cannot be undone): enable it with PutObjectLockConfiguration on a versioned bucket once the retention period is agreed.",
			NIST:      []string{"CP-6(2)"}, NISTSource: sourceHub + "S3.15", SecurityHub: []string{"S3.15"}},
		{ID: settings.Lifecycle, Scope: "bucket", ReportOnly: true,
			Compliant: "The bucket has a lifecycle configuration with an enabled rule, and a versioned bucket one that expires noncurrent versions (report only).",
			Fix:       "Lifecycle rules delete data: write them with the bucket's owners (PutBucketLifecycleConfiguration replaces every rule).",
			NIST:      hubLifecycle, NISTSource: sourceHub + "S3.13", SecurityHub: []string{"S3.13", "S3.10", "S3.25"}},
		{ID: settings.ACLGrants, Scope: "bucket", ReportOnly: true,
			Compliant: "The bucket ACL grants nothing to the public (AllUsers, AuthenticatedUsers) or to other accounts (report only).",
			Fix:       "object_ownership (BucketOwnerEnforced) disables ACLs once the grants are moved to the bucket policy and the ACL is reset to private; the tool never rewrites an ACL.",
			NIST:      hubBPA, NISTSource: sourceHub + "S3.2", SecurityHub: []string{"S3.2", "S3.3"}},
		{ID: settings.CrossAccountPolicy, Scope: "bucket", ReportOnly: true,
			Compliant: "No bucket policy statement allows other accounts s3:DeleteBucketPolicy, s3:PutBucketAcl, s3:PutBucketPolicy, s3:PutEncryptionConfiguration or s3:PutObjectAcl (report only).",
			Fix:       "Remove those actions from the statements that grant them to other accounts; the tool never edits statements that are not its own.",
			NIST:      []string{"CA-9(1)", "CM-2"}, NISTSource: sourceHub + "S3.6", SecurityHub: []string{"S3.6"}},
		{ID: settings.AccountBlockPublicAccess, Scope: "account",
			Compliant: "Account-level Block Public Access has all four flags on.",
			Fix:       "S3 Control PutPublicAccessBlock with all four flags on; never where an Organizations S3 policy owns the setting.",
			NIST:      hubBPA, NISTSource: sourceHub + "S3.1", SecurityHub: []string{"S3.1"}, CIS: []string{"v5.0.0/2.1.4", "v3.0.0/2.1.4", "v1.4.0/2.1.5"}},
		{ID: settings.CloudTrailDataEvents, Scope: "account",
			Compliant: "A logging, KMS-encrypted, multi-region trail records S3 data events for the in-scope buckets (high adds ApiCallRateInsight).",
			Fix:       "Creates or updates the trail, merging its event selectors and insight selectors.",
			NIST:      []string{"AU-2", "AU-6", "AU-9", "AU-12", "SI-4"}, NISTSource: sourceGuide, SecurityHub: []string{"S3.22", "S3.23"}, CIS: []string{"v5.0.0/3.8", "v3.0.0/3.8", "v5.0.0/3.9", "v3.0.0/3.9"}},
		{ID: settings.AccessPointBPA, Scope: "account", ReportOnly: true,
			Compliant: "Every access point of the in-scope buckets has all four Block Public Access flags on (report only).",
			Fix:       "An access point's Block Public Access cannot be changed after creation: create a replacement with all four flags on, move its users, delete the old one.",
			NIST:      hubBPA, NISTSource: sourceHub + "S3.19", SecurityHub: []string{"S3.19"}},
		{ID: settings.MRAPBPA, Scope: "account", ReportOnly: true,
			Compliant: "Every Multi-Region Access Point has all four Block Public Access flags on (report only).",
			Fix:       "A Multi-Region Access Point's Block Public Access cannot be changed after creation: create a replacement with all four flags on, move its users, delete the old one.",
			NIST:      hubBPA, NISTSource: sourceOwn + ", by analogy: Security Hub S3.24 names no NIST control, so the mapping is S3.19's (the same setting on another access path)", SecurityHub: []string{"S3.24"}},
		{ID: settings.IAMMFA, Scope: "account", ReportOnly: true,
			Compliant: "Every IAM user with a console password has an MFA device, and the root user has MFA (report only).",
			Fix:       "The user assigns an MFA device (IAM console, Security credentials); no API can enable MFA for someone else.",
			NIST:      []string{"IA-2(1)", "IA-2(2)"}, NISTSource: sourceGuide},
		{ID: settings.Shield, Scope: "account", ReportOnly: true,
			Compliant: "Shield Advanced subscription state is reported; S3 itself cannot be a Shield protection (report only).",
			Fix:       "Put CloudFront in front of the bucket and protect the distribution; s3baseline never subscribes (a one-year commitment).",
			NIST:      []string{"SC-5"}, NISTSource: sourceGuide},
	}
}

// NotApplicable are the Security Hub S3 controls no catalogue control
// covers, each with the reason; catalog_test.go checks that every control
// of data/securityhub-s3.yaml is either covered or listed here.
func NotApplicable() map[string]string {
	return map[string]string{
		"S3.7": "cross-Region replication is a recovery design per workload (a second bucket, a role, storage costs), not a setting a tool can add to every bucket; neither the source guide nor any baseline asks for it",
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

// Catalog returns the control catalogue in plan order. The result is the
// caller's to keep.
func Catalog() []Control {
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

// catalogSpec is the catalog entry for id as a baseline control in its
// default mode: enforce, or report for a report-only control.
func catalogSpec(id settings.ControlID) (ControlSpec, bool) {
	for _, c := range catalog() {
		if c.ID == id {
			mode := ModeEnforce
			if c.ReportOnly {
				mode = ModeReport
			}
			return ControlSpec{ID: c.ID, Mode: mode, NIST: c.NIST, Compliant: c.Compliant}, true
		}
	}
	return ControlSpec{}, false
}

// reportOnly reports whether a control has no write at all: the tool can
// only report on it, so a baseline cannot ask for it to be enforced.
func reportOnly(id settings.ControlID) bool {
	c, ok := catalogEntry(id)
	return ok && c.ReportOnly
}

func catalogEntry(id settings.ControlID) (Control, bool) {
	for _, c := range catalog() {
		if c.ID == id {
			return c, true
		}
	}
	return Control{}, false
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
	i := slices.IndexFunc(catalog(), func(c Control) bool { return c.ID == id })
	if i < 0 {
		return len(catalog())
	}
	return i
}

// securityHubSeverities are the severities of the Security Hub S3
// controls (data/securityhub-s3.yaml), read once: the file is compiled in.
var securityHubSeverities = sync.OnceValue(func() map[string]string {
	data, err := builtinFiles.ReadFile("data/securityhub-s3.yaml")
	if err != nil {
		panic("baselines: " + err.Error()) // compiled in; a broken build
	}
	var doc struct {
		Controls []struct{ ID, Severity string } `yaml:"controls"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		panic("baselines: data/securityhub-s3.yaml: " + err.Error())
	}
	out := map[string]string{}
	for _, c := range doc.Controls {
		out[c.ID] = c.Severity
	}
	return out
})

// Severity is the Security Hub severity of control id: the highest of its
// Security Hub controls', "MEDIUM" for a control Security Hub has none of.
// It is upper case, as ASFF's Severity.Label wants it.
func Severity(id settings.ControlID) string {
	rank := map[string]int{"Low": 1, "Medium": 2, "High": 3, "Critical": 4}
	best := ""
	if c, ok := catalogEntry(id); ok {
		for _, h := range c.SecurityHub {
			if s := securityHubSeverities()[h]; rank[s] > rank[best] {
				best = s
			}
		}
	}
	if best == "" {
		best = "Medium"
	}
	return strings.ToUpper(best)
}
