package plan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/s3baseline/s3baseline/baselines"
	"github.com/s3baseline/s3baseline/progress"
	"github.com/s3baseline/s3baseline/regions"
	"github.com/s3baseline/s3baseline/settings"
)

// BucketObserver reads buckets and resolves keys: what planning one bucket
// needs (Bucket). Observation must not modify anything.
type BucketObserver interface {
	ObserveBucket(ctx context.Context, ref settings.BucketRef, aspects []settings.Aspect) settings.BucketState
	DescribeKey(ctx context.Context, region, ref string) (settings.KeyInfo, error)
}

// Observer reads the account and its buckets. providers/aws.Provider
// implements it; it is declared here, by its consumer, so the plan logic
// can be tested with a small fake. Observation must not modify anything.
type Observer interface {
	// Account identifies the caller and reads account-level settings.
	Account(ctx context.Context) (settings.AccountState, error)
	// ListBuckets lists every bucket with its home region.
	ListBuckets(ctx context.Context) ([]settings.BucketRef, error)
	// ObserveBucket reads the given aspects of one bucket, and nothing
	// else; an aspect it cannot read is in the result's Errors.
	ObserveBucket(ctx context.Context, ref settings.BucketRef, aspects []settings.Aspect) settings.BucketState
	// DescribeKey resolves a KMS key reference (alias, id or ARN) in a
	// region; a key that does not exist is Exists=false, not an error.
	DescribeKey(ctx context.Context, region, ref string) (settings.KeyInfo, error)
	// Trails lists the account's trails with their selectors, insights
	// and logging status.
	Trails(ctx context.Context) ([]settings.Trail, error)
	// IAMReport lists the IAM users with their console password and MFA
	// devices, and whether the root user has MFA.
	IAMReport(ctx context.Context) (settings.IAMReport, error)
	// Shield reads the Shield Advanced subscription.
	Shield(ctx context.Context) (settings.ShieldState, error)
	// AccessPoints lists the account's access points in the regions, with
	// their Block Public Access.
	AccessPoints(ctx context.Context, regions []string) ([]settings.AccessPoint, error)
	// MultiRegionAccessPoints lists the account's Multi-Region Access
	// Points; ok is false where the observer cannot look (another
	// partition than aws).
	MultiRegionAccessPoints(ctx context.Context) (mraps []settings.MultiRegionAccessPoint, ok bool, err error)
	// OrgS3Policy says whether an AWS Organizations S3 policy manages the
	// account's Block Public Access.
	OrgS3Policy(ctx context.Context) (settings.OrgS3Policy, error)
}

// Options are a plan run's inputs.
type Options struct {
	// Config holds the settings and rules; Config.Baseline is the default
	// baseline and must not be nil.
	Config *baselines.Config
	// Buckets are --bucket globs (path.Match syntax); empty is every bucket.
	Buckets []string
	// Regions are --region filters; empty is every region.
	Regions []string
	// RegionChecker checks the --region names (CheckScope); nil checks
	// them against the known regions only.
	RegionChecker *regions.Checker
	// Concurrency bounds the buckets observed at once; 0 is
	// DefaultConcurrency.
	Concurrency int
	// Slots, when set, is the worker budget this run shares with others
	// (see Slots): a bucket is observed only while its worker holds a slot.
	Slots Slots
	// Now is the plan's time (exemption dates are judged against it); zero
	// is the current time.
	Now         time.Time
	ToolVersion string
	// Sink, when set, receives the plan as it is made (see Sink): the
	// plan Build returns then holds each bucket only in brief (Slim), so
	// memory is bounded by the concurrency, not by the number of buckets.
	Sink Sink
	// Progress, when set, is called once with done 0 when the buckets in
	// scope are known and again after each bucket is planned: done of
	// total buckets, errors of them with an error. Calls come one at a
	// time, in order of done, from the worker goroutines; the callback
	// should return quickly.
	Progress func(done, total, errors int)
}

// DefaultConcurrency is how many buckets are observed at once by default:
// enough to hide latency, few enough to stay clear of S3's throttling of
// bucket-level reads.
const DefaultConcurrency = 16

