package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/s3baseline/s3baseline/plan"
	"github.com/s3baseline/s3baseline/settings"
)

// Account changes: account-level Block Public Access and the CloudTrail
// trail, made after the buckets (a bucket gets its own Block Public Access
// first, so the account flags never surprise a bucket the plan checked),
// each re-observed and compared with the plan's before-state first, and
// journaled like bucket writes so rollback restores them exactly.

// More record kinds.
const (
	// KindAccount: Aspect public_access_block, the account-level flags.
	KindAccount = "account"
	// KindTrail: Target is the trail's name, Region its home region;
	// Before/After are settings.Trail (null: no such trail).
	KindTrail = "trail"
)

// aspectTrail is the journal's aspect of a trail write: the whole trail.
const aspectTrail = "trail"

// TrailKeyDescription is the description of the trail key the tool creates.
const TrailKeyDescription = "s3baseline CloudTrail log file key (created by s3baseline apply)"

// AccountError is one account change's failure.
type AccountError struct {
	Account string
	Control settings.ControlID
	Err     error
}

func (e *AccountError) Error() string {
	return fmt.Sprintf("account %s: %s: %s", e.Account, e.Control, oneLine(e.Err))
}

func (e *AccountError) Unwrap() error { return e.Err }

// bucketsWithoutBPA says which buckets of this run did not get the Block
// Public Access change the plan had for them (held back, stale, failed):
// the account flags would act on them just the same, unjudged, so the
// account change waits for them. "" when there are none.
func bucketsWithoutBPA(buckets []Outcome) string {
	var names []string
	for _, o := range buckets {
		for _, list := range [][]settings.ControlID{o.Held, o.Stale, o.Failed} {
			if slices.Contains(list, settings.BlockPublicAccess) {
				names = append(names, o.Bucket)
				break
			}
		}
	}
	if len(names) == 0 {
		return ""
	}
	return fmt.Sprintf("%s held back: the buckets' own Block Public Access was not made in this run, and the account flags would act on them the same way: %s",
		settings.AccountBlockPublicAccess, strings.Join(names, ", "))
}

// accountChanges applies the plan's pending account changes in plan order,
// after the buckets' outcomes.
func (a *applier) accountChanges(ctx context.Context, buckets []Outcome) []Outcome {
	var out []Outcome
	for _, c := range a.pl.AccountChanges {
		if c.Action == plan.NoOp {
			continue
		}
		o := Outcome{Account: a.account, Control: c.Control, Status: StatusApplied}
		fail := func(status string, err error) {
			o.Status = status
			o.Err = &AccountError{a.account, c.Control, err}
		}
		if len(a.pl.Errors) > 0 {
			fail(StatusSkipped, fmt.Errorf("%w (%v); fix them and plan again", ErrPlanErrors, a.pl.Errors))
			out = append(out, o)
			continue
		}
		if err := stopped(ctx, a.o.Stop); err != nil {
			fail(StatusSkipped, err)
			out = append(out, o)
			continue
		}
		why := ""
		switch {
		case c.HeldBack != "":
			why = fmt.Sprintf("%s held back: %s", c.Control, c.HeldBack)
		case len(c.Impact) > 0 && !a.o.AllowImpact:
			why = heldBack(c)
		case c.Control == settings.AccountBlockPublicAccess:
			why = bucketsWithoutBPA(buckets)
		}
		if why != "" {
			o.HeldBack = []string{why}
			o.Held = []settings.ControlID{c.Control}
			o.Status = StatusSkipped
			// AccountError names the control already.
			o.Err = &AccountError{a.account, c.Control, errors.New(strings.TrimPrefix(why, string(c.Control)+" "))}
			out = append(out, o)
			continue
		}
		var n int
		var err error
		switch c.Control {
		case settings.AccountBlockPublicAccess:
			n, err = a.accountBPA(ctx, c)
		case settings.CloudTrailDataEvents:
			n, err = a.trail(ctx, c)
		default:
			err = fmt.Errorf("apply does not make %s changes", c.Control)
		}
		o.Writes = n
		switch {
		case errors.Is(err, ErrStale):
			fail(StatusStale, err)
		case err != nil:
			fail(StatusFailed, err)
		}
		out = append(out, o)
	}
	return out
}

