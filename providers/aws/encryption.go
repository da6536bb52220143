package aws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/s3baseline/s3baseline/settings"
)

// codeNoEncryption answers only legacy buckets: since 2023 every bucket has
// at least SSE-S3 (aws-semantics §3).
const codeNoEncryption = "ServerSideEncryptionConfigurationNotFoundError"

// awsManagedS3Key is the key S3 uses for aws:kms when no key is named.
const awsManagedS3Key = "alias/aws/s3"

// findEncryption reads the bucket's default encryption rule, with the key id
// exactly as S3 stores it (KeyARN is left for the caller to resolve);
// (nil, nil) when a legacy bucket has none.
func findEncryption(ctx context.Context, client *s3.Client, bucket string) (*settings.Encryption, error) {
	out, err := client.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: aws.String(bucket)})
	if hasCode(err, codeNoEncryption) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	c := out.ServerSideEncryptionConfiguration
	if c == nil || len(c.Rules) == 0 {
		return nil, nil
	}
	// S3 accepts exactly one rule (two are MalformedXML).
	rule := c.Rules[0]
	enc := &settings.Encryption{BucketKeyEnabled: aws.ToBool(rule.BucketKeyEnabled)}
	if d := rule.ApplyServerSideEncryptionByDefault; d != nil {
		enc.Algorithm = string(d.SSEAlgorithm)
		enc.KMSKeyID = aws.ToString(d.KMSMasterKeyID)
	}
	return enc, nil
}

// encryptionKeyRef is the key to resolve for enc: the stored id, or the
// AWS-managed aws/s3 key that aws:kms without an id means; "" for SSE-S3.
func encryptionKeyRef(enc *settings.Encryption) string {
	if enc == nil {
		return ""
	}
	switch enc.Algorithm {
	case settings.SSEKMS, settings.SSEKMSDSS:
		if enc.KMSKeyID == "" {
			return awsManagedS3Key
		}
		return enc.KMSKeyID
	}
	return ""
}