// Build observes the account and every bucket in scope and computes the
// plan. Errors reading the account or the bucket list are fatal; anything
// that goes wrong with one bucket is on that bucket's error list and the
// others go on.
func Build(ctx context.Context, obs Observer, o Options) (*Plan, error) {
	cfg := o.Config
	if cfg == nil || cfg.Baseline == nil {
		return nil, errors.New("plan: no baseline to plan against")
	}
	if err := CheckScope(o); err != nil {
		return nil, err
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}

	acct, err := obs.Account(ctx)
	if err != nil {
		return nil, fmt.Errorf("observe account: %w", err)
	}
	// The account's own settings, where a rule of accounts gives them;
	// the plan carries the whole config (every account's).
	whole := cfg
	cfg = cfg.ForAccount(acct.AccountID)
	refs, err := obs.ListBuckets(ctx)
	if err != nil {
		return nil, fmt.Errorf("list buckets: %w", err)
	}
	all := refs
	refs = inScope(refs, o)

	r := &run{obs: obs, bobs: obs, cfg: cfg, acct: acct, now: now, keys: map[string]*keyResult{}, matched: &matches{}}
	head := &Plan{
		FormatVersion: FormatVersion,
		ToolVersion:   o.ToolVersion,
		CreatedAt:     now.UTC().Truncate(time.Second),
		AccountPlan:   AccountPlan{Account: acct.AccountID, Caller: acct.Caller},
		Baseline:      BaselineRef{Name: cfg.Baseline.Name, Digest: cfg.Baseline.Digest()},
		Scope: Scope{
			Config:        cfg.Path,
			Buckets:       slices.Clone(o.Buckets),
			Regions:       slices.Clone(o.Regions),
			ConfigRegions: slices.Clone(cfg.Regions),
			Settings:      whole,
		},
	}
	out := newEmitter(o.Sink, len(refs))
	if err := out.head(head); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	workers := o.Concurrency
	if workers <= 0 {
		workers = DefaultConcurrency
	}
	counter := progress.NewCounter(o.Progress, len(refs))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(refs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if !o.Slots.Take(ctx) {
					continue // the feed stops; nothing more is read
				}
				b := r.bucket(ctx, refs[i])
				o.Slots.Give()
				counter.Add(len(b.Errors) > 0)
				if err := out.done(i, b); err != nil {
					cancel(err)
				}
			}
		}()
	}
