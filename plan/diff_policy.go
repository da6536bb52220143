package plan

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"

	"github.com/s3baseline/s3baseline/baselines"
	"github.com/s3baseline/s3baseline/settings"
)

// adminActions are the actions admin_policy_lock denies, sorted, as the
// statement writes them. "policy" is the source guide's three; with
// "configuration" the Deny covers every action that can weaken what the
// baselines set, by the IAM action each S3 call needs (Service
// Authorization Reference, "Actions defined by Amazon S3"): Block Public
// Access (PutBucketPublicAccessBlock also covers its Delete), default
// encryption (PutEncryptionConfiguration, also DeleteBucketEncryption),
// logging, Object Ownership (PutBucketOwnershipControls, also its
// Delete), the ACL, notifications and versioning.
func adminActions(mode string) []string {
	policy := []string{"s3:DeleteBucketPolicy", "s3:GetBucketPolicy", "s3:PutBucketPolicy"}
	if mode != baselines.AdminLockConfiguration {
		return policy
	}
	all := append(policy, "s3:PutBucketPublicAccessBlock", "s3:PutEncryptionConfiguration", "s3:PutBucketLogging",
		"s3:PutBucketOwnershipControls", "s3:PutBucketAcl", "s3:PutBucketNotification", "s3:PutBucketVersioning")
	slices.Sort(all)
	return all
}

// policyStatement is a statement as the tool writes it: fixed key order, so
// the document and the bucket policy read the same way every time.
type policyStatement struct {
	Sid       string `json:"Sid"`
	Effect    string `json:"Effect"`
	Principal any    `json:"Principal"`
	Action    any    `json:"Action"`
	Resource  any    `json:"Resource"`
	Condition any    `json:"Condition,omitempty"`
}

// TLSStatement is the tls_only statement for a bucket (the AWS Config rule
// s3-bucket-ssl-requests-only / Security Hub S3.5 form) in a partition ("" is aws).
func TLSStatement(partition, bucket string) json.RawMessage {
	arn := settings.BucketARN(partition, bucket)
	return rawJSON(policyStatement{
		Sid:       settings.SidDenyInsecureTransport,
		Effect:    "Deny",
		Principal: "*",
		Action:    "s3:*",
		Resource:  []string{arn, arn + "/*"},
		Condition: map[string]map[string]string{"Bool": {"aws:SecureTransport": "false"}},
	})
}

// AdminLockStatement is the admin_policy_lock statement for a bucket.
func AdminLockStatement(bucket string, l AdminLock) json.RawMessage {
	s := policyStatement{
		Sid:       settings.SidDenyAdminPolicyChanges,
		Effect:    "Deny",
		Principal: map[string][]string{"AWS": l.Principals},
		Action:    adminActions(l.Actions),
		Resource:  settings.BucketARN(l.Partition, bucket),
	}
	if len(l.Except) > 0 {
		s.Condition = map[string]map[string][]string{"ArnNotLike": {"aws:PrincipalArn": l.Except}}
	}
	return rawJSON(s)
}

// ownedStatement is the current statement with our Sid as compact JSON, or
// null.
func (c *bucketCtx) ownedStatement(sid string) (json.RawMessage, bool) {
	s, ok := c.policy.Owned(sid)
	if !ok {
		return rawJSON(nil), false
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, s.Raw); err != nil {
		return rawJSON(nil), true // cannot happen: Raw was parsed
	}
	return buf.Bytes(), true
}

// policyState describes the policy for reasons.
func (c *bucketCtx) policyState() string {
	if c.policy == nil {
		return "there is no bucket policy, so nothing"
	}
	return "no statement of the bucket policy"
}

// diffTLSOnly: compliant when any statement, ours or anyone's, denies every
// S3 action to everyone on the bucket and its objects when the request is
// not over TLS. An Allow-if-TLS alone does not count.
func diffTLSOnly(c *bucketCtx) *Change {
	current, owned := c.ownedStatement(settings.SidDenyInsecureTransport)
	if c.policy != nil {
		for i, s := range c.policy.Statements {
			if deniesInsecureTransport(s, c.bucketARN()) {
				return noop(current, "statement "+quoteLabel(s, i)+" denies requests without TLS (aws:SecureTransport false)")
			}
		}
	}
	return &Change{
		Action: createOrUpdate(!owned),
		Before: current,
		After:  TLSStatement(c.Desired.Partition, c.State.Name),
		Reason: c.policyState() + " denies requests without TLS (aws:SecureTransport false) to everyone on the bucket and its objects; baseline " + c.baseline.Name + " wants that Deny",
	}
}

