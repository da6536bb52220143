package aws

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/s3baseline/s3baseline/settings"
)

// findLogging reads the bucket's server access logging; (nil, nil) when it
// is off, which S3 says with a 200 and no LoggingEnabled (aws-semantics §2).
// The key format is kept as S3 returned it: "" for no
// TargetObjectKeyFormat, which S3 applies as the simple one (comparisons
// use settings.SameLogging), so that writing it back leaves it exactly so.
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
	}
	switch f := le.TargetObjectKeyFormat; {
	case f == nil:
	case f.PartitionedPrefix != nil:
		l.KeyFormat = settings.KeyFormatPartitioned
		l.PartitionDateSource = string(f.PartitionedPrefix.PartitionDateSource)
	default:
		l.KeyFormat = settings.KeyFormatSimple
	}
	return l, nil
}

// PutLogging writes the bucket's server access logging whole, or turns it
// off with an empty BucketLoggingStatus when v is nil (S3 has no Delete for
// it). The partitioned key format is sent as
// PartitionedPrefix with its date source (none given: S3's default,
// EventTime), the simple one as SimplePrefix; an empty KeyFormat sends no
// format, which S3 takes as simple. No TargetGrants are sent: they are
// impossible under BucketOwnerEnforced, and delivery is granted by the
// target's bucket policy, which must be in place first, or S3 refuses with
// InvalidTargetBucketForLogging (aws-semantics §2).
func (p *Provider) PutLogging(ctx context.Context, ref settings.BucketRef, v *settings.Logging) error {
	const op = "put bucket logging"
	status := &types.BucketLoggingStatus{}
	if v != nil {
		le := &types.LoggingEnabled{TargetBucket: aws.String(v.TargetBucket), TargetPrefix: aws.String(v.TargetPrefix)}
		switch v.KeyFormat {
		case settings.KeyFormatPartitioned:
			le.TargetObjectKeyFormat = &types.TargetObjectKeyFormat{
				PartitionedPrefix: &types.PartitionedPrefix{PartitionDateSource: types.PartitionDateSource(v.PartitionDateSource)},
			}
		case settings.KeyFormatSimple, "":
			if v.PartitionDateSource != "" {
				return fmt.Errorf("%s: partition date source %q needs the %s key format", op, v.PartitionDateSource, settings.KeyFormatPartitioned)
			}
			if v.KeyFormat == settings.KeyFormatSimple {
				le.TargetObjectKeyFormat = &types.TargetObjectKeyFormat{SimplePrefix: &types.SimplePrefix{}}
			}
		default:
			return fmt.Errorf("%s: unknown key format %q (want %s or %s)", op, v.KeyFormat, settings.KeyFormatSimple, settings.KeyFormatPartitioned)
		}
		status.LoggingEnabled = le
	}
	client := p.bucketClient(ref)
	err := p.run(ctx, op, func(ctx context.Context) error {
		_, err := client.PutBucketLogging(ctx, &s3.PutBucketLoggingInput{Bucket: aws.String(ref.Name), BucketLoggingStatus: status})
		return err
	})
	if err != nil {
		return err
	}
	// No read-back: "changes to the logging status for a bucket are
	// visible in the configuration API immediately" (AWS SDK for Java
	// reference, SetBucketLoggingConfigurationRequest), and S3 stores the
	// target, prefix and key format as sent. The other writes are read back:
	// S3 rewrites a policy's principals and fills in notification Ids, SSE-C
	// blocking has account defaults, and other bucket configurations are
	// eventually consistent (versioning takes up to 15 minutes).
	return nil
}
