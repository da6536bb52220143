package aws

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
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
	if b := rule.BlockedEncryptionTypes; b != nil {
		enc.BlockedEncryptionTypes = []string{}
		for _, t := range b.EncryptionType {
			enc.BlockedEncryptionTypes = append(enc.BlockedEncryptionTypes, string(t))
		}
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

// PutEncryption writes the bucket's default encryption rule whole, or
// deletes it when v is nil, which S3 answers by resetting the bucket to
// SSE-S3 (default encryption cannot be turned off since 2023), and reads it
// back.
//
// The key id is sent verbatim whenever it is set, and S3 stores it that
// way: a key ARN is the safe choice, since an alias or bare id resolves in
// the requester's account (aws-semantics §3). A key id with AES256 is sent
// too, so S3 refuses it with InvalidArgument instead of this function
// silently dropping part of what it was asked to write. BucketKeyEnabled is
// sent as given. The read-back compares the algorithm, the key id text and
// the Bucket Key flag.
func (p *Provider) PutEncryption(ctx context.Context, ref settings.BucketRef, v *settings.Encryption) error {
	client := p.bucketClient(ref)
	bucket := aws.String(ref.Name)
	var err error
	if v == nil {
		err = p.run(ctx, "delete bucket encryption", func(ctx context.Context) error {
			_, err := client.DeleteBucketEncryption(ctx, &s3.DeleteBucketEncryptionInput{Bucket: bucket})
			if hasCode(err, codeNoEncryption) {
				return nil
			}
			return err
		})
	} else {
		def := &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryption(v.Algorithm)}
		if v.KMSKeyID != "" {
			def.KMSMasterKeyID = aws.String(v.KMSKeyID)
		}
		rule := types.ServerSideEncryptionRule{
			ApplyServerSideEncryptionByDefault: def,
			BucketKeyEnabled:                   aws.Bool(v.BucketKeyEnabled),
		}
		// The Put replaces the whole rule: an element left out unblocks
		// SSE-C (aws-semantics §13), so it is sent exactly as given.
		if v.BlockedEncryptionTypes != nil {
			rule.BlockedEncryptionTypes = &types.BlockedEncryptionTypes{}
			for _, t := range v.BlockedEncryptionTypes {
				rule.BlockedEncryptionTypes.EncryptionType = append(rule.BlockedEncryptionTypes.EncryptionType, types.EncryptionType(t))
			}
		}
		err = p.run(ctx, "put bucket encryption", func(ctx context.Context) error {
			_, err := client.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{
				Bucket: bucket,
				ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{
					// S3 takes exactly one rule; two are MalformedXML.
					Rules: []types.ServerSideEncryptionRule{rule},
				},
			})
			return err
		})
	}
	if err != nil {
		return err
	}
	return verify(ctx, p, "bucket encryption", v, func(ctx context.Context) (*settings.Encryption, error) {
		return findEncryption(ctx, client, ref.Name)
	}, encryptionWritten)
}

// encryptionWritten reports whether got is what writing want leaves: the
// same rule, blocked encryption types included, or for a delete the SSE-S3
// reset (whatever S3 then says of SSE-C; a legacy bucket's 404 is
// tolerated too). KeyARN is the caller's resolution, not part of the rule.
func encryptionWritten(want, got *settings.Encryption) bool {
	if want == nil {
		return got == nil || (got.Algorithm == settings.SSES3 && got.KMSKeyID == "" && !got.BucketKeyEnabled)
	}
	return settings.SameRule(want, got)
}