func deniesInsecureTransport(s settings.Statement, bucketARN string) bool {
	if s.Effect != "Deny" || s.NotPrincipal != nil || s.NotAction != nil || s.NotResource != nil {
		return false
	}
	if !slices.Contains(s.Principal["AWS"], "*") {
		return false
	}
	if !slices.ContainsFunc(s.Action, func(a string) bool {
		// s3:*, *, s3*: patterns that cover every S3 action.
		return strings.HasSuffix(a, "*") && settings.ActionCovers(a, "s3:*")
	}) {
		return false
	}
	if !coversResource(s, bucketARN) || !coversResource(s, bucketARN+"/*") {
		return false
	}
	// Exactly the one condition: any other would narrow the Deny.
	if len(s.Condition) != 1 {
		return false
	}
	for op, keys := range s.Condition {
		if !strings.EqualFold(op, "Bool") && !strings.EqualFold(op, "BoolIfExists") {
			return false
		}
		return len(keys) == 1 && slices.Equal(keys["aws:securetransport"], []string{"false"})
	}
	return false
}

func coversResource(s settings.Statement, arn string) bool {
	return slices.ContainsFunc(s.Resource, func(r string) bool { return settings.ResourceCovers(r, arn) })
}

// diffAdminLock: compliant when an unconditional Deny covers every
// configured principal, the three bucket-policy actions and the bucket.
// The statement is never planned where it would deny the caller itself.
func diffAdminLock(c *bucketCtx) *Change {
	lock := c.Desired.AdminLock
	principals := lock.Principals
	if len(principals) == 0 {
		c.errorf("admin_policy_lock: settings.admin_lock.deny is empty: name the principals the baseline denies bucket-policy changes")
		return nil
	}
	want := AdminLockStatement(c.State.Name, lock)
	actions := adminActions(lock.Actions)
	current, owned := c.ownedStatement(settings.SidDenyAdminPolicyChanges)
	if owned && sameJSON(current, want) {
		return noop(current, "statement \""+settings.SidDenyAdminPolicyChanges+"\" denies "+strings.Join(actions, ", ")+" to "+strings.Join(principals, ", "))
	}
	if c.policy != nil {
		for i, s := range c.policy.Statements {
			if s.Sid != settings.SidDenyAdminPolicyChanges && locksAdmin(s, principals, actions, c.bucketARN()) {
				return noop(current, "statement "+quoteLabel(s, i)+" denies "+strings.Join(actions, ", ")+" to "+strings.Join(principals, ", "))
			}
		}
	}
	what := "s3:PutBucketPolicy, s3:DeleteBucketPolicy and s3:GetBucketPolicy"
	if lock.Actions == baselines.AdminLockConfiguration {
		what = "every action that can weaken the bucket's configuration (" + strings.Join(actions, ", ") + ")"
	}
	except := ""
	if len(lock.Except) > 0 {
		except = " except the caller's own principal (" + strings.Join(lock.Except, ", ") + ")"
	}
	ch := &Change{
		Action: createOrUpdate(!owned),
		Before: current,
		After:  want,
		Reason: c.policyState() + " denies " + what + " to " + strings.Join(principals, ", ") + except + "; baseline " + c.baseline.Name + " wants that Deny. " +
			"Recovery, should it ever lock out the wrong people: the account's root user can always delete the bucket policy " +
			"(from the organization's management account, sts:AssumeRoot with the S3UnlockBucketPolicy task policy, then DeleteBucketPolicy)",
	}
	wide := CallerDenied(c.Account.Caller, principals)
	if wide {
		ch.Reason += ". The Deny covers every principal of the account but this caller's role: s3baseline under any other role (the event-driven function, a plan-only role) is denied these actions too"
	}
	if wide && !(Excepted(c.Account.Caller, lock.Except) && !CallerNamed(c.Account.Caller, principals)) {
		// Held back alone: the bucket's other controls still go through.
		// A Deny of the whole account (or "*") is safe for the tool
		// because of the exception; naming the tool itself is not.
		ch.HeldBack = "the caller " + c.Account.Caller + " is among settings.admin_lock.deny: the Deny would name s3baseline itself (remove it from the list; the account root can always delete a bucket policy)"
	}
	return ch
}

// policyRefusal is why S3 would refuse any write of the bucket policy, ""
// when it would not: a public policy cannot be written while Block Public
// Access's BlockPublicPolicy is on (bucket or account), and every merge
// keeps the public statements that are not ours. Checked before the first
// write, so the bucket does not fail half-way.
func (c *bucketCtx) policyRefusal() string {
	if c.State.Policy == nil || !c.State.Has(settings.AspectPublicAccessBlock) {
		return ""
	}
	eff := settings.EffectivePublicAccessBlock(c.State.PublicAccessBlock, c.Account.PublicAccessBlock)
	if !eff.BlockPublicPolicy {
		return ""
	}
	if e := c.exposure(); e.policyKnown && e.policyPublic {
		return "the bucket policy is public (" + strings.Join(e.publicStmts, ", ") + ") and Block Public Access's BlockPublicPolicy is on, so S3 refuses every write of it (403 AccessDenied); remove or restrict the public statement first"
	}
	return ""
}

