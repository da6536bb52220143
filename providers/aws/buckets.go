package aws

import (
	"context"
	"fmt"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/s3baseline/s3baseline/settings"
)

// listPageSize keeps pages small enough to answer quickly while an account
// at the default quota of 10,000 buckets still lists in ten calls.
const listPageSize = 1000

const headerBucketRegion = "X-Amz-Bucket-Region"

// ListBuckets lists every bucket of the account with its home region. The
// listing is paginated, which also makes S3 return each bucket's region;
// only a bucket listed without one costs a HeadBucket.
func (p *Provider) ListBuckets(ctx context.Context) ([]settings.BucketRef, error) {
	client := p.s3Client(p.region)
	pages := s3.NewListBucketsPaginator(client, &s3.ListBucketsInput{MaxBuckets: aws.Int32(listPageSize)})
	var refs []settings.BucketRef
	for pages.HasMorePages() {
		cctx, cancel := p.call(ctx)
		page, err := pages.NextPage(cctx)
		cancel()
		if err != nil {
			return nil, wrap("list buckets", err)
		}
		for _, b := range page.Buckets {
			refs = append(refs, settings.BucketRef{Name: aws.ToString(b.Name), Region: aws.ToString(b.BucketRegion)})
		}
	}

	out := refs[:0]
	for _, r := range refs {
		if r.Region == "" {
			region, err := p.bucketRegion(ctx, client, r.Name)
			if err != nil {
				return nil, wrap(fmt.Sprintf("list buckets: find region of bucket %q", r.Name), err)
			}
			if region == "" {
				continue // deleted since it was listed
			}
			r.Region = region
		}
		out = append(out, r)
	}
	return out, nil
}

// bucketRegion asks S3 for a bucket's region with HeadBucket, whose
// x-amz-bucket-region header comes back on a 200, and on the 301 and 403 a
// client of another region or without read access gets. GetBucketLocation
// is no help: it is authorised only in the home region. "" with no error
// means the bucket no longer exists.
func (p *Provider) bucketRegion(ctx context.Context, client *s3.Client, bucket string) (string, error) {
	cctx, cancel := p.call(ctx)
	defer cancel()
	out, err := client.HeadBucket(cctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
	if err == nil {
		if r := aws.ToString(out.BucketRegion); r != "" {
			return r, nil
		}
		return "", fmt.Errorf("head bucket: no %s header", headerBucketRegion)
	}
	if r := responseHeader(err, headerBucketRegion); r != "" {
		return r, nil
	}
	if responseStatus(err) == http.StatusNotFound {
		return "", nil
	}
	return "", wrap("head bucket", err)
}
