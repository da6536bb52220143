package aws

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Objects: the few object calls a journal kept in S3 needs. Conditional
// writes make it safe for several runs to share a bucket: If-None-Match
// creates a key only once, If-Match replaces or deletes only the version the
// caller read (aws-semantics §13, AWS-doc "Add preconditions to S3 operations
// with conditional requests").

var (
	// ErrPreconditionFailed: a conditional PutObject or DeleteObject did
	// not happen because the object was not in the state the condition
	// named: S3's 412 PreconditionFailed, its 409 ConditionalRequestConflict
	// (another write finished while this one was in flight), or an If-Match
	// on a key that does not exist (then ErrObjectNotFound matches too).
	ErrPreconditionFailed = errors.New("precondition failed")
	// ErrObjectNotFound: the key does not exist (404 NoSuchKey).
	ErrObjectNotFound = errors.New("object not found")
)

// Codes S3 answers for objects and conditions.
const (
	codeNoSuchKey                  = "NoSuchKey"
	codePreconditionFailed         = "PreconditionFailed"
	codeConditionalRequestConflict = "ConditionalRequestConflict"
)

// maxObjectSize bounds what GetObject reads into memory: journal objects
// are small, and an object far beyond this is not one.
const maxObjectSize = 64 << 20

// PutCondition is the precondition of a PutObject. The zero value writes
// unconditionally.
type PutCondition struct {
	// IfNoneMatch writes only if the key does not exist (If-None-Match: *).
	IfNoneMatch bool
	// IfMatch writes only if the object's current ETag is this one (as
	// PutObject or GetObject returned it, quoted or not).
	IfMatch string
}

// PutObject stores body under key in bucket (in the bucket's own region,
// whatever it is) and returns the new object's ETag as S3 sends it
// (quoted). A condition that does not hold is an error for which
// errors.Is(err, ErrPreconditionFailed) is true; nothing was written then.
//
// The SDK retries a write whose answer was lost (a timeout, a 5xx). If the
// first attempt had in fact succeeded, the retry of a conditional write
// meets its own object and reports ErrPreconditionFailed; a caller that must
// tell the two apart reads the object back and compares.
func (p *Provider) PutObject(ctx context.Context, bucket, key string, body []byte, cond PutCondition) (string, error) {
	op := "put object " + objectURL(bucket, key)
	if cond.IfNoneMatch && cond.IfMatch != "" {
		return "", fmt.Errorf("%s: a condition is either IfNoneMatch or IfMatch, not both", op)
	}
	in := &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if cond.IfNoneMatch {
		in.IfNoneMatch = aws.String("*")
	}
	if cond.IfMatch != "" {
		in.IfMatch = aws.String(cond.IfMatch)
	}
	var etag string
	err := p.onBucket(ctx, bucket, func(ctx context.Context, client *s3.Client) error {
		// A fresh reader for each region tried (the SDK rewinds it for
		// its own retries).
		in.Body = bytes.NewReader(body)
		out, err := client.PutObject(ctx, in)
		if err == nil {
			etag = aws.ToString(out.ETag)
		}
		return err
	})
	switch {
	case err == nil:
		return etag, nil
	case hasCode(err, codePreconditionFailed, codeConditionalRequestConflict):
		return "", wrap(op, classify(err, ErrPreconditionFailed))
	case cond.IfMatch != "" && hasCode(err, codeNoSuchKey):
		// If-Match on a missing key: S3 answers 404 NoSuchKey.
		return "", wrap(op, classify(err, ErrPreconditionFailed, ErrObjectNotFound))
	}
	return "", wrap(op, err)
}

// CreateObject stores body under key only if the key does not exist
// (If-None-Match: *): created is false, with no error, when it existed (or
// when the SDK's retry of a write that had landed met it; the caller that
// must tell the two apart reads the object back).
func (p *Provider) CreateObject(ctx context.Context, bucket, key string, body []byte) (created bool, err error) {
	_, err = p.PutObject(ctx, bucket, key, body, PutCondition{IfNoneMatch: true})
	if errors.Is(err, ErrPreconditionFailed) {
		return false, nil
	}
	return err == nil, err
}

// GetObject reads an object whole and returns it with its ETag (quoted). A
// missing key is an error for which errors.Is(err, ErrObjectNotFound) is
// true; a missing bucket is not.
func (p *Provider) GetObject(ctx context.Context, bucket, key string) ([]byte, string, error) {
	op := "get object " + objectURL(bucket, key)
	var body []byte
	var etag string
	err := p.onBucket(ctx, bucket, func(ctx context.Context, client *s3.Client) error {
		out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			return err
		}
		defer out.Body.Close()
		b, err := io.ReadAll(io.LimitReader(out.Body, maxObjectSize+1))
		if err != nil {
			return fmt.Errorf("read body: %w", err)
		}
		if len(b) > maxObjectSize {
			return fmt.Errorf("object larger than %d bytes", maxObjectSize)
		}
		body, etag = b, aws.ToString(out.ETag)
		return nil
	})
	if hasCode(err, codeNoSuchKey) {
		return nil, "", wrap(op, classify(err, ErrObjectNotFound))
	}
	if err != nil {
		return nil, "", wrap(op, err)
	}
	return body, etag, nil
}

