package aws

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/aws/aws-sdk-go-v2/service/s3control/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/s3baseline/s3baseline/settings"
)

// Account identifies the caller and reads the account-level Block Public
// Access. Only the identity is essential: when the account flags cannot be
// read, that is recorded in PublicAccessBlockError and the account state is
// still returned, so the bucket plan can go on.
func (p *Provider) Account(ctx context.Context) (settings.AccountState, error) {
	cctx, cancel := p.call(ctx)
	id, err := p.sts().GetCallerIdentity(cctx, &sts.GetCallerIdentityInput{})
	cancel()
	if err != nil {
		return settings.AccountState{}, wrap("get caller identity", err)
	}
	st := settings.AccountState{
		AccountID: aws.ToString(id.Account),
		Caller:    aws.ToString(id.Arn),
	}
	p.rememberCaller(st.AccountID, st.Caller)

	cctx, cancel = p.call(ctx)
	defer cancel()
	bpa, err := findAccountPublicAccessBlock(cctx, p.s3Control(), st.AccountID)
	if err != nil {
		st.PublicAccessBlockError = wrap("get account public access block", err).Error()
		return st, nil
	}
	st.PublicAccessBlock = bpa
	return st, nil
}

// findAccountPublicAccessBlock reads the account's Block Public Access;
// (nil, nil) when it was never configured.
func findAccountPublicAccessBlock(ctx context.Context, client *s3control.Client, accountID string) (*settings.PublicAccessBlock, error) {
	out, err := client.GetPublicAccessBlock(ctx, &s3control.GetPublicAccessBlockInput{AccountId: aws.String(accountID)})
	if hasCode(err, codeNoSuchPublicAccessBlock) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c := out.PublicAccessBlockConfiguration
	if c == nil {
		return nil, nil
	}
	return &settings.PublicAccessBlock{
		BlockPublicAcls:       aws.ToBool(c.BlockPublicAcls),
		IgnorePublicAcls:      aws.ToBool(c.IgnorePublicAcls),
		BlockPublicPolicy:     aws.ToBool(c.BlockPublicPolicy),
		RestrictPublicBuckets: aws.ToBool(c.RestrictPublicBuckets),
	}, nil
}

// Identity identifies the caller. PrincipalARN is the ARN a policy names to
// match this caller: for an assumed-role session
// arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION it is the role,
// arn:aws:iam::ACCOUNT:role/ROLE; a user, the root or anything else maps to
// its own ARN.
//
// The role ARN is built without a path: the session ARN does not carry the
// role's path, so a role created as /ops/Admin shows here as role/Admin
// while its real ARN is arn:aws:iam::ACCOUNT:role/ops/Admin. Policy
// conditions on aws:PrincipalArn see the real, pathed ARN; finding it needs
// iam:GetRole, which this tool does not call.
func (p *Provider) Identity(ctx context.Context) (settings.Identity, error) {
	// Asked once per Provider (whoAmI): a provider's credentials are one
	// principal's for its life, and an event-driven run would otherwise
	// ask three times.
	id, err := p.whoAmI(ctx)
	if err != nil {
		return settings.Identity{}, err
	}
	return settings.Identity{
		Account:      id.account,
		ARN:          id.arn,
		PrincipalARN: principalARN(id.arn),
	}, nil
}

// principalARN maps an assumed-role session ARN to its role's ARN (in the
// same partition) and leaves every other ARN as it is.
func principalARN(arn string) string {
	// arn:PARTITION:sts::ACCOUNT:assumed-role/ROLE/SESSION
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "sts" {
		return arn
	}
	rest, ok := strings.CutPrefix(parts[5], "assumed-role/")
	if !ok {
		return arn
	}
	role, _, ok := strings.Cut(rest, "/")
	if !ok || role == "" {
		return arn
	}
	return "arn:" + parts[1] + ":iam::" + parts[4] + ":role/" + role
}

