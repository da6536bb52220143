package aws

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/s3baseline/s3baseline/settings"
)

// directoryKey keys the directory bucket clients apart from the general
// purpose ones in the S3 client cache.
const directoryKey = "directory:"

// s3DirectoryClient is the S3 client of a region for directory buckets
// (S3 Express One Zone). Their bucket-level calls (ListDirectoryBuckets,
// Get/PutBucketEncryption, the bucket policy) are Regional endpoint calls
// that need no CreateSession, so session auth is off: with it on, the SDK
// asks for a session first, and ListDirectoryBuckets, which names no
// bucket, cannot get one.
func (p *Provider) s3DirectoryClient(region string) *s3.Client {
	return cached(p, p.s3Clients, directoryKey+region, func() *s3.Client {
		return s3.NewFromConfig(p.cfg, func(o *s3.Options) {
			o.Region, o.BaseEndpoint = region, p.baseEndpoint(o.BaseEndpoint)
			o.UsePathStyle = o.BaseEndpoint != nil
			o.DisableS3ExpressSessionAuth = aws.Bool(true)
		})
	})
}

// ListDirectoryBuckets lists the account's directory buckets in each
// region (ListBuckets does not list them).
func (p *Provider) ListDirectoryBuckets(ctx context.Context, regions []string) ([]settings.BucketRef, error) {
	var out []settings.BucketRef
	for _, region := range regions {
		pages := s3.NewListDirectoryBucketsPaginator(p.s3DirectoryClient(region), &s3.ListDirectoryBucketsInput{})
		for pages.HasMorePages() {
			cctx, cancel := p.call(ctx)
			page, err := pages.NextPage(cctx)
			cancel()
			if err != nil {
				return nil, wrap(fmt.Sprintf("list directory buckets in %s", region), err)
			}
			for _, b := range page.Buckets {
				out = append(out, settings.BucketRef{Name: aws.ToString(b.Name), Region: region})
			}
		}
	}
	return out, nil
}

// DirectoryBucketEncryption reads a directory bucket's default encryption.
func (p *Provider) DirectoryBucketEncryption(ctx context.Context, ref settings.BucketRef) (*settings.Encryption, error) {
	cctx, cancel := p.call(ctx)
	defer cancel()
	enc, err := findEncryption(cctx, p.s3DirectoryClient(ref.Region), ref.Name)
	if err != nil {
		return nil, wrap("get bucket encryption", err)
	}
	return enc, nil
}