// DeleteObject deletes an object. ifMatch "" deletes unconditionally, and a
// key that does not exist is then no error (S3 answers 204). Otherwise the
// object is deleted only if its ETag is ifMatch ("*": if it exists); a
// condition that does not hold, an object that changed meanwhile, or a key
// that does not exist are errors for which errors.Is(err,
// ErrPreconditionFailed) is true (ErrObjectNotFound too for the last).
func (p *Provider) DeleteObject(ctx context.Context, bucket, key, ifMatch string) error {
	op := "delete object " + objectURL(bucket, key)
	in := &s3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if ifMatch != "" {
		in.IfMatch = aws.String(ifMatch)
	}
	err := p.onBucket(ctx, bucket, func(ctx context.Context, client *s3.Client) error {
		_, err := client.DeleteObject(ctx, in)
		return err
	})
	switch {
	case err == nil:
		return nil
	case hasCode(err, codePreconditionFailed, codeConditionalRequestConflict):
		return wrap(op, classify(err, ErrPreconditionFailed))
	case ifMatch != "" && hasCode(err, codeNoSuchKey):
		return wrap(op, classify(err, ErrPreconditionFailed, ErrObjectNotFound))
	}
	return wrap(op, err)
}

// ListObjects lists every key under prefix ("" for all), sorted, paging
// through ListObjectsV2.
func (p *Provider) ListObjects(ctx context.Context, bucket, prefix string) ([]string, error) {
	op := "list objects " + objectURL(bucket, prefix)
	var keys []string
	err := p.onBucket(ctx, bucket, func(_ context.Context, client *s3.Client) error {
		keys = keys[:0]
		in := &s3.ListObjectsV2Input{Bucket: aws.String(bucket), MaxKeys: aws.Int32(listPageSize)}
		if prefix != "" {
			in.Prefix = aws.String(prefix)
		}
		pages := s3.NewListObjectsV2Paginator(client, in)
		for pages.HasMorePages() {
			// Each page is one call with its own timeout; the outer
			// context bounds the whole listing.
			cctx, cancel := p.call(ctx)
			page, err := pages.NextPage(cctx)
			cancel()
			if err != nil {
				return err
			}
			for _, o := range page.Contents {
				keys = append(keys, aws.ToString(o.Key))
			}
		}
		return nil
	})
	if err != nil {
		return nil, wrap(op, err)
	}
	slices.Sort(keys)
	return keys, nil
}

// objectURL names an object in messages: s3://bucket/key.
func objectURL(bucket, key string) string { return "s3://" + bucket + "/" + key }

// onBucket runs fn with the S3 client of the bucket's home region, under
// the call timeout. The region is found with HeadBucket once per bucket and
// kept (bucketRegion); a bucket that turns out to live elsewhere (it was
// deleted and made again in another region: S3 answers 301 with
// x-amz-bucket-region, which Go v2 does not follow) is retried once in that
// region. A bucket HeadBucket does not find is addressed in the global
// region, where S3 answers NoSuchBucket.
func (p *Provider) onBucket(ctx context.Context, bucket string, fn func(context.Context, *s3.Client) error) error {
	region, err := p.objectBucketRegion(ctx, bucket)
	if err != nil {
		return fmt.Errorf("find region of bucket %q: %w", bucket, err)
	}
	for attempt := 0; ; attempt++ {
		cctx, cancel := p.call(ctx)
		err = fn(cctx, p.s3Client(region))
		cancel()
		moved := responseHeader(err, headerBucketRegion)
		if err == nil || moved == "" || moved == region || attempt > 0 {
			return err
		}
		region = moved
		p.mu.Lock()
		p.bucketRegions[bucket] = moved
		p.mu.Unlock()
	}
}

// objectBucketRegion is the bucket's home region, asked once and kept.
func (p *Provider) objectBucketRegion(ctx context.Context, bucket string) (string, error) {
	p.mu.Lock()
	region, ok := p.bucketRegions[bucket]
	p.mu.Unlock()
	if ok {
		return region, nil
	}
	region, err := p.bucketRegion(ctx, p.s3Client(p.region), bucket)
	if err != nil {
		return "", err
	}
	if region == "" {
		return p.region, nil // not kept: the bucket may yet be made
	}
	p.mu.Lock()
	p.bucketRegions[bucket] = region
	p.mu.Unlock()
	return region, nil
}