// callerIdentity is what GetCallerIdentity answered.
type callerIdentity struct {
	account string
	arn     string
}

// partition is the partition named in the caller's ARN, "aws" when the
// ARN does not name one.
func (c callerIdentity) partition() string {
	parts := strings.SplitN(c.arn, ":", 3)
	if len(parts) < 3 || parts[0] != "arn" || parts[1] == "" {
		return "aws"
	}
	return parts[1]
}

// rememberCaller keeps a GetCallerIdentity answer for whoAmI.
func (p *Provider) rememberCaller(account, arn string) {
	if account == "" {
		return
	}
	p.callerMu.Lock()
	p.caller = &callerIdentity{account: account, arn: arn}
	p.callerMu.Unlock()
}

// whoAmI is the caller's account and ARN. STS is asked once per Provider:
// the answer is kept, a failure is not (the next caller asks again).
// Concurrent first callers may each ask; they get the same answer.
func (p *Provider) whoAmI(ctx context.Context) (callerIdentity, error) {
	p.callerMu.Lock()
	c := p.caller
	p.callerMu.Unlock()
	if c != nil {
		return *c, nil
	}
	cctx, cancel := p.call(ctx)
	defer cancel()
	out, err := p.sts().GetCallerIdentity(cctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return callerIdentity{}, wrap("get caller identity", err)
	}
	id := callerIdentity{account: aws.ToString(out.Account), arn: aws.ToString(out.Arn)}
	p.rememberCaller(id.account, id.arn)
	return id, nil
}

// AccountPublicAccessBlock reads the account-level Block Public Access of
// the caller's account; nil when it was never configured or was deleted.
func (p *Provider) AccountPublicAccessBlock(ctx context.Context) (*settings.PublicAccessBlock, error) {
	id, err := p.whoAmI(ctx)
	if err != nil {
		return nil, err
	}
	cctx, cancel := p.call(ctx)
	defer cancel()
	bpa, err := findAccountPublicAccessBlock(cctx, p.s3Control(), id.account)
	if err != nil {
		return nil, wrap("get account public access block", err)
	}
	return bpa, nil
}

// PutAccountPublicAccessBlock writes the account's four Block Public
// Access flags whole, or deletes the configuration when v is nil, and reads
// it back, as PutPublicAccessBlock does for a bucket: all four flags are
// always sent, false ones included (aws-semantics §1). An account governed
// by an organization's BPA policy answers 403, which is returned as it is.
func (p *Provider) PutAccountPublicAccessBlock(ctx context.Context, v *settings.PublicAccessBlock) error {
	id, err := p.whoAmI(ctx)
	if err != nil {
		return err
	}
	client := p.s3Control()
	account := aws.String(id.account)
	if v == nil {
		err = p.run(ctx, "delete account public access block", func(ctx context.Context) error {
			_, err := client.DeletePublicAccessBlock(ctx, &s3control.DeletePublicAccessBlockInput{AccountId: account})
			if hasCode(err, codeNoSuchPublicAccessBlock) {
				return nil // already absent
			}
			return err
		})
	} else {
		err = p.run(ctx, "put account public access block", func(ctx context.Context) error {
			_, err := client.PutPublicAccessBlock(ctx, &s3control.PutPublicAccessBlockInput{
				AccountId: account,
				PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{
					BlockPublicAcls:       aws.Bool(v.BlockPublicAcls),
					IgnorePublicAcls:      aws.Bool(v.IgnorePublicAcls),
					BlockPublicPolicy:     aws.Bool(v.BlockPublicPolicy),
					RestrictPublicBuckets: aws.Bool(v.RestrictPublicBuckets),
				},
			})
			return err
		})
	}
	if err != nil {
		return err
	}
	return verify(ctx, p, "account public access block", v, func(ctx context.Context) (*settings.PublicAccessBlock, error) {
		return findAccountPublicAccessBlock(ctx, client, id.account)
	}, equalPtr[settings.PublicAccessBlock])
}
