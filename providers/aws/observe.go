package aws

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/s3baseline/s3baseline/settings"
)

// aspectOp names the read of aspect a the way errors report it; "" for an
// aspect this package does not know.
func aspectOp(a settings.Aspect) string {
	switch a {
	case settings.AspectPublicAccessBlock:
		return "get public access block"
	case settings.AspectOwnership:
		return "get bucket ownership controls"
	case settings.AspectEncryption:
		return "get bucket encryption"
	case settings.AspectLogging:
		return "get bucket logging"
	case settings.AspectPolicy:
		return "get bucket policy"
	case settings.AspectNotifications:
		return "get bucket notification configuration"
	case settings.AspectTags:
		return "get bucket tagging"
	case settings.AspectWebsite:
		return "get bucket website"
	case settings.AspectACL:
		return "get bucket acl"
	case settings.AspectPolicyStatus:
		return "get bucket policy status"
	case settings.AspectVersioning:
		return "get bucket versioning"
	case settings.AspectObjectLock:
		return "get object lock configuration"
	case settings.AspectLifecycle:
		return "get bucket lifecycle configuration"
	}
	return ""
}

// ObserveBucket reads the given aspects of one bucket, one API call each,
// through the client of the bucket's own region (a client of another region
// gets a 301 that Go v2 does not follow). A failed read is recorded in
// Errors and the other aspects are still read; a repeated aspect is read
// once. An empty ref.Region is taken as the global region.
func (p *Provider) ObserveBucket(ctx context.Context, ref settings.BucketRef, aspects []settings.Aspect) settings.BucketState {
	st := settings.BucketState{Name: ref.Name, Region: ref.Region}
	region := ref.Region
	if region == "" {
		region = p.region
	}
	client := p.s3Client(region)
	seen := make(map[settings.Aspect]bool, len(aspects))
	for _, a := range aclLast(aspects) {
		if seen[a] {
			continue
		}
		seen[a] = true
		op := aspectOp(a)
		if op == "" {
			setError(&st, a, fmt.Sprintf("unknown aspect %q", a))
			continue
		}
		if st.Unanswered {
			// The region let a call run out its timeout: the next read
			// would wait just as long, and a hung region would cost one
			// timeout per aspect per bucket.
			setError(&st, a, op+": not read: an earlier call for this bucket timed out")
			continue
		}
		if a == settings.AspectACL {
			if acl, ok := p.disabledACL(&st); ok {
				st.ACL = acl
				st.Observed = append(st.Observed, a)
				continue
			}
		}
		if err := p.observe(ctx, client, region, &st, a); err != nil {
			setError(&st, a, wrap(op, err).Error())
			st.Unanswered = timedOut(ctx, err)
			continue
		}
		st.Observed = append(st.Observed, a)
	}
	return st
}

// aclLast orders the ACL after Object Ownership when both are asked
// for, so that the ACL read can be left out (disabledACL).
func aclLast(aspects []settings.Aspect) []settings.Aspect {
	i := slices.Index(aspects, settings.AspectACL)
	j := slices.Index(aspects, settings.AspectOwnership)
	if i < 0 || j < 0 || i > j {
		return aspects
	}
	out := slices.Delete(slices.Clone(aspects), i, i+1)
	return append(out, settings.AspectACL)
}

// disabledACL is what GetBucketAcl would answer for a bucket whose Object
// Ownership, just read, is BucketOwnerEnforced: with ACLs disabled,
// "requests to read ACLs always return a response that shows full control
// for the bucket owner" (AWS-doc "Troubleshooting" under Object
// Ownership), whatever grants are stored. A compliant high bucket so costs
// one call less. ok is false while the owner's canonical id is unknown or
// the ownership was not read as BucketOwnerEnforced: then the ACL is read.
// The id is the account's (ListBuckets' Owner, or an earlier ACL): were a
// bucket ever owned by someone else, its ACL would still grant no one but
// its owner, and an aspect digest that differs only makes a change stale.
func (p *Provider) disabledACL(st *settings.BucketState) (*settings.ACL, bool) {
	if !st.Has(settings.AspectOwnership) || st.Ownership == nil || st.Ownership.Rule != settings.OwnershipBucketOwnerEnforced {
		return nil, false
	}
	owner := p.owner.Load()
	if owner == nil {
		return nil, false
	}
	return &settings.ACL{Owner: *owner, Grants: []settings.Grant{{Type: "CanonicalUser", ID: *owner, Permission: "FULL_CONTROL"}}}, true
}

// noteOwner keeps the account's canonical user id once it is known.
func (p *Provider) noteOwner(id string) {
	if id != "" && p.owner.Load() == nil {
		p.owner.CompareAndSwap(nil, &id)
	}
}

// timedOut reports whether err is a call that got no answer within the
// call timeout while the caller's context was still live: the region did
// not answer. A call that kept getting throttling answers until its budget
// ran out is not one: that region answers, slowly.
func timedOut(ctx context.Context, err error) bool {
	var na *noAnswerError
	return ctx.Err() == nil && errors.As(err, &na)
}

func setError(st *settings.BucketState, a settings.Aspect, msg string) {
	if st.Errors == nil {
		st.Errors = map[settings.Aspect]string{}
	}
	st.Errors[a] = msg
}

// observe reads aspect a into st.
func (p *Provider) observe(ctx context.Context, client *s3.Client, region string, st *settings.BucketState, a settings.Aspect) error {
	cctx, cancel := p.call(ctx)
	defer cancel()
	var err error
	switch a {
	case settings.AspectPublicAccessBlock:
		st.PublicAccessBlock, err = findPublicAccessBlock(cctx, client, st.Name)
	case settings.AspectOwnership:
		st.Ownership, err = findOwnership(cctx, client, st.Name)
	case settings.AspectEncryption:
		st.Encryption, err = findEncryption(cctx, client, st.Name)
		if err == nil {
			p.resolveKey(ctx, region, st.Encryption)
		}
	case settings.AspectLogging:
		st.Logging, err = findLogging(cctx, client, st.Name)
	case settings.AspectPolicy:
		st.Policy, err = findPolicy(cctx, client, st.Name)
	case settings.AspectNotifications:
		st.Notifications, err = findNotifications(cctx, client, st.Name)
	case settings.AspectTags:
		st.Tags, err = findTags(cctx, client, st.Name)
	case settings.AspectWebsite:
		st.Website, err = findWebsite(cctx, client, st.Name)
	case settings.AspectACL:
		st.ACL, err = findACL(cctx, client, st.Name)
		if err == nil {
			p.noteOwner(st.ACL.Owner)
		}
	case settings.AspectPolicyStatus:
		st.PolicyStatus, err = findPolicyStatus(cctx, client, st.Name)
	case settings.AspectVersioning:
		st.Versioning, err = findVersioning(cctx, client, st.Name)
	case settings.AspectObjectLock:
		st.ObjectLock, err = findObjectLock(cctx, client, st.Name)
	case settings.AspectLifecycle:
		st.Lifecycle, err = findLifecycle(cctx, client, st.Name)
	}
	return err
}

// resolveKey fills enc.KeyARN from KMS in the bucket's region. Failure is
// not an observation error: the rule itself was read, and the plan reports
// that it cannot compare a key it could not resolve.
func (p *Provider) resolveKey(ctx context.Context, region string, enc *settings.Encryption) {
	ref := encryptionKeyRef(enc)
	if ref == "" {
		return
	}
	info, err := p.DescribeKey(ctx, region, ref)
	if err == nil && info.Exists {
		enc.KeyARN, enc.KeyManager = info.ARN, info.Manager
	}
}
