package aws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
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
