package aws

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/s3baseline/s3baseline/settings"
)

// listPageSize is the max-buckets of every ListBuckets page: the largest
// the S3 API Reference allows (1 to 10,000), and the page S3 itself applies
// when a paginated request leaves max-buckets out. Pages come one after
// another, each token from the answer before, so the fewest pages list a
// large account fastest; one at the default quota lists in one call.
const listPageSize = 10000

const headerBucketRegion = "X-Amz-Bucket-Region"

// ListBuckets lists every bucket of the account with its home region, in
// S3's (name) order. It always pages: unpaginated ListBuckets is rejected
// for accounts whose quota is above 10,000 buckets, and only a request
// with a parameter gets BucketRegion per bucket (S3 API Reference,
// ListBuckets and Bucket). A bucket listed without one, as from an
// S3-compatible service, costs a HeadBucket; those run in parallel.
func (p *Provider) ListBuckets(ctx context.Context) ([]settings.BucketRef, error) {
	client := p.s3Client(p.region)
	refs, err := p.listAllBuckets(ctx, client)
	if err != nil {
		return nil, err
	}
	if err := p.fillRegions(ctx, client, refs); err != nil {
		return nil, err
	}
	// A bucket left without a region was deleted since it was listed.
	return slices.DeleteFunc(refs, func(r settings.BucketRef) bool { return r.Region == "" }), nil
}

// listAllBuckets follows ListBuckets' continuation tokens to the end.
func (p *Provider) listAllBuckets(ctx context.Context, client *s3.Client) ([]settings.BucketRef, error) {
	pageSize := p.opts.listPageSize
	if pageSize <= 0 {
		pageSize = listPageSize
	}
	pages := s3.NewListBucketsPaginator(client, &s3.ListBucketsInput{MaxBuckets: aws.Int32(pageSize)})
	var refs []settings.BucketRef
	for pages.HasMorePages() {
		cctx, cancel := p.call(ctx)
		page, err := pages.NextPage(cctx)
		cancel()
		if err != nil {
			return nil, wrap("list buckets", err)
		}
		if page.Owner != nil {
			p.noteOwner(aws.ToString(page.Owner.ID))
		}
		for _, b := range page.Buckets {
			refs = append(refs, settings.BucketRef{Name: aws.ToString(b.Name), Region: aws.ToString(b.BucketRegion)})
		}
	}
	return refs, nil
}

// fillRegions finds the region of each ref listed without one, with at
// most p.concurrency HeadBucket calls at once, in place so the list keeps
// its order. A bucket gone since it was listed keeps Region "". The first
// failure stops the workers taking more buckets and is returned.
func (p *Provider) fillRegions(ctx context.Context, client *s3.Client, refs []settings.BucketRef) error {
	var missing []int
	for i, r := range refs {
		if r.Region == "" {
			missing = append(missing, i)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return p.fanOut(ctx, len(missing), func(ctx context.Context, k int) error {
		i := missing[k]
		region, err := p.bucketRegion(ctx, client, refs[i].Name)
		if err != nil {
			return wrap(fmt.Sprintf("list buckets: find region of bucket %q", refs[i].Name), err)
		}
		refs[i].Region = region
		return nil
	})
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

// Codes CreateBucket answers for a name that is taken.
const (
	codeBucketAlreadyOwnedByYou = "BucketAlreadyOwnedByYou"
)

// CreateBucket creates the bucket in ref.Region. It is idempotent: a bucket
// the caller already owns in that region is (false, nil). S3 says so with
// 409 BucketAlreadyOwnedByYou everywhere except us-east-1, which answers a
// re-create with 200 for legacy reasons, so whether the bucket exists is
// asked first with HeadBucket. A bucket of that name in another region is
// an error: the caller wanted it in ref.Region. A new bucket comes with
// S3's defaults since 2023: all four Block Public Access flags on,
// BucketOwnerEnforced, SSE-S3.
//
// created is true when this call made the bucket. A CreateBucket whose
// answer was lost and was retried reads as already owned, (false, nil).
func (p *Provider) CreateBucket(ctx context.Context, ref settings.BucketRef) (created bool, err error) {
	region := p.refRegion(ref)
	op := "create bucket in " + region
	client := p.s3Client(region)

	found, err := p.headOwnBucket(ctx, client, ref.Name, region)
	if err != nil || found == bucketHere {
		return false, wrap(op, err)
	}
	in := &s3.CreateBucketInput{Bucket: aws.String(ref.Name)}
	if region != "us-east-1" {
		// us-east-1 is the default location and refuses being named.
		in.CreateBucketConfiguration = &types.CreateBucketConfiguration{LocationConstraint: types.BucketLocationConstraint(region)}
	}
	err = p.run(ctx, op, func(ctx context.Context) error {
		_, err := client.CreateBucket(ctx, in)
		return err
	})
	switch {
	case hasCode(err, codeBucketAlreadyOwnedByYou):
		created = false // made by someone else of this account meanwhile
	case err != nil:
		return false, err
	default:
		created = true
	}
	// A new bucket takes a moment to be visible everywhere; the writes
	// that follow would otherwise meet NoSuchBucket.
	mismatch, err := p.settle(ctx, func(ctx context.Context) (string, error) {
		// Forbidden counts as there: the name is taken, and it is ours.
		found, err := p.headOwnBucket(ctx, client, ref.Name, region)
		if err != nil || found != bucketMissing {
			return "", err
		}
		return "the bucket is not there yet", nil
	})
	if err != nil {
		return created, wrap("verify bucket", err)
	}
	if mismatch != "" {
		return created, fmt.Errorf("verify bucket: created, but %s", mismatch)
	}
	return created, nil
}

// What HeadBucket says of a bucket name in a region.
type headResult int

const (
	bucketMissing   headResult = iota // 404
	bucketHere                        // 200: the caller's, in this region
	bucketForbidden                   // 403: another account's, or no s3:ListBucket
)

// headOwnBucket asks HeadBucket about the bucket in region. A bucket of
// that name in another region is an error naming that region.
func (p *Provider) headOwnBucket(ctx context.Context, client *s3.Client, bucket, region string) (headResult, error) {
	cctx, cancel := p.call(ctx)
	defer cancel()
	_, err := client.HeadBucket(cctx, &s3.HeadBucketInput{Bucket: aws.String(bucket)})
	if err == nil {
		return bucketHere, nil
	}
	if other := responseHeader(err, headerBucketRegion); other != "" && other != region {
		return bucketMissing, fmt.Errorf("bucket %q already exists in region %s", bucket, other)
	}
	switch responseStatus(err) {
	case http.StatusNotFound:
		return bucketMissing, nil
	case http.StatusForbidden:
		// CreateBucket then says which: BucketAlreadyExists, AccessDenied.
		return bucketForbidden, nil
	}
	return bucketMissing, wrap("head bucket", err)
}
