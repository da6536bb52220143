package aws

import (
	"context"
	"fmt"
	"strings"
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

// store puts a known answer for (region, ref) in the cache, replacing any
// earlier one (a "does not exist" from before the key was made, say).
// Callers already waiting on an earlier call still get that call's answer.
func (c *keyCache) store(region, ref string, info settings.KeyInfo) {
	done := make(chan struct{})
	close(done)
	info.Ref = ref
	c.mu.Lock()
	c.calls[keyCacheKey{region: region, ref: ref}] = &keyCall{done: done, info: info}
	c.mu.Unlock()
}

// aliasPrefix begins every KMS alias name.
const aliasPrefix = "alias/"

// codeKMSAlreadyExists answers CreateAlias for a name that is taken.
const codeKMSAlreadyExists = "AlreadyExistsException"

// CreateKey makes a customer-managed symmetric encryption key
// (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT, the only kind S3 accepts) in region
// and names it alias ("alias/" is added when missing). It is idempotent:
// when the alias already exists the key it names is returned and nothing is
// made. The key is read back through the alias, and the DescribeKey cache
// learns it under the alias, its id and its ARN, so a plan or apply that
// looked the alias up before (and was told it does not exist) sees the new
// key.
//
// KMS has no atomic "create key with alias": if CreateAlias fails, the
// error names the key that was made without a name, for the operator to
// schedule for deletion.
func (p *Provider) CreateKey(ctx context.Context, region, alias, description string) (settings.KeyInfo, error) {
	return p.CreateKeyWithPolicy(ctx, region, alias, description, "")
}

// CreateKeyWithPolicy is CreateKey with the new key's policy: "" keeps
// the default key policy KMS gives a key (the account root may do
// everything). The policy is only used when a key is made; an existing
// alias's key is returned with its policy untouched.
func (p *Provider) CreateKeyWithPolicy(ctx context.Context, region, alias, description, policy string) (settings.KeyInfo, error) {
	if !strings.HasPrefix(alias, aliasPrefix) {
		alias = aliasPrefix + alias
	}
	op := "create key " + alias + " in " + region
	client := p.kms(region)

	// Asked afresh, not from the cache, which may predate someone else's
	// CreateKey.
	info, err := p.fetchKey(ctx, region, alias)
	if err != nil {
		return settings.KeyInfo{}, wrap(op, err)
	}
	if info.Exists {
		p.cacheKey(region, alias, info)
		return info, nil
	}

	var keyID, keyARN string
	err = p.run(ctx, op, func(ctx context.Context) error {
		in := &kms.CreateKeyInput{
			KeySpec:     types.KeySpecSymmetricDefault,
			KeyUsage:    types.KeyUsageTypeEncryptDecrypt,
			Description: aws.String(description),
		}
		if policy != "" {
			in.Policy = aws.String(policy)
		}
		out, err := client.CreateKey(ctx, in)
		if err == nil && out.KeyMetadata != nil {
			keyID, keyARN = aws.ToString(out.KeyMetadata.KeyId), aws.ToString(out.KeyMetadata.Arn)
		}
		return err
	})
	if err != nil {
		return settings.KeyInfo{}, err
	}
	if keyID == "" {
		return settings.KeyInfo{}, fmt.Errorf("%s: CreateKey answered without a key id", op)
	}
	err = p.run(ctx, "create alias "+alias+" for new key "+keyARN, func(ctx context.Context) error {
		_, err := client.CreateAlias(ctx, &kms.CreateAliasInput{AliasName: aws.String(alias), TargetKeyId: aws.String(keyID)})
		return err
	})
	if err != nil {
		if !hasCode(err, codeKMSAlreadyExists) {
			return settings.KeyInfo{}, err
		}
		// Someone else named a key alias between our look-up and our
		// CreateAlias: theirs is the key (an alias names one key), and
		// ours is left without a name, for the caller to record.
		existing, ferr := p.fetchKey(ctx, region, alias)
		if ferr != nil || !existing.Exists {
			return settings.KeyInfo{}, fmt.Errorf("%s: %w (made concurrently by someone else; the new key %s has no alias and should be scheduled for deletion)", op, err, keyARN)
		}
		p.cacheKey(region, alias, existing)
		return existing, &UnnamedKeyError{Alias: alias, Region: region, Key: keyARN, Existing: existing.ARN}
	}

	mismatch, err := p.settle(ctx, func(ctx context.Context) (string, error) {
		read, err := findKey(ctx, client, alias)
		switch {
		case err != nil:
			return "", err
		case !read.Exists:
			return "alias not found", nil
		case read.ARN != keyARN:
			return "alias names " + read.ARN, nil
		}
		info = read
		return "", nil
	})
	if err != nil {
		return settings.KeyInfo{}, wrap("verify key "+alias, err)
	}
	if mismatch != "" {
		return settings.KeyInfo{}, fmt.Errorf("verify key %s: wrote %s, read %s", alias, keyARN, mismatch)
	}
	p.cacheKey(region, alias, info)
	return info, nil
}

// UnnamedKeyError is CreateKey's answer when another caller named a key
// with the alias first: CreateKey returns that key with this error, which
// names the key it made and could not name. That key exists, and costs
// money until it is scheduled for deletion; the caller records it.
type UnnamedKeyError struct {
	Alias, Region string
	// Key is the ARN of the key made without an alias.
	Key string
	// Existing is the ARN of the key the alias names.
	Existing string
}

func (e *UnnamedKeyError) Error() string {
	return fmt.Sprintf("create key %s in %s: the alias was created concurrently for key %s, which is used; the key made here, %s, has no alias and should be scheduled for deletion", e.Alias, e.Region, e.Existing, e.Key)
}

// UnnamedKey is the key made without an alias (for callers that do not
// import this package).
func (e *UnnamedKeyError) UnnamedKey() string { return e.Key }

// cacheKey remembers info under the alias, the key id and the key ARN.
func (p *Provider) cacheKey(region, alias string, info settings.KeyInfo) {
	for _, ref := range []string{alias, info.KeyID, info.ARN} {
		if ref != "" {
			p.keys.store(region, ref, info)
		}
	}
}