func (a *applier) accountBPA(ctx context.Context, c plan.Change) (int, error) {
	var want, before *settings.PublicAccessBlock
	if err := json.Unmarshal(c.After, &want); err != nil {
		return 0, fmt.Errorf("the plan's after-state cannot be read: %v", err)
	}
	if err := json.Unmarshal(c.Before, &before); err != nil {
		return 0, fmt.Errorf("the plan's before-state cannot be read: %v", err)
	}
	cur, err := a.p.AccountPublicAccessBlock(ctx)
	if err != nil {
		return 0, err
	}
	if !equalPtr(cur, before) {
		return 0, ErrStale
	}
	rec := Record{Account: a.account, Kind: KindAccount, Aspect: string(settings.AspectPublicAccessBlock),
		Controls: []settings.ControlID{c.Control}}
	if err := a.write(ctx, rec, cur, want, func(ctx context.Context) error {
		return a.p.PutAccountPublicAccessBlock(ctx, want)
	}); err != nil {
		return 0, err
	}
	return 1, nil
}

// comparableTrail drops what changes by itself (the last delivery error)
// from a trail before it is compared with the plan's.
func comparableTrail(t *settings.Trail) *settings.Trail {
	if t == nil {
		return nil
	}
	c := *t
	// Not settings: the delivery error is status, and the ARN CloudTrail
	// derives from the name (a trail the tool writes has none yet).
	c.LatestDeliveryError, c.ARN = "", ""
	return &c
}

// trail makes the trail's key and bucket ready, then creates or updates the
// trail with the plan's selectors merged into what it has now.
func (a *applier) trail(ctx context.Context, c plan.Change) (int, error) {
	var want settings.Trail
	if err := json.Unmarshal(c.After, &want); err != nil {
		return 0, fmt.Errorf("the plan's after-state cannot be read: %v", err)
	}
	var before *settings.Trail
	if err := json.Unmarshal(c.Before, &before); err != nil {
		return 0, fmt.Errorf("the plan's before-state cannot be read: %v", err)
	}
	cur, err := a.p.Trail(ctx, want.HomeRegion, want.Name)
	if err != nil {
		return 0, err
	}
	if !sameJSON(comparableTrail(cur), comparableTrail(before)) {
		return 0, ErrStale
	}
	writes := 0
	key, n, err := a.ensureTrailKey(ctx, want.HomeRegion, want.KMSKeyID)
	writes += n
	if err != nil {
		return writes, fmt.Errorf("trail key %s: %w", want.KMSKeyID, err)
	}
	want.KMSKeyID = key.ARN
	n, err = a.ensureTrailBucket(ctx, settings.BucketRef{Name: want.S3BucketName, Region: want.HomeRegion}, want)
	writes += n
	if err != nil {
		return writes, fmt.Errorf("trail bucket s3://%s: %w", want.S3BucketName, err)
	}
	rec := Record{Account: a.account, Kind: KindTrail, Region: want.HomeRegion, Target: want.Name, Aspect: aspectTrail,
		Controls: []settings.ControlID{c.Control}}
	if err := a.write(ctx, rec, cur, want, func(ctx context.Context) error { return a.p.PutTrail(ctx, want) }); err != nil {
		return writes, err
	}
	return writes + 1, nil
}

// TrailKeyStatement lets CloudTrail encrypt the account's log files with
// the key and describe it (AWS: "Configure AWS KMS key policies for
// CloudTrail").
func TrailKeyStatement(partition, account string) json.RawMessage {
	return mustJSON(statement{
		Sid:       settings.SidCloudTrailKey,
		Effect:    "Allow",
		Principal: map[string]string{"Service": "cloudtrail.amazonaws.com"},
		Action:    []string{"kms:GenerateDataKey*", "kms:DescribeKey"},
		Resource:  "*",
		Condition: map[string]map[string]string{
			"StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": "arn:" + partition + ":cloudtrail:*:" + account + ":trail/*"},
		},
	})
}

// trailKeyPolicy is the policy of a trail key the tool creates: the
// account's root may administer it (AWS's default), CloudTrail may use it.
func trailKeyPolicy(partition, account string) string {
	root := mustJSON(statement{Sid: "EnableIAMUserPermissions", Effect: "Allow",
		Principal: map[string]string{"AWS": settings.AccountRootARN(partition, account)}, Action: "kms:*", Resource: "*"})
	return `{"Version":"2012-10-17","Statement":[` + string(root) + `,` + string(TrailKeyStatement(partition, account)) + `]}`
}

