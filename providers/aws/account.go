package aws

import (
	"context"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
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
	cctx, cancel := p.call(ctx)
	defer cancel()
	out, err := p.sts().GetCallerIdentity(cctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return settings.Identity{}, wrap("get caller identity", err)
	}
	arn := aws.ToString(out.Arn)
	return settings.Identity{
		Account:      aws.ToString(out.Account),
		ARN:          arn,
		PrincipalARN: principalARN(arn),
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