// holdPolicyWrites marks the policy changes S3 would refuse, or whose
// merged policy would exceed AWS's size limit, before anything is written.
func (c *bucketCtx) holdPolicyWrites(changes []Change) {
	set := map[string]json.RawMessage{}
	var idx []int
	for i, ch := range changes {
		if ch.Action == NoOp || (ch.Control != settings.TLSOnly && ch.Control != settings.AdminPolicyLock) || ch.HeldBack != "" {
			continue
		}
		idx = append(idx, i)
		sid := settings.SidDenyInsecureTransport
		if ch.Control == settings.AdminPolicyLock {
			sid = settings.SidDenyAdminPolicyChanges
		}
		set[sid] = ch.After
	}
	if len(idx) == 0 {
		return
	}
	why := c.policyRefusal()
	if why == "" {
		if _, err := settings.MergePolicy(c.State.Policy, set, nil); err != nil {
			why = err.Error()
		}
	}
	if why == "" {
		return
	}
	for _, i := range idx {
		changes[i].HeldBack = why
	}
}

func locksAdmin(s settings.Statement, principals, actions []string, bucketARN string) bool {
	if s.Effect != "Deny" || s.Condition != nil || s.NotPrincipal != nil || s.NotAction != nil || s.NotResource != nil {
		return false
	}
	aws := s.Principal["AWS"]
	for _, p := range principals {
		if !slices.Contains(aws, "*") && !slices.Contains(aws, p) {
			return false
		}
	}
	for _, act := range actions {
		if !slices.ContainsFunc(s.Action, func(a string) bool { return settings.ActionCovers(a, act) }) {
			return false
		}
	}
	return coversResource(s, bucketARN)
}

// CallerDenied reports whether a Deny naming principals would apply to the
// caller, as GetCallerIdentity reported it. An assumed-role session is its
// role (matched by account and role name, because the session ARN drops
// the role's path); "*" is everyone; an account's root ARN in a resource
// policy stands for every principal of that account, the root included.
//
// The caller's partition is the principals' (aws, aws-us-gov, aws-cn): an
// ARN is matched in it, and a bare account id, which a policy may name and
// S3 stores as that account's root (aws-semantics §4), is the account.
func CallerDenied(caller string, principals []string) bool {
	if caller == "" {
		return false
	}
	account, role := callerIdentity(caller)
	iam := "arn:" + callerPartition(caller) + ":iam::" + account + ":"
	for _, p := range principals {
		switch {
		case p == "*" || p == caller:
			return true
		case account != "" && (p == iam+"root" || p == account):
			return true
		case account != "" && role != "" && strings.HasPrefix(p, iam+"role/") && p[strings.LastIndexByte(p, '/')+1:] == role:
			return true
		}
	}
	return false
}

// CallerNamed reports whether principals name the caller itself (its
// ARN, or its role by name), rather than the whole account or everyone.
func CallerNamed(caller string, principals []string) bool {
	account, role := callerIdentity(caller)
	iam := "arn:" + callerPartition(caller) + ":iam::" + account + ":"
	for _, p := range principals {
		switch {
		case p == caller:
			return true
		case account != "" && role != "" && strings.HasPrefix(p, iam+"role/") && p[strings.LastIndexByte(p, '/')+1:] == role:
			return true
		}
	}
	return false
}

// Excepted reports whether the ArnNotLike aws:PrincipalArn patterns of an
// admin lock exempt the caller (its role, for an assumed-role session).
func Excepted(caller string, patterns []string) bool {
	principal := caller
	if account, role := callerIdentity(caller); role != "" {
		principal = "arn:" + callerPartition(caller) + ":iam::" + account + ":role/" + role
	}
	return slices.ContainsFunc(patterns, func(p string) bool { return settings.ResourceCovers(p, principal) })
}

// callerPartition is the partition of a caller ARN ("aws" when it is not
// one).
func callerPartition(caller string) string {
	parts := strings.SplitN(caller, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[1] == "" {
		return "aws"
	}
	return parts[1]
}

// callerIdentity reads the account and, for an assumed-role session, the
// role name from a caller ARN (arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION).
func callerIdentity(caller string) (account, role string) {
	parts := strings.SplitN(caller, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" {
		return "", ""
	}
	account = parts[4]
	if rest, ok := strings.CutPrefix(parts[5], "assumed-role/"); ok && parts[2] == "sts" {
		role, _, _ = strings.Cut(rest, "/")
	}
	return account, role
}

// quoteLabel names a statement in a sentence.
func quoteLabel(s settings.Statement, i int) string {
	if s.Sid != "" {
		return `"` + s.Sid + `"`
	}
	return statementLabel(s, i)
}