// ensureTrailKey resolves the trail's key, creating it (when the reference
// is an alias) with a policy CloudTrail can use, or merging CloudTrail's
// grant into an existing customer-managed key's policy.
func (a *applier) ensureTrailKey(ctx context.Context, region, ref string) (settings.KeyInfo, int, error) {
	info, err := a.p.DescribeKey(ctx, region, ref)
	if err != nil {
		return info, 0, err
	}
	if !info.Exists {
		alias := aliasName(ref)
		if alias == "" {
			return info, 0, fmt.Errorf("the KMS key does not exist in %s, and only a key named by an alias can be created", region)
		}
		var raced bool
		info, raced, err = a.createKey(region, func() (settings.KeyInfo, error) {
			return a.p.CreateKeyWithPolicy(ctx, region, alias, TrailKeyDescription, trailKeyPolicy(a.partition(), a.account))
		})
		if err != nil || !raced {
			return info, 0, err
		}
		// Another run's key got the alias: it is checked as any existing
		// key is, below.
	}
	if !info.Enabled {
		return info, 0, fmt.Errorf("the KMS key %s is disabled", info.ARN)
	}
	if info.Manager != "" && info.Manager != "CUSTOMER" {
		return info, 0, fmt.Errorf("the KMS key %s is AWS-managed; its policy cannot let CloudTrail use it", info.ARN)
	}
	unlock := a.locks.lock("key:" + info.ARN)
	defer unlock()
	text, err := a.p.KeyPolicy(ctx, region, info.ARN)
	if err != nil {
		return info, 0, err
	}
	cur := &settings.Policy{Raw: text}
	set := map[string]json.RawMessage{settings.SidCloudTrailKey: TrailKeyStatement(a.partition(), a.account)}
	if ownedInPlace(cur, set, nil) {
		return info, 0, nil
	}
	merged, err := settings.MergePolicy(cur, set, nil)
	if err != nil {
		return info, 0, err
	}
	rec := Record{Account: a.account, Kind: KindKey, Region: region, Target: info.ARN, Aspect: string(settings.AspectPolicy),
		Controls: []settings.ControlID{settings.CloudTrailDataEvents}}
	err = a.write(ctx, rec, text, merged.Raw, func(ctx context.Context) error {
		return a.p.PutKeyPolicy(ctx, region, info.ARN, merged.Raw)
	})
	if err != nil {
		return info, 0, err
	}
	return info, 1, nil
}

// TrailBucketStatements are CloudTrail's grants on its log bucket (AWS:
// "Amazon S3 bucket policy for CloudTrail"), limited to this account's
// trail.
func TrailBucketStatements(bucket, prefix, account, trailARN string) map[string]json.RawMessage {
	partition := settings.PartitionOf(trailARN)
	logs := settings.BucketARN(partition, bucket) + "/"
	if prefix != "" {
		logs += prefix + "/"
	}
	logs += "AWSLogs/" + account + "/*"
	cond := map[string]map[string]string{"StringEquals": {"aws:SourceArn": trailARN}}
	return map[string]json.RawMessage{
		settings.SidCloudTrailAclCheck: mustJSON(statement{Sid: settings.SidCloudTrailAclCheck, Effect: "Allow",
			Principal: map[string]string{"Service": "cloudtrail.amazonaws.com"}, Action: "s3:GetBucketAcl",
			Resource: settings.BucketARN(partition, bucket), Condition: cond}),
		settings.SidCloudTrailWrite: mustJSON(statement{Sid: settings.SidCloudTrailWrite, Effect: "Allow",
			Principal: map[string]string{"Service": "cloudtrail.amazonaws.com"}, Action: "s3:PutObject",
			Resource: logs, Condition: map[string]map[string]string{
				"StringEquals": {"aws:SourceArn": trailARN, "s3:x-amz-acl": "bucket-owner-full-control"},
			}}),
	}
}

// ensureTrailBucket creates the trail's bucket (brought to its baseline
// right away) when it does not exist, and merges CloudTrail's grants into
// its policy.
func (a *applier) ensureTrailBucket(ctx context.Context, ref settings.BucketRef, t settings.Trail) (int, error) {
	created, err := a.p.CreateBucket(ctx, ref)
	if err != nil {
		return 0, err
	}
	if created {
		a.created(Record{Kind: KindBucket, Bucket: ref.Name, Region: ref.Region}, ref)
		a.makeCompliant(ctx, ref)
	}
	arn := t.ARN
	if arn == "" {
		arn = "arn:" + a.partition() + ":cloudtrail:" + t.HomeRegion + ":" + a.account + ":trail/" + t.Name
	}
	rec := a.bucketRecord(ref, settings.AspectPolicy, []settings.ControlID{settings.CloudTrailDataEvents})
	return a.mergeBucketPolicy(ctx, ref, rec, TrailBucketStatements(ref.Name, t.S3KeyPrefix, a.account, arn), nil)
}
