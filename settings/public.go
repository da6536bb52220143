package settings

import (
	"slices"
	"strings"
)

// The tool's own reading of "public", used to name the statements behind
// S3's verdict and to judge a policy S3 was not asked about. S3's verdict
// (GetBucketPolicyStatus, PolicyStatus.IsPublic) is the authority wherever
// it was read: this reading errs on the side of "public".
//
// AWS-doc "Blocking public access to your Amazon S3 storage", "The meaning
// of public" (also in the SDK's PublicAccessBlockConfiguration doc): a
// policy is public unless each statement granting everyone is limited to a
// fixed CIDR with aws:SourceIp, or to fixed values of aws:SourceArn,
// aws:SourceVpc, aws:SourceVpce, aws:SourceOwner, aws:SourceAccount,
// s3:x-amz-server-side-encryption-aws-kms-key-id, aws:userid (outside the
// pattern "AROLEID:*"), aws:PrincipalOrgID, aws:PrincipalAccount,
// aws:PrincipalArn, s3:DataAccessPointArn or s3:DataAccessPointAccount.
// Conditions on other keys (aws:SecureTransport, aws:Referer, ...) do not
// make a statement non-public.
var restrictingKeys = map[string]bool{
	"aws:sourceip": true, "aws:sourcearn": true, "aws:sourcevpc": true, "aws:sourcevpce": true,
	"aws:sourceowner": true, "aws:sourceaccount": true, "s3:x-amz-server-side-encryption-aws-kms-key-id": true,
	"aws:userid": true, "aws:principalorgid": true, "aws:principalaccount": true, "aws:principalarn": true,
	"s3:dataaccesspointarn": true, "s3:dataaccesspointaccount": true,
}

// restrictingOperators are the condition operators that pin a key to the
// listed values; the negated forms (StringNotEquals, NotIpAddress, ...)
// and IfExists (which holds when the key is absent) do not.
var restrictingOperators = map[string]bool{
	"stringequals": true, "stringequalsignorecase": true, "stringlike": true,
	"arnequals": true, "arnlike": true, "ipaddress": true,
}

// GrantsEveryone reports whether an Allow statement's principal is
// everyone: "*", an AWS principal with a wildcard in it, or any
// NotPrincipal (an Allow to all but some is an Allow to the public).
func (s Statement) GrantsEveryone() bool {
	if s.Effect != "Allow" {
		return false
	}
	if s.NotPrincipal != nil {
		return true
	}
	for _, p := range s.Principal["AWS"] {
		if strings.ContainsAny(p, "*?") {
			return true
		}
	}
	return false
}

// Public reports whether the statement makes a policy public: it grants
// everyone and no condition pins the request to fixed values of a
// restricting key.
func (s Statement) Public() bool {
	if !s.GrantsEveryone() {
		return false
	}
	for op, keys := range s.Condition {
		if !restrictingOperators[strings.ToLower(op)] {
			continue
		}
		for k, vals := range keys {
			if restrictingKeys[k] && fixedValues(k, vals) {
				return false
			}
		}
	}
	return true
}

// fixedValues: no wildcard, no CIDR that is the whole address space, and
// for aws:userid not the "AROLEID:*" form (which is any session of a role
// — fixed for S3, so only a bare wildcard is refused).
func fixedValues(key string, vals []string) bool {
	if len(vals) == 0 {
		return false
	}
	for _, v := range vals {
		if v == "" || strings.ContainsAny(v, "*?") && key != "aws:userid" {
			return false
		}
		if key == "aws:userid" && (v == "*" || strings.HasPrefix(v, "*")) {
			return false
		}
		if key == "aws:sourceip" && (strings.HasSuffix(v, "/0")) {
			return false
		}
	}
	return true
}

// PublicStatements are the statements of the policy that make it public;
// a nil document has none.
func (d *PolicyDocument) PublicStatements() []Statement {
	if d == nil {
		return nil
	}
	var out []Statement
	for _, s := range d.Statements {
		if s.Public() {
			out = append(out, s)
		}
	}
	return out
}

// oaiPrefix starts the principal ARN of a CloudFront origin access
// identity (AWS-doc "Restricting access to an Amazon S3 origin").
const oaiPrefix = "arn:aws:iam::cloudfront:user/CloudFront Origin Access Identity "

// OAIReaders are the CloudFront origin access identities an Allow of the
// policy names, by principal ARN or canonical user id: they read objects
// the way anonymous users do, so they cannot read KMS-encrypted objects.
func (d *PolicyDocument) OAIReaders() []string {
	if d == nil {
		return nil
	}
	var out []string
	for _, s := range d.Statements {
		if s.Effect != "Allow" {
			continue
		}
		for _, p := range s.Principal["AWS"] {
			if strings.HasPrefix(p, oaiPrefix) || strings.Contains(p, ":user/CloudFront Origin Access Identity ") {
				out = append(out, p)
			}
		}
		// An OAI can be named by its S3 canonical user id; any canonical
		// user in a bucket policy is one in practice.
		out = append(out, s.Principal["CanonicalUser"]...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// AllowsRead reports whether the statement allows reading objects
// (s3:GetObject) in any form: s3:GetObject, s3:Get*, s3:*, *, or
// NotAction that leaves it in.
func (s Statement) AllowsRead() bool {
	if s.Effect != "Allow" {
		return false
	}
	if s.NotAction != nil {
		return !slices.ContainsFunc(s.NotAction, func(a string) bool { return ActionCovers(a, "s3:GetObject") })
	}
	return slices.ContainsFunc(s.Action, func(a string) bool { return ActionCovers(a, "s3:GetObject") })
}