feed:
	for i := range refs {
		// A bucket is handed out only within a window of the first one
		// not yet emitted, so one slow bucket cannot make the finished
		// ones behind it pile up in memory.
		if err := out.wait(ctx, i); err != nil {
			break
		}
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	// The directory buckets come after the listing's: the account controls
	// take the listing's as they are, not a copy of the estate.
	listed := out.count()
	var dirErr string
	if dobs, ok := obs.(DirectoryObserver); ok {
		regions := cfg.Regions
		if len(regions) == 0 {
			regions = bucketRegions(out.each(0, listed))
		}
		// A silent region's buckets say so already (see account).
		regions = slices.DeleteFunc(slices.Clone(regions), func(region string) bool { return r.regionSilent(region) != "" })
		var dirs []BucketPlan
		dirs, dirErr = r.directoryBuckets(ctx, dobs, regions, o)
		for _, d := range dirs {
			if err := out.extra(d); err != nil {
				return nil, err
			}
		}
	}

	var ar AccountResult
	if len(o.Buckets) > 0 || len(o.Regions) > 0 {
		// Account controls act on every bucket of the account: with part
		// of it in view, account Block Public Access could be turned on
		// over a public bucket the plan never saw.
		ar = AccountResult{Changes: []Change{}, Findings: []Finding{}, Warnings: []string{
			"account controls not checked: the plan covers part of the account (--bucket or --region, or an event about one bucket); plan the whole account to check account_block_public_access, cloudtrail_data_events, iam_mfa and shield"}}
	} else {
		ar = r.account(ctx, out.each(0, listed), unseen(all, refs))
	}
	if dirErr != "" {
		ar.Errors = append(ar.Errors, "directory buckets: "+dirErr)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	p := head
	p.Buckets, p.Kept = out.buckets, out.kept
	p.AccountChanges, p.Findings, p.Warnings, p.Errors = ar.Changes, ar.Findings, ar.Warnings, ar.Errors
	p.AccountPublicAccessBlock, p.AccountPublicAccessBlockError = acct.PublicAccessBlock, acct.PublicAccessBlockError
	p.Summary = Summarize(p)
	p.Unmatched = unmatched(acct.AccountID, all, o, r.matched)
	if err := out.tail(p); err != nil {
		return nil, err
	}
	return p, nil
}

// account observes what the account controls in play need, once per
// account, and judges them.
func (r *run) account(ctx context.Context, buckets iter.Seq[*BucketPlan], unseen []string) AccountResult {
	in := AccountInput{Account: r.acct, Config: r.cfg, each: buckets, Unseen: unseen, Now: r.now}
	needs := in.needs()
	errText := func(err error) string {
		if err == nil {
			return ""
		}
		return err.Error()
	}
	if needs.Trails {
		trails, err := r.obs.Trails(ctx)
		in.Trails, in.TrailsErr = trails, errText(err)
		if err == nil {
			key, err := r.obs.DescribeKey(ctx, TrailRegion(r.cfg), TrailKeyRef(r.cfg))
			in.TrailKey, in.TrailKeyErr = key, errText(err)
		}
	}
	if needs.IAM {
		rep, err := r.obs.IAMReport(ctx)
		if err == nil {
			in.IAM = &rep
		}
		in.IAMErr = errText(err)
	}
	if needs.Shield {
		sh, err := r.obs.Shield(ctx)
		if err == nil {
			in.Shield = &sh
		}
		in.ShieldErr = errText(err)
	}
	if needs.OrgS3 {
		o, err := r.obs.OrgS3Policy(ctx)
		if err == nil {
			in.OrgS3 = &o
		}
		in.OrgS3Err = errText(err)
	}
	if needs.AccessPoints {
		// A region that stopped answering has its buckets' errors
		// already; its access points would only time out again.
		regions := slices.DeleteFunc(bucketRegions(buckets), func(region string) bool { return r.regionSilent(region) != "" })
		aps, err := r.obs.AccessPoints(ctx, regions)
		in.AccessPoints, in.AccessPointsErr = aps, errText(err)
	}
	if needs.MRAPs {
		mraps, ok, err := r.obs.MultiRegionAccessPoints(ctx)
		in.MRAPs, in.MRAPsErr, in.MRAPsUnlisted = mraps, errText(err), err == nil && !ok
	}
	return DiffAccount(in)
}

// bucketRegions are the regions of the planned buckets, sorted.
func bucketRegions(buckets iter.Seq[*BucketPlan]) []string {
	seen := map[string]bool{}
	for b := range buckets {
		seen[b.Region] = true
	}
	return slices.Sorted(maps.Keys(seen))
}

// unseen lists, sorted, the buckets of the account the plan did not look
// at: those outside the config's regions.
func unseen(all, planned []settings.BucketRef) []string {
	// Bucket names are unique and planned is all but what the scope left
	// out, sorted by name: a whole account has nothing unseen, and the
	// rest is found by search, with no set of a million names.
	if len(planned) == len(all) {
		return nil
	}
	var out []string
	for _, b := range all {
		if _, ok := slices.BinarySearchFunc(planned, b.Name, func(r settings.BucketRef, name string) int { return strings.Compare(r.Name, name) }); !ok {
			out = append(out, b.Name)
		}
	}
	slices.Sort(out)
	return out
}

// inScope keeps the buckets the globs, the --region flags and the config's
// regions all admit, sorted by name.
func inScope(refs []settings.BucketRef, o Options) []settings.BucketRef {
	admits := func(ref settings.BucketRef) bool {
		if len(o.Buckets) > 0 && !slices.ContainsFunc(o.Buckets, func(g string) bool {
			ok, _ := path.Match(g, ref.Name) // globs were checked in Build
			return ok
		}) {
			return false
		}
		if len(o.Regions) > 0 && !slices.Contains(o.Regions, ref.Region) {
			return false
		}
		return o.Config.InRegion(ref.Region)
	}
	byName := func(a, b settings.BucketRef) int { return strings.Compare(a.Name, b.Name) }
	if !slices.ContainsFunc(refs, func(ref settings.BucketRef) bool { return !admits(ref) }) {
		// The whole account, most plans: the listing itself (S3 lists by
		// name), not a second copy of a million refs.
		if !slices.IsSortedFunc(refs, byName) {
			refs = slices.Clone(refs)
			slices.SortFunc(refs, byName)
		}
		return refs
	}
	var out []settings.BucketRef
	for _, ref := range refs {
		if admits(ref) {
			out = append(out, ref)
		}
	}
	slices.SortFunc(out, byName)
	return out
}

// run is one Build's shared state: the inputs and the per-region key cache.
type run struct {
	obs  Observer
	bobs BucketObserver
	cfg  *baselines.Config
	acct settings.AccountState
	now  time.Time

	mu   sync.Mutex
	keys map[string]*keyResult
	// silent maps a region to the first timed-out read there: once a
	// region has let a call run out its timeout, its remaining buckets are
	// reported without being tried, so a hung region costs one timeout per
	// worker rather than one per bucket.
	silent map[string]string
	// matched records which tag rules matched a bucket (Build only; nil
	// for Bucket).
	matched *matches
	// only, when set (RederiveControls), restricts a bucket's plan to
	// these controls: it reads only what they are judged from, and its
	// other changes, errors and findings are not meaningful.
	only []settings.ControlID
}

// keep drops the changes of controls outside r.only, when it is set.
func (r *run) keep(bp BucketPlan) BucketPlan {
	if r.only != nil {
		bp.Changes = slices.DeleteFunc(bp.Changes, func(c Change) bool { return !slices.Contains(r.only, c.Control) })
	}
	return bp
}

// noteTags records the rules on tags that a bucket's tags match; ok is
// false when its tags could not be read.
func (r *run) noteTags(name string, tags map[string]string, ok bool) {
	if r.matched == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !ok {
		r.matched.tagsUnknown = true
		return
	}
	for i := range r.cfg.Rules {
		rule := &r.cfg.Rules[i]
		if len(rule.MatchTags) > 0 && rule.Matches(name, tags) {
			if r.matched.tagRules == nil {
				r.matched.tagRules = map[int]bool{}
			}
			r.matched.tagRules[i] = true
		}
	}
}

// regionSilent returns the timeout that marked region as not answering,
// "" while it answers.
func (r *run) regionSilent(region string) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.silent[region]
}

