package baselines

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
)

// Validation of single values. Each check returns why a value is wrong, for
// the walker to report against the key it came from.

// checkEvent accepts S3 event types, which all start "s3:"
// (s3:ObjectCreated:*, s3:ObjectRemoved:Delete, ...).
func checkEvent(s string) error {
	if !strings.HasPrefix(s, "s3:") || len(s) == len("s3:") {
		return fmt.Errorf("%q is not an S3 event type (want s3:..., e.g. s3:ObjectCreated:*)", s)
	}
	return nil
}

// principalARN is an IAM principal: a user, a role or an account root.
// Session ARNs (sts assumed-role) change on every session, so a lock
// naming one would lock out the admin it was meant for by tomorrow.
var (
	principalARN = regexp.MustCompile(`^arn:aws(-cn|-us-gov|-iso[a-z]?)?:iam::\d{12}:(root|user/.+|role/.+)$`)
	accountID    = regexp.MustCompile(`^\d{12}$`)
)

func checkPrincipal(s string) error {
	if !principalARN.MatchString(s) && !accountID.MatchString(s) {
		return fmt.Errorf("%q is not an IAM principal (want arn:aws:iam::<12 digits>:role/..., :user/..., :root, or a 12-digit account id)", s)
	}
	return nil
}

// checkPrincipalTemplate is checkPrincipal for admin_lock.deny, whose
// entries may hold {account} and {partition}, filled in per account
// (ExpandPrincipal).
func checkPrincipalTemplate(s string) error {
	if strings.Contains(s, regionPlaceholder) {
		return fmt.Errorf("%q: a principal is global; {region} has no meaning in it", s)
	}
	if err := checkPrincipal(ExpandPrincipal(s, "123456789012", "aws")); err != nil {
		return fmt.Errorf("%q is not an IAM principal (want arn:aws:iam::{account}:role/..., arn:{partition}:iam::<12 digits>:user/..., :root, or an account id)", s)
	}
	return nil
}

// checkAdminActions accepts admin_lock.actions.
func checkAdminActions(s string) error {
	if s != AdminLockPolicy && s != AdminLockConfiguration {
		return fmt.Errorf("%q is not policy or configuration", s)
	}
	return nil
}

// SNS topic names are 1-256 of letters, digits, '-' and '_'; an ARN names a
// topic in another account or region.
var (
	topicName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}(\.fifo)?$`)
	topicARN  = regexp.MustCompile(`^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$`)
)

func checkTopic(s string) error {
	if !topicName.MatchString(s) && !topicARN.MatchString(s) {
		return fmt.Errorf("%q is not an SNS topic name or ARN", s)
	}
	if strings.HasSuffix(s, ".fifo") {
		return fmt.Errorf("%q is a FIFO topic; S3 event notifications cannot publish to FIFO topics", s)
	}
	return nil
}

// trailName is CloudTrail's naming rule: 3-128 characters of letters,
// digits, '.', '_' and '-', starting and ending with a letter or digit.
var trailName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]$`)

func checkTrailName(s string) error {
	if !trailName.MatchString(s) {
		return fmt.Errorf("%q is not a trail name (3-128 letters, digits, '.', '_' or '-', starting and ending with a letter or digit)", s)
	}
	return nil
}

var placeholder = regexp.MustCompile(`\{[^{}]*\}`)

// checkTemplate checks a bucket name template: only the allowed
// placeholders, and a valid bucket name for every region it will be
// expanded for.
func checkTemplate(tmpl string, allowed []string, regions []string) error {
	for _, p := range placeholder.FindAllString(tmpl, -1) {
		if !slices.Contains(allowed, p) {
			return fmt.Errorf("unknown placeholder %s in %q (want %s)", p, tmpl, orList(allowed))
		}
	}
	for _, r := range regions {
		name := ExpandTemplate(tmpl, sampleAccount, r)
		if err := CheckBucketName(name); err != nil {
			return fmt.Errorf("%q expands to an invalid bucket name: %w", tmpl, err)
		}
	}
	return nil
}

// sampleAccount and sampleRegion stand in for the real account and region
// when a template is checked before either is known. The region is one of
// the longest names, so a template that fits it fits nearly all regions.
const (
	sampleAccount = "123456789012"
	sampleRegion  = "ap-southeast-2"
)

// CheckBucketName reports why name is not a valid general purpose bucket
// name (the S3 naming rules), or nil.
func CheckBucketName(name string) error {
	switch {
	case len(name) < 3 || len(name) > 63:
		return fmt.Errorf("%q: length %d (want 3 to 63 characters)", name, len(name))
	case strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789.-") != "":
		return fmt.Errorf("%q: only lowercase letters, digits, '.' and '-' are allowed", name)
	case !alnum(name[0]) || !alnum(name[len(name)-1]):
		return fmt.Errorf("%q: must begin and end with a letter or digit", name)
	case strings.Contains(name, ".."):
		return fmt.Errorf("%q: two adjacent periods", name)
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return fmt.Errorf("%q: must not look like an IP address", name)
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(name, p) {
			return fmt.Errorf("%q: the prefix %s is reserved", name, p)
		}
	}
	for _, s := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"} {
		if strings.HasSuffix(name, s) {
			return fmt.Errorf("%q: the suffix %s is reserved", name, s)
		}
	}
	return nil
}

func alnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
}

// checkAccountID accepts a 12-digit account id.
func checkAccountID(s string) error {
	if !accountID.MatchString(s) {
		return fmt.Errorf("%q is not a 12-digit account id", s)
	}
	return nil
}
