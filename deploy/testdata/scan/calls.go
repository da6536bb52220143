// Package scan is input for TestDeriveCallsSeesEveryForm: one of each form
// of AWS call deriveCalls must see. It is never built.
package scan

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	s3api "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func calls(ctx context.Context, c *s3api.Client, ctl *s3control.Client, st *sts.Client) {
	c.GetBucketAcl(ctx, &s3api.GetBucketAclInput{})                       // pointer literal, renamed import
	ctl.PutPublicAccessBlock(ctx, &s3control.PutPublicAccessBlockInput{}) // S3 Control
	in := s3api.PutBucketPolicyInput{}                                    // value literal
	c.PutBucketPolicy(ctx, &in)
	_ = s3api.NewListObjectsV2Paginator(c, nil)   // paginator with a nil input
	_ = s3api.NewBucketExistsWaiter(c)            // waiter
	_ = s3api.NewObjectExistsWaiter(c)            // unknown waiter: reported
	_ = stscreds.NewAssumeRoleProvider(st, "arn") // credentials
	_ = types.PublicAccessBlockConfiguration{}    // a type, no call
	st.GetCallerIdentity(ctx, nil)                // nil input: reported
	_ = helper(ctx, nil)                          // not a method: ignored
}

func helper(context.Context, any) error { return nil }
