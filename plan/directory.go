package plan

import (
	"context"
	"slices"
	"strings"

	"github.com/s3baseline/s3baseline/baselines"
	"github.com/s3baseline/s3baseline/settings"
)

// Directory buckets (S3 Express One Zone) are judged only on what applies
// to them (aws-semantics §13): Block Public Access and Object Ownership
// are always on and cannot be written, and logging, event notifications,
// versioning and tags are not supported. Their default encryption is the
// one setting a baseline speaks to; it is reported, never written: S3
// Express keeps one customer managed key for a bucket's lifetime, so a
// wrong write cannot be undone.

// DirectoryObserver lists and reads directory buckets.
type DirectoryObserver interface {
	ListDirectoryBuckets(ctx context.Context, regions []string) ([]settings.BucketRef, error)
	DirectoryBucketEncryption(ctx context.Context, ref settings.BucketRef) (*settings.Encryption, error)
}

// directoryNotApplicable is said once per directory bucket plan.
const directoryNotApplicable = "directory bucket (S3 Express One Zone): Block Public Access and Object Ownership are always on; " +
	"server access logging, event notifications, versioning, tags and the TLS and admin Deny statements (their actions are s3express:*) do not apply; only default encryption is judged, and reported"

// directoryBuckets plans the directory buckets in the regions: one
// BucketPlan each, with no change, findings for what fails.
func (r *run) directoryBuckets(ctx context.Context, obs DirectoryObserver, regions []string, o Options) ([]BucketPlan, string) {
	refs, err := obs.ListDirectoryBuckets(ctx, regions)
	if err != nil {
		return nil, err.Error()
	}
	var out []BucketPlan
	for _, ref := range inScope(refs, o) {
		a := r.cfg.AssignAt(baselines.Target{Account: r.acct.AccountID, Region: ref.Region, Bucket: ref.Name}, r.now)
		if a.Baseline == nil {
			a.Baseline = r.cfg.Baseline
		}
		bp := BucketPlan{Name: ref.Name, Region: ref.Region, Baseline: a.Baseline.Name, Directory: true,
			Observed: []settings.Aspect{}, Changes: []Change{}, Exempt: []Exemption{}, Warnings: []string{directoryNotApplicable}, Errors: []string{}}
		if !a.Baseline.Has(settings.DefaultEncryption) || exempted(a, settings.DefaultEncryption) {
			out = append(out, bp)
			continue
		}
		enc, err := obs.DirectoryBucketEncryption(ctx, ref)
		if err != nil {
			bp.Errors = append(bp.Errors, err.Error())
			out = append(out, bp)
			continue
		}
		bp.Observed = []settings.Aspect{settings.AspectEncryption}
		st := settings.BucketState{Name: ref.Name, Region: ref.Region, Observed: bp.Observed, Encryption: enc}
		bp.StateDigest = StateDigest(st)
		if why := directoryEncryptionShort(a.Baseline, r.cfg, r.acct, ref, enc); why != "" {
			bp.Findings = append(bp.Findings, Finding{Control: settings.DefaultEncryption, Subject: "arn:" + settings.PartitionOf(r.acct.Caller) + ":s3express:" + ref.Region + ":" + r.acct.AccountID + ":bucket/" + ref.Name,
				NIST: nistOf(a.Baseline, settings.DefaultEncryption), Detail: why})
		}
		out = append(out, bp)
	}
	return out, ""
}

// directoryEncryptionShort says how a directory bucket's default
// encryption falls short of the baseline's level, "" when it does not.
func directoryEncryptionShort(b *baselines.Baseline, cfg *baselines.Config, acct settings.AccountState, ref settings.BucketRef, enc *settings.Encryption) string {
	fix := "; set it with PutBucketEncryption (SSE-KMS with a customer managed key given by key id or ARN; S3 Express keeps that key for the bucket's lifetime), which s3baseline does not write on directory buckets"
	algo := settings.SSES3
	if enc != nil {
		algo = enc.Algorithm
	}
	switch b.Encryption {
	case baselines.EncryptSSEKMS, baselines.EncryptCustomerKey:
		if algo != settings.SSEKMS {
			return "default encryption is " + algo + "; baseline " + b.Name + " wants SSE-KMS" + fix
		}
		if b.Encryption == baselines.EncryptCustomerKey {
			want := cfg.Settings.Encryption.KMSKey
			if strings.HasPrefix(want, "alias/") {
				return "" // the key is named by alias, which S3 Express does not take: nothing to compare with
			}
			if !slices.Contains([]string{want, enc.KeyARN}, enc.KMSKeyID) && !strings.HasSuffix(enc.KMSKeyID, want) {
				return "default encryption uses the key " + enc.KMSKeyID + ", not the configured " + want + fix
			}
		}
	}
	return ""
}
