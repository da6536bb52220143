package aws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/s3baseline/s3baseline/settings"
)

// codeNoSuchPublicAccessBlock is S3's and S3 Control's answer when Block
// Public Access was never set or was deleted (aws-semantics §1).
const codeNoSuchPublicAccessBlock = "NoSuchPublicAccessBlockConfiguration"

// findPublicAccessBlock reads the bucket's Block Public Access flags;
// (nil, nil) when none are configured, as on buckets created before 2023.
func findPublicAccessBlock(ctx context.Context, client *s3.Client, bucket string) (*settings.PublicAccessBlock, error) {
	out, err := client.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(bucket)})
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

// PutPublicAccessBlock writes the bucket's four Block Public Access flags
// whole, or deletes the configuration when v is nil, and reads it back.
// All four flags are always sent, false ones included: the Put replaces the
// whole configuration, a flag left out is off, and a body without any flag
// is refused with InvalidRequest (aws-semantics §1, the Go v2 *bool
// pitfall). Deciding to Delete rather than Put all-false is the caller's.
func (p *Provider) PutPublicAccessBlock(ctx context.Context, ref settings.BucketRef, v *settings.PublicAccessBlock) error {
	client := p.bucketClient(ref)
	bucket := aws.String(ref.Name)
	var err error
	if v == nil {
		err = p.run(ctx, "delete public access block", func(ctx context.Context) error {
			_, err := client.DeletePublicAccessBlock(ctx, &s3.DeletePublicAccessBlockInput{Bucket: bucket})
			if hasCode(err, codeNoSuchPublicAccessBlock) {
				return nil // already absent
			}
			return err
		})
	} else {
		err = p.run(ctx, "put public access block", func(ctx context.Context) error {
			_, err := client.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{
				Bucket: bucket,
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
	return verify(ctx, p, "public access block", v, func(ctx context.Context) (*settings.PublicAccessBlock, error) {
		return findPublicAccessBlock(ctx, client, ref.Name)
	}, equalPtr[settings.PublicAccessBlock])
}
