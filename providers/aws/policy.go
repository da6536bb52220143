package aws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/s3baseline/s3baseline/settings"
)

// codeNoSuchBucketPolicy answers a bucket without a policy (aws-semantics §4).
const codeNoSuchBucketPolicy = "NoSuchBucketPolicy"

// findPolicy reads the bucket policy as the exact text S3 returned, so a
// merge keeps foreign statements byte for byte and a rollback can put the
// very same document back; (nil, nil) when there is none.
func findPolicy(ctx context.Context, client *s3.Client, bucket string) (*settings.Policy, error) {
	out, err := client.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(bucket)})
	if hasCode(err, codeNoSuchBucketPolicy) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if out.Policy == nil {
		return nil, nil
	}
	return &settings.Policy{Raw: *out.Policy}, nil
}
