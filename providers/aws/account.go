package aws

import (
	"context"

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
