package aws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
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