// noteSilent records that a read of a bucket in region timed out.
func (r *run) noteSilent(st settings.BucketState) {
	if !st.Unanswered {
		return
	}
	msg := firstTimeout(st)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.silent == nil {
		r.silent = map[string]string{}
	}
	if _, ok := r.silent[st.Region]; !ok {
		r.silent[st.Region] = "bucket " + st.Name + ": " + msg
	}
}

// unanswered is the plan of a bucket whose region did not answer: one
// error, the read that timed out (or the earlier bucket whose read did),
// instead of one line per aspect that was then not tried.
func unanswered(ref settings.BucketRef, baseline string, st settings.BucketState) BucketPlan {
	return BucketPlan{
		Name: ref.Name, Region: ref.Region, Baseline: baseline,
		Observed: []settings.Aspect{}, Changes: []Change{}, Exempt: []Exemption{}, Warnings: []string{},
		Errors: []string{firstTimeout(st)},
	}
}

// firstTimeout is the error of the read that timed out, not of the reads
// skipped after it.
func firstTimeout(st settings.BucketState) string {
	keys := slices.Sorted(maps.Keys(st.Errors))
	for _, a := range keys {
		if m := st.Errors[a]; !strings.Contains(m, "not read:") {
			return m
		}
	}
	if len(keys) > 0 {
		return st.Errors[keys[0]]
	}
	return "the region did not answer"
}

// observe reads aspects of one bucket unless its region has stopped
// answering; then every aspect is an error naming the first timeout.
func (r *run) observe(ctx context.Context, ref settings.BucketRef, aspects []settings.Aspect) settings.BucketState {
	if first := r.regionSilent(ref.Region); first != "" {
		st := settings.BucketState{Name: ref.Name, Region: ref.Region, Errors: map[settings.Aspect]string{}, Unanswered: true}
		for _, a := range aspects {
			st.Errors[a] = "not read: region " + ref.Region + " did not answer in time (" + first + ")"
		}
		return st
	}
	st := r.bobs.ObserveBucket(ctx, ref, aspects)
	r.noteSilent(st)
	return st
}

type keyResult struct {
	once sync.Once
	info settings.KeyInfo
	err  error
}

// key describes the configured key in a region, once per region however
// many buckets ask.
func (r *run) key(ctx context.Context, region string) (settings.KeyInfo, error) {
	r.mu.Lock()
	k, ok := r.keys[region]
	if !ok {
		k = &keyResult{}
		r.keys[region] = k
	}
	r.mu.Unlock()
	k.once.Do(func() { k.info, k.err = r.bobs.DescribeKey(ctx, region, r.cfg.Settings.Encryption.KMSKey) })
	return k.info, k.err
}

