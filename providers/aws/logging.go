package aws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/s3baseline/s3baseline/settings"
)

// findLogging reads the bucket's server access logging; (nil, nil) when it
// is off, which S3 says with a 200 and no LoggingEnabled (aws-semantics §2).
// The key format is normalised the way S3 applies it: no format is the
// simple one, and a partitioned format without a source uses EventTime.
func findLogging(ctx context.Context, client *s3.Client, bucket string) (*settings.Logging, error) {
	out, err := client.GetBucketLogging(ctx, &s3.GetBucketLoggingInput{Bucket: aws.String(bucket)})
	if err != nil {
		return nil, err
	}
	le := out.LoggingEnabled
	if le == nil {
		return nil, nil
	}
	l := &settings.Logging{
		TargetBucket: aws.ToString(le.TargetBucket),
		TargetPrefix: aws.ToString(le.TargetPrefix),
		KeyFormat:    settings.KeyFormatSimple,
	}
	if f := le.TargetObjectKeyFormat; f != nil && f.PartitionedPrefix != nil {
		l.KeyFormat = settings.KeyFormatPartitioned
		l.PartitionDateSource = string(f.PartitionedPrefix.PartitionDateSource)
		if l.PartitionDateSource == "" {
			l.PartitionDateSource = settings.EventTime
		}
	}
	return l, nil
}
