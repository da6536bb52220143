package aws

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/s3baseline/s3baseline/settings"
)

// The "not configured" answers of Object Lock and lifecycle (S3 API
// Reference, "Error codes").
const (
	codeNoObjectLock = "ObjectLockConfigurationNotFoundError"
	codeNoLifecycle  = "NoSuchLifecycleConfiguration"
)

// findVersioning reads the bucket's versioning state; (nil, nil) when
// versioning was never enabled (GetBucketVersioning returns no Status).
func findVersioning(ctx context.Context, client *s3.Client, bucket string) (*settings.VersioningConfig, error) {
	out, err := client.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
	if err != nil {
		return nil, err
	}
	if out.Status == "" {
		return nil, nil
	}
	return &settings.VersioningConfig{Status: string(out.Status), MFADelete: out.MFADelete == types.MFADeleteStatusEnabled}, nil
}

// errNeverEnabled refuses a write that would take a bucket back to "never
// versioned": S3 has no such request.
var errNeverEnabled = errors.New("S3 cannot return a bucket to never versioned; suspend it instead")

// PutVersioning sets the bucket's versioning status and reads it back. It
// never sends MfaDelete, so S3 keeps the bucket's MFA delete state (the
// request would otherwise need the root user's x-amz-mfa). A nil v is
// refused: S3 can only suspend versioning.
func (p *Provider) PutVersioning(ctx context.Context, ref settings.BucketRef, v *settings.VersioningConfig) error {
	if v == nil {
		return errNeverEnabled
	}
	client := p.bucketClient(ref)
	err := p.run(ctx, "put bucket versioning", func(ctx context.Context) error {
		_, err := client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
			Bucket:                  aws.String(ref.Name),
			VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatus(v.Status)},
		})
		return err
	})
	if err != nil {
		return err
	}
	return verify(ctx, p, "bucket versioning", v, func(ctx context.Context) (*settings.VersioningConfig, error) {
		return findVersioning(ctx, client, ref.Name)
	}, func(a, b *settings.VersioningConfig) bool {
		// MFA delete is S3's to keep; only the status was written.
		return a != nil && b != nil && a.Status == b.Status
	})
}

// findObjectLock reads the bucket's Object Lock configuration; (nil, nil)
// when there is none.
func findObjectLock(ctx context.Context, client *s3.Client, bucket string) (*settings.ObjectLockConfig, error) {
	out, err := client.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: aws.String(bucket)})
	if hasCode(err, codeNoObjectLock) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c := out.ObjectLockConfiguration
	if c == nil {
		return nil, nil
	}
	ol := &settings.ObjectLockConfig{Enabled: c.ObjectLockEnabled == types.ObjectLockEnabledEnabled}
	if c.Rule != nil && c.Rule.DefaultRetention != nil {
		r := c.Rule.DefaultRetention
		ol.Mode, ol.Days, ol.Years = string(r.Mode), aws.ToInt32(r.Days), aws.ToInt32(r.Years)
	}
	return ol, nil
}

// findLifecycle reads a summary of the bucket's lifecycle rules; (nil, nil)
// when it has none.
func findLifecycle(ctx context.Context, client *s3.Client, bucket string) (*settings.LifecycleConfig, error) {
	out, err := client.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(bucket)})
	if hasCode(err, codeNoLifecycle) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	lc := &settings.LifecycleConfig{Rules: []settings.LifecycleRule{}}
	for _, r := range out.Rules {
		lc.Rules = append(lc.Rules, settings.LifecycleRule{
			ID:                   aws.ToString(r.ID),
			Enabled:              r.Status == types.ExpirationStatusEnabled,
			Expiration:           r.Expiration != nil,
			NoncurrentExpiration: r.NoncurrentVersionExpiration != nil,
			Transition:           len(r.Transitions) > 0 || len(r.NoncurrentVersionTransitions) > 0,
			AbortIncomplete:      r.AbortIncompleteMultipartUpload != nil,
		})
	}
	return lc, nil
}
