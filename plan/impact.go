package plan

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/s3baseline/s3baseline/settings"
)

// CloudFormationStackTag is the tag CloudFormation puts on every bucket it
// manages; a change made outside the stack makes it drift, and the next
// stack update may silently revert the change.
const CloudFormationStackTag = "aws:cloudformation:stack-name"

// assessImpact marks changes that would break how the bucket is used
// today, so that apply holds them back unless the operator says so. It
// reads only observed state: the policy, the website configuration (read
// when a Block Public Access change is planned, see Build) and the tags.
func (c *bucketCtx) assessImpact(changes []Change) {
	stack := c.State.Tags[CloudFormationStackTag]
	for i := range changes {
		ch := &changes[i]
		if ch.Action == NoOp {
			continue
		}
		if ch.Control == settings.BlockPublicAccess {
			ch.Impact = append(ch.Impact, c.publicAccessImpact(ch)...)
		}
		if stack != "" {
			ch.Impact = append(ch.Impact, fmt.Sprintf("the bucket is managed by CloudFormation stack %q: changing it outside the stack makes the stack drift, and a stack update may revert it; prefer changing the template", stack))
		}
	}
}

// publicAccessImpact says what turning Block Public Access on would cut
// off: BlockPublicPolicy and RestrictPublicBuckets stop a public policy from
// working (RestrictPublicBuckets also cuts the cross-account grants of that
// policy), and a website endpoint needs public access to answer at all.
func (c *bucketCtx) publicAccessImpact(ch *Change) []string {
	var after settings.PublicAccessBlock
	if err := json.Unmarshal(ch.After, &after); err != nil {
		return nil
	}
	before := settings.EffectivePublicAccessBlock(c.State.PublicAccessBlock, c.Account.PublicAccessBlock)
	restricts := after.RestrictPublicBuckets && !before.RestrictPublicBuckets
	var out []string
	if c.policy != nil && restricts {
		var public []string
		accounts := map[string]bool{}
		for i, s := range c.policy.Statements {
			if !isPublicAllow(s) {
				continue
			}
			public = append(public, statementLabel(s, i))
		}
		if len(public) > 0 {
			out = append(out, "the bucket policy grants public access ("+strings.Join(public, ", ")+"): with RestrictPublicBuckets only AWS services and this account keep access through it")
			for _, s := range c.policy.Statements {
				if s.Effect != "Allow" {
					continue
				}
				for _, p := range s.Principal["AWS"] {
					if acct := principalAccount(p); acct != "" && acct != c.Account.AccountID {
						accounts[acct] = true
					}
				}
			}
		}
		if len(accounts) > 0 {
			ids := make([]string, 0, len(accounts))
			for a := range accounts {
				ids = append(ids, a)
			}
			slices.Sort(ids)
			out = append(out, "cross-account grants in that public policy stop working (RestrictPublicBuckets): accounts "+strings.Join(ids, ", "))
		}
	}
	if w := c.State.Website; w != nil && (restricts || (after.BlockPublicPolicy && !before.BlockPublicPolicy) || (after.IgnorePublicAcls && !before.IgnorePublicAcls)) {
		out = append(out, "static website hosting is on: its website endpoint will answer 403 Forbidden to the public; serve the site through CloudFront with origin access control instead")
	}
	return out
}

// isPublicAllow: an Allow to everyone ("*" or {"AWS":"*"}) with no
// condition. A condition (source VPC, source IP, org id...) usually makes a
// statement non-public; treating every conditioned statement as not public
// errs on the side of fewer, surer warnings.
func isPublicAllow(s settings.Statement) bool {
	return s.Effect == "Allow" && len(s.Condition) == 0 && slices.Contains(s.Principal["AWS"], "*")
}

// principalAccount is the account id of an IAM principal ARN
// (arn:aws:iam::ACCOUNT:...), or "" for anything else.
func principalAccount(p string) string {
	parts := strings.SplitN(p, ":", 6)
	if len(parts) == 6 && parts[2] == "iam" && settings.IsAccountID(parts[4]) {
		return parts[4]
	}
	return ""
}
