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

// PutPolicy writes v.Raw verbatim as the bucket policy, or deletes the
// policy when v is nil, and reads it back. S3 replaces the whole policy, so
// v must already hold every foreign statement (aws-semantics §4). AWS does
// not give back the text it was sent (whitespace, account ids become root
// ARNs, one-element lists become scalars), so the read-back compares the
// parsed, normalised documents.
func (p *Provider) PutPolicy(ctx context.Context, ref settings.BucketRef, v *settings.Policy) error {
	client := p.bucketClient(ref)
	bucket := aws.String(ref.Name)
	var err error
	if v == nil {
		err = p.run(ctx, "delete bucket policy", func(ctx context.Context) error {
			_, err := client.DeleteBucketPolicy(ctx, &s3.DeleteBucketPolicyInput{Bucket: bucket})
			if hasCode(err, codeNoSuchBucketPolicy) {
				return nil
			}
			return err
		})
	} else {
		err = p.run(ctx, "put bucket policy", func(ctx context.Context) error {
			_, err := client.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: bucket, Policy: aws.String(v.Raw)})
			return err
		})
	}
	if err != nil {
		return err
	}
	return verify(ctx, p, "bucket policy", v, func(ctx context.Context) (*settings.Policy, error) {
		return findPolicy(ctx, client, ref.Name)
	}, func(want, got *settings.Policy) bool {
		if want == nil || got == nil {
			return want == nil && got == nil
		}
		return samePolicy(want.Raw, got.Raw)
	})
}

// samePolicy reports whether two policy texts mean the same: the same
// version and id, and the same statements (each Sid with an equivalent
// statement), in any order. Text that does not parse is compared as is.
func samePolicy(a, b string) bool {
	da, errA := settings.ParsePolicy(a)
	db, errB := settings.ParsePolicy(b)
	if errA != nil || errB != nil {
		return compactText(a) == compactText(b)
	}
	if da.Version != db.Version || da.ID != db.ID || len(da.Statements) != len(db.Statements) {
		return false
	}
	used := make([]bool, len(db.Statements))
next:
	for _, s := range da.Statements {
		for i, o := range db.Statements {
			if !used[i] && s.Sid == o.Sid && s.Equivalent(o) {
				used[i] = true
				continue next
			}
		}
		return false
	}
	return true
}
