package aws

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/s3baseline/s3baseline/settings"
)

// codeKMSNotFound answers a key id, ARN or alias that does not exist in the
// region.
const codeKMSNotFound = "NotFoundException"

type keyCacheKey struct{ region, ref string }

// keyCall is one DescribeKey, shared by everyone asking for the same key;
// done is closed once info and err are set.
type keyCall struct {
	done chan struct{}
	info settings.KeyInfo
	err  error
}

// keyCache remembers DescribeKey answers per (region, ref) for the life of
// the Provider: many buckets name the same key, and a plan must not make
// one KMS call per bucket. Failures are not kept, so a later caller retries.
type keyCache struct {
	mu    sync.Mutex
	calls map[keyCacheKey]*keyCall
}

// DescribeKey describes the KMS key ref (alias, alias ARN, key id or key
// ARN) in region. A key that does not exist is KeyInfo{Exists: false} with
// no error. Concurrent callers for the same key share one KMS call.
func (p *Provider) DescribeKey(ctx context.Context, region, ref string) (settings.KeyInfo, error) {
	k := keyCacheKey{region: region, ref: ref}
	p.keys.mu.Lock()
	c, ok := p.keys.calls[k]
	if !ok {
		c = &keyCall{done: make(chan struct{})}
		p.keys.calls[k] = c
		// The call runs detached from this caller's context so that one
		// caller giving up does not fail the others waiting on it; the call
		// timeout still bounds it.
		go p.describeKey(context.WithoutCancel(ctx), k, c)
	}
	p.keys.mu.Unlock()

	select {
	case <-c.done:
		return c.info, c.err
	case <-ctx.Done():
		return settings.KeyInfo{}, wrap("describe key "+ref, ctx.Err())
	}
}

func (p *Provider) describeKey(ctx context.Context, k keyCacheKey, c *keyCall) {
	defer close(c.done)
	c.info, c.err = p.fetchKey(ctx, k.region, k.ref)
	if c.err != nil {
		p.keys.mu.Lock()
		delete(p.keys.calls, k)
		p.keys.mu.Unlock()
	}
}

func (p *Provider) fetchKey(ctx context.Context, region, ref string) (settings.KeyInfo, error) {
	cctx, cancel := p.call(ctx)
	defer cancel()
	info, err := findKey(cctx, p.kms(region), ref)
	if err != nil {
		return settings.KeyInfo{}, wrap("describe key "+ref+" in "+region, err)
	}
	return info, nil
}

// findKey describes ref; Exists is false when KMS does not know it.
func findKey(ctx context.Context, client *kms.Client, ref string) (settings.KeyInfo, error) {
	out, err := client.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(ref)})
	if hasCode(err, codeKMSNotFound) {
		return settings.KeyInfo{Ref: ref}, nil
	}
	if err != nil {
		return settings.KeyInfo{}, err
	}
	info := settings.KeyInfo{Ref: ref, Exists: out.KeyMetadata != nil}
	if m := out.KeyMetadata; m != nil {
		info.ARN = aws.ToString(m.Arn)
		info.KeyID = aws.ToString(m.KeyId)
		info.Enabled = m.Enabled
		info.Manager = string(m.KeyManager)
		// S3 accepts only symmetric keys (aws-semantics §3).
		info.Symmetric = m.KeySpec == types.KeySpecSymmetricDefault
	}
	return info, nil
}