// Bucket plans one bucket alone, exactly as Build plans each of its
// buckets: observe what its baseline's controls and the impact rules need,
// assign it, diff it. apply uses it for a bucket it has just created, so
// that bucket is brought to its baseline by the same rules as any other.
func Bucket(ctx context.Context, obs BucketObserver, cfg *baselines.Config, acct settings.AccountState, ref settings.BucketRef, now time.Time) BucketPlan {
	r := &run{bobs: obs, cfg: cfg, acct: acct, now: now, keys: map[string]*keyResult{}}
	return r.bucket(ctx, ref)
}

// bucket observes, assigns and diffs one bucket.
func (r *run) bucket(ctx context.Context, ref settings.BucketRef) BucketPlan {
	var tags map[string]string
	needsTags := r.cfg.NeedsTags()
	if needsTags {
		// Rules match on tags: read them first, then only what the
		// assigned baseline needs.
		ts := r.observe(ctx, ref, []settings.Aspect{settings.AspectTags})
		_, failed := ts.Errors[settings.AspectTags]
		r.noteTags(ref.Name, ts.Tags, !failed && !ts.Unanswered)
		if ts.Unanswered {
			return unanswered(ref, r.cfg.Baseline.Name, ts)
		}
		if msg, failed := ts.Errors[settings.AspectTags]; failed {
			return BucketPlan{
				Name: ref.Name, Region: ref.Region, Baseline: r.cfg.Baseline.Name,
				Observed: []settings.Aspect{}, Changes: []Change{}, Exempt: []Exemption{}, Warnings: []string{},
				Errors: []string{msg + ": the config's rules match on tags, so the bucket's baseline is unknown and it was not checked"},
			}
		}
		tags = ts.Tags
	}
	a := r.cfg.AssignAt(baselines.Target{Account: r.acct.AccountID, Region: ref.Region, Bucket: ref.Name, Tags: tags}, r.now)
	if a.Baseline == nil {
		a.Baseline = r.cfg.Baseline
	}

	logTarget := r.isLogTarget(ref)
	st := settings.BucketState{Name: ref.Name, Region: ref.Region}
	aspects := AspectsNeeded(a, logTarget)
	if r.only != nil {
		aspects = JudgedFromAny(r.only, aspects)
	}
	if len(aspects) > 0 {
		st = r.observe(ctx, ref, aspects)
		st.Name, st.Region = ref.Name, ref.Region
		if st.Unanswered {
			return unanswered(ref, a.Baseline.Name, st)
		}
	}
	if needsTags {
		st.Tags = tags
		st.Observed = append(slices.Clone(st.Observed), settings.AspectTags)
	}

	var key settings.KeyInfo
	var keyErr error
	if r.needsKey(a, logTarget, &st) {
		key, keyErr = r.key(ctx, ref.Region)
	}
	d := DesiredFor(r.cfg, r.acct, ref, key, keyErr)
	bp := r.keep(Diff(Input{State: st, Account: r.acct, Assignment: a, Desired: d}))
	if bp.pending() == 0 {
		return bp
	}
	// A bucket with changes to make pays for what only such a bucket
	// needs, so a compliant bucket costs one call per aspect its controls
	// are judged from and no more: its tags tell whether CloudFormation
	// manages it (every change warns then, see assessImpact), and the
	// impact rules read what a change could cut off (see impactAspects).
	// The diff is pure and cheap to run again with them.
	var extra []settings.Aspect
	if !needsTags {
		extra = append(extra, settings.AspectTags)
	}
	extra = append(extra, impactAspects(bp, &st)...)
	if len(extra) == 0 {
		return bp
	}
	xs := r.observe(ctx, ref, extra)
	var warnings []string
	st.Observed = slices.Clone(st.Observed)
	st.Errors = maps.Clone(st.Errors)
	for _, x := range extra {
		msg, failed := xs.Errors[x]
		switch {
		case !failed:
			st.Observed = append(st.Observed, x)
		case x == settings.AspectTags:
			warnings = append(warnings, "cannot tell whether CloudFormation manages this bucket: "+msg)
		default:
			// The changes whose impact needed it are held back (see
			// assessImpact) with this message.
			if st.Errors == nil {
				st.Errors = map[settings.Aspect]string{}
			}
			st.Errors[x] = msg
		}
	}
	if !needsTags {
		st.Tags = xs.Tags
	}
	for _, x := range extra {
		st.CopyAspect(&xs, x)
	}
	bp = r.keep(Diff(Input{State: st, Account: r.acct, Assignment: a, Desired: d}))
	bp.Warnings = append(bp.Warnings, warnings...)
	return bp
}

