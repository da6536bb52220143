package aws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/s3baseline/s3baseline/settings"
)

// codeNoOwnershipControls answers a bucket that has no Object Ownership
// setting, which S3 treats as ObjectWriter (aws-semantics §5).
const codeNoOwnershipControls = "OwnershipControlsNotFoundError"

// findOwnership reads the bucket's Object Ownership rule; (nil, nil) when
// none is set.
func findOwnership(ctx context.Context, client *s3.Client, bucket string) (*settings.Ownership, error) {
	out, err := client.GetBucketOwnershipControls(ctx, &s3.GetBucketOwnershipControlsInput{Bucket: aws.String(bucket)})
	if hasCode(err, codeNoOwnershipControls) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if out.OwnershipControls == nil || len(out.OwnershipControls.Rules) == 0 {
		return nil, nil
	}
	// S3 allows exactly one rule.
	return &settings.Ownership{Rule: string(out.OwnershipControls.Rules[0].ObjectOwnership)}, nil
}

// PutOwnership writes the bucket's Object Ownership rule, or deletes the
// ownership controls when v is nil (S3 then treats the bucket as
// ObjectWriter), and reads it back. Enforcing BucketOwnerEnforced fails
// while the bucket ACL grants others; that error is returned as is.
func (p *Provider) PutOwnership(ctx context.Context, ref settings.BucketRef, v *settings.Ownership) error {
	client := p.bucketClient(ref)
	bucket := aws.String(ref.Name)
	var err error
	if v == nil {
		err = p.run(ctx, "delete bucket ownership controls", func(ctx context.Context) error {
			_, err := client.DeleteBucketOwnershipControls(ctx, &s3.DeleteBucketOwnershipControlsInput{Bucket: bucket})
			if hasCode(err, codeNoOwnershipControls) {
				return nil // already absent
			}
			return err
		})
	} else {
		err = p.run(ctx, "put bucket ownership controls", func(ctx context.Context) error {
			_, err := client.PutBucketOwnershipControls(ctx, &s3.PutBucketOwnershipControlsInput{
				Bucket: bucket,
				OwnershipControls: &types.OwnershipControls{
					Rules: []types.OwnershipControlsRule{{ObjectOwnership: types.ObjectOwnership(v.Rule)}},
				},
			})
			return err
		})
	}
	if err != nil {
		return err
	}
	return verify(ctx, p, "bucket ownership controls", v, func(ctx context.Context) (*settings.Ownership, error) {
		return findOwnership(ctx, client, ref.Name)
	}, equalPtr[settings.Ownership])
}
