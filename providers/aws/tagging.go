package aws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// codeNoSuchTagSet answers a bucket without tags.
const codeNoSuchTagSet = "NoSuchTagSet"

// findTags reads the bucket's tags; an empty, non-nil map when it has none.
func findTags(ctx context.Context, client *s3.Client, bucket string) (map[string]string, error) {
	out, err := client.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: aws.String(bucket)})
	if hasCode(err, codeNoSuchTagSet) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	tags := make(map[string]string, len(out.TagSet))
	for _, t := range out.TagSet {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return tags, nil
}