// impactAspects are the reads the impact rules and the up-front refusals
// need for the changes planned so far that the bucket's controls did not
// read already (see assessImpact): whether the bucket is public (its
// policy, S3's verdict on it, its ACL), whether it hosts a website, and who
// its ACL grants.
func impactAspects(bp BucketPlan, st *settings.BucketState) []settings.Aspect {
	var want []settings.Aspect
	add := func(as ...settings.Aspect) {
		for _, a := range as {
			if !st.Has(a) && !slices.Contains(want, a) {
				want = append(want, a)
			}
		}
	}
	policyStatus := func() {
		// S3's verdict on the policy; a bucket known to have no policy has
		// none to judge.
		if !(st.Has(settings.AspectPolicy) && st.Policy == nil) {
			add(settings.AspectPolicy, settings.AspectPolicyStatus)
		}
	}
	acl := func() {
		if !st.Has(settings.AspectOwnership) || st.Ownership == nil || st.Ownership.Rule != settings.OwnershipBucketOwnerEnforced {
			add(settings.AspectACL)
		}
	}
	for _, c := range bp.Changes {
		if c.Action == NoOp {
			continue
		}
		switch c.Control {
		case settings.BlockPublicAccess:
			policyStatus()
			acl()
			if websiteCouldBePublic(*st) {
				add(settings.AspectWebsite)
			}
		case settings.TLSOnly:
			add(settings.AspectWebsite)
			policyStatus()
		case settings.AdminPolicyLock:
			policyStatus()
		case settings.DefaultEncryption:
			var before, after *settings.Encryption
			_ = json.Unmarshal(c.Before, &before)
			if json.Unmarshal(c.After, &after) == nil && isKMS(after) && !isKMS(before) {
				policyStatus()
				acl()
				if websiteCouldBePublic(*st) {
					add(settings.AspectWebsite)
				}
			}
		case settings.ObjectOwnership:
			add(settings.AspectACL)
		}
	}
	return want
}

// websiteCouldBePublic reports whether a website endpoint of the bucket
// could be serving the public today, so that a change might cut it off:
// only through a policy statement granting everyone (conditioned ones
// too, as the classic aws:Referer website policy is) or public ACLs. With
// ACLs disabled (BucketOwnerEnforced) and no Allow to everyone in the
// policy it cannot, and the bucket's website need not be read.
func websiteCouldBePublic(st settings.BucketState) bool {
	if !st.Has(settings.AspectOwnership) || st.Ownership == nil || st.Ownership.Rule != settings.OwnershipBucketOwnerEnforced {
		return true // ACLs may grant public read
	}
	if !st.Has(settings.AspectPolicy) {
		return true
	}
	if st.Policy == nil {
		return false
	}
	doc, err := settings.ParsePolicy(st.Policy.Raw)
	if err != nil {
		return true
	}
	return slices.ContainsFunc(doc.Statements, func(s settings.Statement) bool { return s.GrantsEveryone() })
}

// isLogTarget reports whether the bucket is its region's server access log
// target, the same test DesiredFor makes.
func (r *run) isLogTarget(ref settings.BucketRef) bool {
	return LogTarget(r.cfg, r.acct.AccountID, ref.Region) == ref.Name
}

// needsKey reports whether the diff of default_encryption will need the
// configured key: always for customer-key, for sse-kms only when the bucket
// is not already on KMS, never for a log target (it keeps SSE-S3).
func (r *run) needsKey(a baselines.Assignment, logTarget bool, st *settings.BucketState) bool {
	ks := r.cfg.Settings.Encryption.KMSKey
	if ks == "" || logTarget || !slices.Contains(Checked(a, logTarget), settings.DefaultEncryption) || !st.Has(settings.AspectEncryption) {
		return false
	}
	switch a.Baseline.Encryption {
	case baselines.EncryptCustomerKey:
		return true
	case baselines.EncryptSSEKMS:
		e := st.Encryption
		return e == nil || (e.Algorithm != settings.SSEKMS && e.Algorithm != settings.SSEKMSDSS)
	}
	return false
}
