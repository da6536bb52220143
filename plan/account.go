package plan

import (
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/s3baseline/s3baseline/baselines"
	"github.com/s3baseline/s3baseline/settings"
)

// The account controls: account_block_public_access and
// cloudtrail_data_events are changes, iam_mfa and shield are findings.
// DiffAccount judges them from plain data, like Diff does a bucket.

// Names the tool gives its own advanced event selectors on the trail.
const (
	DataSelectorName       = "s3baseline-s3-data-events"
	ManagementSelectorName = "s3baseline-management-events"
)

// CloudTrail's limits: basic selectors hold at most 250 data resource
// values per trail, advanced selectors at most 500 values over all their
// conditions (CloudTrail quotas; InvalidEventSelectorsException).
const (
	maxDataResources  = 250
	maxAdvancedValues = 500
)

// TrailSpec is what the tool's trail must do for the account.
type TrailSpec struct {
	Name, Region, Bucket, Key string
	// Buckets are the buckets whose data events it must log.
	Buckets []string
	// Excluded are the account's other buckets, when the plan saw every
	// bucket of the account: then, if listing Buckets would exceed
	// CloudTrail's limit, the trail may log every bucket but these. Nil
	// when that is not allowed.
	Excluded []string
	Insights bool
	// Partition is the account's (aws, aws-us-gov, aws-cn).
	Partition string
}

// AccountInput is everything the account diff reads. Nil pointers and
// empty errors mean "not read"; DiffAccount reads only what the baselines
// in play call for, and Build observes exactly that.
type AccountInput struct {
	Account settings.AccountState
	Config  *baselines.Config
	// Buckets are the planned buckets of the account: their baselines and
	// exemptions decide which account controls are in play and what the
	// trail must log.
	Buckets []BucketPlan
	// each, when set, yields the buckets instead of Buckets: a streamed
	// plan's kept records (see AccountPlan.Kept).
	each iter.Seq[*BucketPlan]
	// inUse and split cache baselinesInUse and splitBuckets (read only).
	inUse map[string]*baselines.Baseline
	split *[2][]string
	// Unseen are the account's buckets the plan did not look at (outside
	// the config's regions): the account flags would act on them too.
	Unseen []string

	Trails    []settings.Trail
	TrailsErr string
	// TrailKey is the configured trail key in the trail's region.
	TrailKey    settings.KeyInfo
	TrailKeyErr string
	IAM         *settings.IAMReport
	IAMErr      string
	Shield      *settings.ShieldState
	ShieldErr   string
	// AccessPoints are the account's access points in the planned
	// buckets' regions, MRAPs its Multi-Region Access Points.
	AccessPoints    []settings.AccessPoint
	AccessPointsErr string
	MRAPs           []settings.MultiRegionAccessPoint
	MRAPsErr        string
	// Now is the plan's time, for the mutes' until dates.
	Now time.Time
	// OrgS3 is the account's Organizations S3 policy, OrgS3Err why it
	// could not be read.
	OrgS3    *settings.OrgS3Policy
	OrgS3Err string
	// MRAPsUnlisted says the partition has no Multi-Region Access Point
	// control plane the tool knows (it is us-west-2 in aws).
	MRAPsUnlisted bool
}

// AccountResult is the account's part of the plan.
type AccountResult struct {
	Changes  []Change
	Findings []Finding
	Warnings []string
	Errors   []string
}

// AccountNeeds says which account reads a plan needs: those of the account
// controls the config's baselines and the planned buckets put in play.
type AccountNeeds struct {
	Trails, IAM, Shield, AccessPoints, MRAPs, OrgS3 bool
}

// NeedsFor is what the account diff will read for these buckets.
func NeedsFor(cfg *baselines.Config, buckets []BucketPlan) AccountNeeds {
	return (&AccountInput{Config: cfg, Buckets: buckets}).needs()
}

// needs is NeedsFor of the input's config and buckets.
func (in *AccountInput) needs() AccountNeeds {
	return AccountNeeds{
		Trails: len(in.dataBuckets()) > 0,
		IAM:    in.inPlay(settings.IAMMFA),
		Shield: in.inPlay(settings.Shield),
		// Access points are judged for the planned buckets, so with none
		// there is nothing to list.
		AccessPoints: in.hasBuckets() && in.inPlay(settings.AccessPointBPA),
		MRAPs:        in.inPlay(settings.MRAPBPA),
		OrgS3:        in.inPlay(settings.AccountBlockPublicAccess) && in.enforced(settings.AccountBlockPublicAccess),
	}
}

// DiffAccount judges the account controls.
func DiffAccount(in AccountInput) AccountResult {
	var r AccountResult
	if in.inPlay(settings.AccountBlockPublicAccess) && in.enforced(settings.AccountBlockPublicAccess) {
		in.accountBPA(&r)
	}
	if in.enforced(settings.CloudTrailDataEvents) {
		in.trail(&r)
	}
	if in.inPlay(settings.IAMMFA) {
		in.mfa(&r)
	}
	if in.inPlay(settings.Shield) {
		in.shield(&r)
	}
	if in.inPlay(settings.AccessPointBPA) {
		in.accessPoints(&r)
	}
	if in.inPlay(settings.MRAPBPA) {
		in.mraps(&r)
	}
	r.Changes = nonNilChanges(r.Changes)
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	muted, lapsed := in.Config.AccountMutes(in.Account.AccountID, in.Now)
	r.Warnings = append(r.Warnings, mute(r.Findings, muted, lapsed)...)
	return r
}

// buckets yields the planned buckets: Buckets, or those a streamed plan
// kept (each). The bucket yielded is valid until the loop's next turn.
func (in *AccountInput) buckets() iter.Seq[*BucketPlan] {
	if in.each != nil {
		return in.each
	}
	return eachBucket(in.Buckets)
}

func (in *AccountInput) hasBuckets() bool {
	for range in.buckets() {
		return true
	}
	return false
}

// bucketsSaying gathers what buckets say, each distinct message once with
// every bucket saying it: a legacy estate's buckets share a handful of
// impacts, and one line per bucket made the account change of a million
// buckets hundreds of MB of the same sentence.
type bucketsSaying struct {
	order []string
	names map[string][]string
}

func (g *bucketsSaying) add(bucket, msg string) {
	if g.names == nil {
		g.names = map[string][]string{}
	}
	if _, ok := g.names[msg]; !ok {
		g.order = append(g.order, msg)
	}
	g.names[msg] = append(g.names[msg], bucket)
}

// lines are "bucket a: msg" or "buckets a, b, c: msg", in the order the
// messages first came (ImpactBuckets reads them back).
func (g *bucketsSaying) lines() []string {
	var out []string
	for _, msg := range g.order {
		names := g.names[msg]
		what := "bucket "
		if len(names) > 1 {
			what = "buckets "
		}
		out = append(out, what+strings.Join(names, ", ")+": "+msg)
	}
	return out
}

// ImpactBuckets reads an account change's impact line back: the buckets it
// names and what they would lose. ok is false for a line that names none.
// Bucket names hold neither ", " nor ": ".
func ImpactBuckets(line string) (buckets []string, msg string, ok bool) {
	head, msg, found := strings.Cut(line, ": ")
	if !found {
		return nil, "", false
	}
	switch {
	case strings.HasPrefix(head, "buckets "):
		return strings.Split(strings.TrimPrefix(head, "buckets "), ", "), msg, true
	case strings.HasPrefix(head, "bucket "):
		return []string{strings.TrimPrefix(head, "bucket ")}, msg, true
	}
	return nil, "", false
}

// partition is the account's partition, from the caller's ARN.
func (in *AccountInput) partition() string { return settings.PartitionOf(in.Account.Caller) }

// baselinesInUse is the default baseline and every baseline a planned
// bucket is assigned, by name.
func (in *AccountInput) baselinesInUse() map[string]*baselines.Baseline {
	// Asked by every control's inPlay, enforced and nist: one pass over a
	// million buckets, not one per question. Read only.
	if in.inUse == nil {
		in.inUse = in.findBaselinesInUse()
	}
	return in.inUse
}

func (in *AccountInput) findBaselinesInUse() map[string]*baselines.Baseline {
	all := map[string]*baselines.Baseline{}
	if in.Config.Baseline != nil {
		all[in.Config.Baseline.Name] = in.Config.Baseline
	}
	for i := range in.Config.Rules {
		if b := in.Config.Rules[i].Baseline; b != nil {
			all[b.Name] = b
		}
	}
	used := map[string]*baselines.Baseline{}
	if in.Config.Baseline != nil {
		used[in.Config.Baseline.Name] = in.Config.Baseline
	}
	for b := range in.buckets() {
		if bl, ok := all[b.Baseline]; ok {
			used[b.Baseline] = bl
		}
	}
	return used
}

// inPlay reports whether any baseline in use has the control.
func (in *AccountInput) inPlay(id settings.ControlID) bool {
	for _, b := range in.baselinesInUse() {
		if b.Has(id) {
			return true
		}
	}
	return false
}

// enforced reports whether any baseline in use enforces the control.
func (in *AccountInput) enforced(id settings.ControlID) bool {
	for _, b := range in.baselinesInUse() {
		if b.Enforced(id) {
			return true
		}
	}
	return false
}

func (in *AccountInput) nist(id settings.ControlID) []string {
	for _, b := range in.baselinesInUse() {
		if b.Has(id) {
			return nistOf(b, id)
		}
	}
	return slices.Clone(baselines.NIST(id))
}

func isExempt(b *BucketPlan, id settings.ControlID) bool {
	return slices.ContainsFunc(b.Exempt, func(e Exemption) bool { return e.Control == id })
}

// accountBPA turns account-level Block Public Access on, unless a bucket in
// scope is allowed to be public: the account flags override every bucket's,
// so that bucket would go dark. Then it is held back with a warning naming
// the buckets, not planned, so that a run converges.
func (in *AccountInput) accountBPA(r *AccountResult) {
	id := settings.AccountBlockPublicAccess
	if in.Account.PublicAccessBlockError != "" {
		r.Errors = append(r.Errors, fmt.Sprintf("%s: cannot read the account's Block Public Access: %s", id, in.Account.PublicAccessBlockError))
		return
	}
	if o := in.OrgS3; o != nil && o.Managed {
		// The organization owns the setting: S3 refuses the account's own
		// write (403) and reads back the effective, inherited flags.
		which := "an Organizations S3 policy inherited from an OU or the root (the management account's ListPoliciesForTarget names it)"
		if len(o.PolicyIDs) > 0 {
			which = "the Organizations S3 policy " + strings.Join(o.PolicyIDs, ", ")
		}
		detail := "account-level Block Public Access is managed by the organization: " + which + " sets it to " + o.BlockPublicAccess +
			"; s3baseline never writes it (S3 refuses the account's own write)"
		if o.BlockPublicAccess != "all" {
			detail += ". The policy leaves the flags off: change it to \"all\" from the management account to turn them on for every account it covers"
		}
		r.Findings = append(r.Findings, Finding{Control: id, Subject: settings.AccountRootARN(in.partition(), in.Account.AccountID), NIST: in.nist(id), Detail: detail})
		return
	}
	if in.OrgS3Err != "" {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%s: whether an Organizations S3 policy manages it could not be read (%s); if one does, apply's write is refused", id, in.OrgS3Err))
	}
	want := &settings.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true}
	cur := in.Account.PublicAccessBlock
	if cur != nil && *cur == *want {
		r.Changes = append(r.Changes, Change{Control: id, Action: NoOp, Before: rawJSON(cur), After: rawJSON(cur),
			NIST: in.nist(id), Reason: "all four account-level Block Public Access flags are on"})
		return
	}
	all := in.baselinesInUse()
	var public []string
	for b := range in.buckets() {
		bl := all[b.Baseline]
		if (bl != nil && bl.AllowsPublicAccess()) || isExempt(b, settings.BlockPublicAccess) {
			public = append(public, fmt.Sprintf("%s (%s)", b.Name, b.Baseline))
		}
	}
	if len(public) > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%s held back: turning it on would block public access to %d in-scope %s whose baseline allows it: %s",
			id, len(public), plural(len(public), "bucket", "buckets"), strings.Join(public, ", ")))
		return
	}
	if len(in.Unseen) > 0 {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%s held back: it would act on %d %s outside the configured regions that the plan did not check: %s",
			id, len(in.Unseen), plural(len(in.Unseen), "bucket", "buckets"), nameList(in.Unseen)))
		return
	}
	// The account flags do at once what each bucket's would: whatever a
	// bucket's own Block Public Access change would cut off, this cuts off
	// too, so it carries those impacts and apply holds it back with them.
	// A bucket whose own change is held back (its impact could not be
	// told, or it cannot be made) holds this one back too: the account
	// flags would act on it all the same.
	var impact, held bucketsSaying
	for b := range in.buckets() {
		for _, c := range b.Changes {
			if c.Control == settings.BlockPublicAccess && c.Action != NoOp {
				for _, i := range c.Impact {
					impact.add(b.Name, i)
				}
				if c.HeldBack != "" {
					held.add(b.Name, c.HeldBack)
				}
			}
		}
	}
	ch := Change{Control: id, Action: createOrUpdate(cur == nil), Before: rawJSON(cur), After: rawJSON(want),
		NIST: in.nist(id), Reason: "account-level Block Public Access overrides every bucket's; no bucket in scope is allowed to be public",
		Impact: impact.lines()}
	if h := held.lines(); len(h) > 0 {
		ch.HeldBack = "the buckets' own Block Public Access changes are held back, and the account flags would act on them the same way: " + strings.Join(h, "; ")
	}
	r.Changes = append(r.Changes, ch)
}

// TrailRegion and TrailBucket are where the tool's trail lives and logs.
func TrailRegion(cfg *baselines.Config) string {
	if r := cfg.Settings.CloudTrail.Region; r != "" {
		return r
	}
	return baselines.DefaultTrailRegion
}

// TrailBucket is the trail's log bucket for the account.
func TrailBucket(cfg *baselines.Config, account string) string {
	b := cfg.Settings.CloudTrail.Bucket
	if b == "" {
		b = baselines.DefaultTrailBucket
	}
	return baselines.ExpandTemplate(b, account, TrailRegion(cfg))
}

// TrailKeyRef is the configured key of the trail.
func TrailKeyRef(cfg *baselines.Config) string {
	if k := cfg.Settings.CloudTrail.KMSKey; k != "" {
		return k
	}
	return baselines.DefaultTrailKMSKey
}

func trailName(cfg *baselines.Config) string {
	if n := cfg.Settings.CloudTrail.TrailName; n != "" {
		return n
	}
	return baselines.DefaultTrailName
}

// dataBuckets are the buckets whose object-level calls the trail must log:
// those whose baseline enforces cloudtrail_data_events and that are not
// exempt, minus the log targets and the trail's own bucket (logging those
// would log the logging), sorted.
func (in *AccountInput) dataBuckets() []string {
	data, _ := in.splitBuckets()
	return data
}

// splitBuckets divides the planned buckets into those the trail must log
// and the others, each sorted.
func (in *AccountInput) splitBuckets() (data, others []string) {
	// Asked more than once (what to read, then the trail): one pass.
	if in.split == nil {
		d, o := in.findSplit()
		in.split = &[2][]string{d, o}
	}
	return in.split[0], in.split[1]
}

func (in *AccountInput) findSplit() (data, others []string) {
	all := in.baselinesInUse()
	trailBucket := TrailBucket(in.Config, in.Account.AccountID)
	logTargets := map[string]string{}
	for b := range in.buckets() {
		bl := all[b.Baseline]
		target, ok := logTargets[b.Region]
		if !ok {
			target = LogTarget(in.Config, in.Account.AccountID, b.Region)
			logTargets[b.Region] = target
		}
		switch {
		case bl == nil || !bl.Enforced(settings.CloudTrailDataEvents) || isExempt(b, settings.CloudTrailDataEvents),
			b.Name == trailBucket || b.Name == target:
			others = append(others, b.Name)
		default:
			data = append(data, b.Name)
		}
	}
	// The trail's bucket may not exist yet; it is never logged.
	if !slices.Contains(others, trailBucket) {
		others = append(others, trailBucket)
	}
	slices.Sort(data)
	slices.Sort(others)
	return data, others
}

// wantInsights reports whether a baseline in use asks for ApiCallRateInsight
// on the trail.
func (in *AccountInput) wantInsights() bool {
	for _, b := range in.baselinesInUse() {
		if b.CloudTrailInsights && b.Enforced(settings.CloudTrailDataEvents) {
			return true
		}
	}
	return false
}

// trailBilling is said on every trail change: data events are the one part
// of this baseline that costs per use.
const trailBilling = "CloudTrail bills data events per event delivered ($0.10 per 100,000, the first copy included), so the trail logs only the in-scope buckets"

// trail finds a trail that already satisfies cloudtrail_data_events, or
// plans ours: created, or updated with its selectors merged.
func (in *AccountInput) trail(r *AccountResult) {
	id := settings.CloudTrailDataEvents
	buckets := in.dataBuckets()
	if len(buckets) == 0 {
		return
	}
	if in.TrailsErr != "" {
		r.Errors = append(r.Errors, fmt.Sprintf("%s: cannot list the trails: %s", id, in.TrailsErr))
		return
	}
	insights := in.wantInsights()
	name, region := trailName(in.Config), TrailRegion(in.Config)
	var ours *settings.Trail
	for i := range in.Trails {
		t := &in.Trails[i]
		if len(TrailShortfalls(*t, buckets, insights)) == 0 {
			r.Changes = append(r.Changes, Change{Control: id, Action: NoOp, Before: rawJSON(t), After: rawJSON(t), NIST: in.nist(id),
				Reason: fmt.Sprintf("trail %s already logs S3 data events for all %d in-scope %s, encrypted, multi-region, validated and logging",
					t.Name, len(buckets), plural(len(buckets), "bucket", "buckets"))})
			return
		}
		if t.Name == name && t.HomeRegion == region {
			ours = t
		}
	}
	if in.TrailKeyErr != "" {
		r.Errors = append(r.Errors, fmt.Sprintf("%s: cannot resolve the trail's KMS key %s in %s: %s", id, TrailKeyRef(in.Config), region, in.TrailKeyErr))
		return
	}
	key := TrailKeyRef(in.Config)
	if in.TrailKey.Exists {
		key = in.TrailKey.ARN
	}
	spec := TrailSpec{Name: name, Region: region, Bucket: TrailBucket(in.Config, in.Account.AccountID), Key: key,
		Buckets: buckets, Insights: insights, Partition: in.partition()}
	// The plan knows every bucket of the account (account controls are not
	// planned under --bucket or --region; those outside the config's
	// regions are Unseen), so "all but these" names exactly the buckets to
	// log.
	_, others := in.splitBuckets()
	spec.Excluded = append([]string{}, sortedSet(append(others, in.Unseen...))...)
	want, allBut, err := DesiredTrail(ours, spec)
	if err != nil {
		r.Errors = append(r.Errors, fmt.Sprintf("%s: %v", id, err))
		return
	}
	if allBut {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%s: listing the %d buckets to log would exceed CloudTrail's %d selector values, so the trail logs the data events of every bucket of the account except %d (%s), buckets created later included: they are billed per event too",
			id, len(buckets), maxAdvancedValues, len(spec.Excluded), nameList(spec.Excluded)))
	}
	reason := "no trail logs S3 data events for the in-scope buckets; create " + name + " in " + region
	var before any
	if ours != nil {
		before = ours
		reason = "trail " + name + ": " + strings.Join(TrailShortfalls(*ours, buckets, insights), "; ")
	}
	if !in.TrailKey.Exists {
		reason += "; the KMS key " + key + " is created with a policy that lets CloudTrail use it"
	}
	r.Changes = append(r.Changes, Change{Control: id, Action: createOrUpdate(ours == nil), Before: rawJSON(before), After: rawJSON(want),
		NIST: in.nist(id), Reason: reason + ". " + trailBilling})
}

// TrailShortfalls lists why trail t does not satisfy cloudtrail_data_events
// for these buckets; empty when it does.
func TrailShortfalls(t settings.Trail, buckets []string, insights bool) []string {
	var out []string
	if !t.IsLogging {
		out = append(out, "logging is off")
	}
	if !t.MultiRegion {
		out = append(out, "not multi-region")
	}
	if t.KMSKeyID == "" {
		out = append(out, "log files are not KMS-encrypted")
	}
	if !t.LogFileValidation {
		out = append(out, "log file validation is off")
	}
	var missing []string
	for _, b := range buckets {
		if !TrailCovers(t, b) {
			missing = append(missing, b)
		}
	}
	if len(missing) > 0 {
		out = append(out, fmt.Sprintf("no S3 data events for %d in-scope %s (%s)", len(missing), plural(len(missing), "bucket", "buckets"), nameList(missing)))
	}
	if insights && !slices.Contains(t.Insights, settings.InsightAPICallRate) {
		out = append(out, settings.InsightAPICallRate+" is off")
	}
	return out
}

// TrailCovers reports whether the trail logs every object-level read and
// write of the bucket.
func TrailCovers(t settings.Trail, bucket string) bool {
	part := trailPartition(t)
	objects := settings.BucketARN(part, bucket) + "/"
	for _, s := range t.EventSelectors {
		if s.ReadWriteType != "" && s.ReadWriteType != "All" {
			continue
		}
		for _, d := range s.DataResources {
			if d.Type != "AWS::S3::Object" {
				continue
			}
			for _, v := range d.Values {
				if v == "arn:"+part+":s3" || v == "arn:"+part+":s3:::" || v == objects || v == strings.TrimSuffix(objects, "/") {
					return true
				}
			}
		}
	}
	for _, s := range t.AdvancedEventSelectors {
		if advancedCovers(s, objects) {
			return true
		}
	}
	return false
}

// trailPartition is the partition of a trail's ARNs: its own ARN's, or
// that of the first S3 ARN its selectors name (a trail being planned has
// no ARN yet), "aws" otherwise.
func trailPartition(t settings.Trail) string {
	if t.ARN != "" {
		return settings.PartitionOf(t.ARN)
	}
	var values []string
	for _, s := range t.EventSelectors {
		for _, d := range s.DataResources {
			values = append(values, d.Values...)
		}
	}
	for _, s := range t.AdvancedEventSelectors {
		for _, f := range s.FieldSelectors {
			values = append(values, f.StartsWith...)
			values = append(values, f.NotStartsWith...)
		}
	}
	for _, v := range values {
		if strings.HasPrefix(v, "arn:") {
			return settings.PartitionOf(v)
		}
	}
	return "aws"
}

// prefixBucket is the bucket an object ARN prefix
// (arn:PARTITION:s3:::bucket/) names.
func prefixBucket(p string) string {
	_, rest, _ := strings.Cut(p, ":s3:::")
	return strings.TrimSuffix(rest, "/")
}

func advancedCovers(s settings.AdvancedEventSelector, objects string) bool {
	var data, s3obj bool
	arnOK := true
	for _, f := range s.FieldSelectors {
		switch f.Field {
		case "eventCategory":
			data = slices.Contains(f.Equals, "Data")
		case "resources.type":
			s3obj = slices.Contains(f.Equals, "AWS::S3::Object")
		case "resources.ARN":
			arnOK = len(f.Equals) == 0 && len(f.EndsWith) == 0 && len(f.NotEquals) == 0 && len(f.NotEndsWith) == 0 &&
				(len(f.StartsWith) == 0 || slices.ContainsFunc(f.StartsWith, func(p string) bool { return strings.HasPrefix(objects, p) })) &&
				!slices.ContainsFunc(f.NotStartsWith, func(p string) bool { return strings.HasPrefix(objects, p) || strings.HasPrefix(p, objects) })
		default:
			// readOnly, eventName, eventSource, ...: the selector logs
			// only part of the bucket's events.
			return false
		}
	}
	return data && s3obj && arnOK
}

// DesiredTrail is the tool's trail with the buckets' data events merged into
// its selectors: cur's selectors are all kept, in the form cur uses (a
// trail holds basic or advanced selectors, and putting advanced ones
// overwrites basic ones), and only values are added. A new trail gets
// advanced selectors. Insights add ApiCallRateInsight and, when no selector
// logs write management events yet (the insight needs them), a selector
// that does. When listing the buckets one by one would exceed CloudTrail's
// limit on advanced selector values and spec.Excluded is set, the tool's
// selector logs every S3 object but those of the excluded buckets instead;
// allBut says so.
func DesiredTrail(cur *settings.Trail, spec TrailSpec) (t settings.Trail, allBut bool, err error) {
	t = settings.Trail{
		Name: spec.Name, HomeRegion: spec.Region, S3BucketName: spec.Bucket, KMSKeyID: spec.Key,
		MultiRegion: true, LogFileValidation: true, IncludeGlobalEvents: true, IsLogging: true,
	}
	if cur != nil {
		t.ARN = cur.ARN
		t.S3KeyPrefix = cur.S3KeyPrefix
		t.IncludeGlobalEvents = cur.IncludeGlobalEvents || !cur.MultiRegion
		t.Insights = slices.Clone(cur.Insights)
	}
	if spec.Insights && !slices.Contains(t.Insights, settings.InsightAPICallRate) {
		t.Insights = append(t.Insights, settings.InsightAPICallRate)
		slices.Sort(t.Insights)
	}
	var cursel []settings.AdvancedEventSelector
	if cur != nil && len(cur.EventSelectors) > 0 {
		basic, err := mergeBasic(cur.EventSelectors, objectPrefixes(spec.Partition, spec.Buckets), spec.Insights)
		if err == nil {
			t.EventSelectors = basic
			return t, false, nil
		}
		// Basic selectors cannot hold it (5 selectors, 250 data
		// resources): the same selections as advanced selectors can, and
		// putting advanced selectors replaces the basic ones.
		cursel = AdvancedFromBasic(cur.EventSelectors)
	} else if cur != nil {
		cursel = cur.AdvancedEventSelectors
	}
	t.AdvancedEventSelectors, allBut, err = mergeAdvanced(cursel, spec)
	return t, allBut, err
}

func objectPrefixes(partition string, buckets []string) []string {
	out := make([]string, 0, len(buckets))
	for _, b := range buckets {
		out = append(out, settings.BucketARN(partition, b)+"/")
	}
	return out
}

// AdvancedFromBasic translates basic event selectors into advanced ones
// that select the same events (CloudTrail User Guide: "Converting basic
// event selectors to advanced"): management events by read/write type and
// excluded sources, and each data resource by type, ARN prefixes and
// read/write type.
func AdvancedFromBasic(basic []settings.EventSelector) []settings.AdvancedEventSelector {
	var out []settings.AdvancedEventSelector
	readOnly := func(rw string) []settings.FieldSelector {
		switch rw {
		case "ReadOnly":
			return []settings.FieldSelector{{Field: "readOnly", Equals: []string{"true"}}}
		case "WriteOnly":
			return []settings.FieldSelector{{Field: "readOnly", Equals: []string{"false"}}}
		}
		return nil
	}
	for i, s := range basic {
		if s.IncludeManagementEvents {
			fields := []settings.FieldSelector{{Field: "eventCategory", Equals: []string{"Management"}}}
			fields = append(fields, readOnly(s.ReadWriteType)...)
			if len(s.ExcludeManagementEventSources) > 0 {
				fields = append(fields, settings.FieldSelector{Field: "eventSource", NotEquals: slices.Clone(s.ExcludeManagementEventSources)})
			}
			out = append(out, settings.AdvancedEventSelector{Name: fmt.Sprintf("management events (basic selector %d)", i+1), FieldSelectors: fields})
		}
		for _, d := range s.DataResources {
			fields := []settings.FieldSelector{{Field: "eventCategory", Equals: []string{"Data"}}, {Field: "resources.type", Equals: []string{d.Type}}}
			all := slices.ContainsFunc(d.Values, typeWide)
			if !all && len(d.Values) > 0 {
				fields = append(fields, settings.FieldSelector{Field: "resources.ARN", StartsWith: slices.Clone(d.Values)})
			}
			fields = append(fields, readOnly(s.ReadWriteType)...)
			out = append(out, settings.AdvancedEventSelector{Name: fmt.Sprintf("%s data events (basic selector %d)", d.Type, i+1), FieldSelectors: fields})
		}
	}
	return out
}

// typeWide reports whether a basic data resource value selects every
// resource of its type: "arn:aws:s3", "arn:aws:s3:::", "arn:aws:lambda"
// name no resource, only the partition and service.
func typeWide(v string) bool {
	n := 0
	for _, part := range strings.Split(v, ":") {
		if part != "" {
			n++
		}
	}
	return n <= 3
}

func mergeBasic(cur []settings.EventSelector, prefixes []string, insights bool) ([]settings.EventSelector, error) {
	out := make([]settings.EventSelector, len(cur))
	for i, s := range cur {
		out[i] = s
		out[i].DataResources = slices.Clone(s.DataResources)
		for j := range out[i].DataResources {
			out[i].DataResources[j].Values = slices.Clone(s.DataResources[j].Values)
		}
	}
	trail := settings.Trail{EventSelectors: out}
	var add []string
	for _, p := range prefixes {
		if !TrailCovers(trail, prefixBucket(p)) {
			add = append(add, p)
		}
	}
	target := -1
	for i, s := range out {
		if s.ReadWriteType != "" && s.ReadWriteType != "All" {
			continue
		}
		for j, d := range s.DataResources {
			if d.Type == "AWS::S3::Object" && target < 0 {
				target = i
				out[i].DataResources[j].Values = append(out[i].DataResources[j].Values, add...)
				add = nil
			}
		}
	}
	if len(add) > 0 {
		if len(out) >= 5 {
			return nil, fmt.Errorf("the trail already has 5 basic event selectors, CloudTrail's limit; move it to advanced event selectors to add S3 data events")
		}
		out = append(out, settings.EventSelector{ReadWriteType: "All", IncludeManagementEvents: false,
			DataResources: []settings.DataResource{{Type: "AWS::S3::Object", Values: add}}})
		target = len(out) - 1
	}
	if insights && !slices.ContainsFunc(out, func(s settings.EventSelector) bool {
		return s.IncludeManagementEvents && (s.ReadWriteType == "" || s.ReadWriteType == "All" || s.ReadWriteType == "WriteOnly")
	}) && target >= 0 {
		out[target].IncludeManagementEvents = true
	}
	n := 0
	for _, s := range out {
		for _, d := range s.DataResources {
			n += len(d.Values)
		}
	}
	if n > maxDataResources {
		return nil, fmt.Errorf("the trail's basic event selectors would hold %d data resources, over CloudTrail's limit of %d; move it to advanced event selectors", n, maxDataResources)
	}
	return out, nil
}

// mergeAdvanced keeps every selector but the tool's own, which it makes
// anew: the data events of the buckets listed (with those it listed
// before), or, when that would not fit CloudTrail's limit and spec allows
// it, of every bucket but the excluded ones.
func mergeAdvanced(cur []settings.AdvancedEventSelector, spec TrailSpec) ([]settings.AdvancedEventSelector, bool, error) {
	// ours is where the tool's selector stands (kept in place, so a merge
	// of a merge is the same list), or -1 for the end.
	var kept []settings.AdvancedEventSelector
	var listed []string
	ours := -1
	for _, s := range cur {
		if s.Name != DataSelectorName {
			s.FieldSelectors = slices.Clone(s.FieldSelectors)
			kept = append(kept, s)
			continue
		}
		if ours < 0 {
			ours = len(kept)
		}
		for _, f := range s.FieldSelectors {
			if f.Field == "resources.ARN" {
				listed = append(listed, f.StartsWith...)
			}
		}
	}
	if ours < 0 {
		ours = len(kept)
	}
	build := func(arn settings.FieldSelector) []settings.AdvancedEventSelector {
		fields := []settings.FieldSelector{
			{Field: "eventCategory", Equals: []string{"Data"}},
			{Field: "resources.type", Equals: []string{"AWS::S3::Object"}},
		}
		if len(arn.StartsWith) > 0 || len(arn.NotStartsWith) > 0 {
			fields = append(fields, arn)
		}
		out := slices.Insert(slices.Clone(kept), ours, settings.AdvancedEventSelector{Name: DataSelectorName, FieldSelectors: fields})
		if spec.Insights && !slices.ContainsFunc(out, logsWriteManagement) {
			out = append(out, settings.AdvancedEventSelector{Name: ManagementSelectorName, FieldSelectors: []settings.FieldSelector{
				{Field: "eventCategory", Equals: []string{"Management"}},
			}})
		}
		return out
	}
	// More buckets than CloudTrail takes values cannot be listed one by
	// one (each is a value of its own): a million are not spelt out first.
	n := len(spec.Buckets)
	if n <= maxAdvancedValues {
		out := build(settings.FieldSelector{Field: "resources.ARN", StartsWith: sortedSet(append(listed, objectPrefixes(spec.Partition, spec.Buckets)...))})
		if n = advancedValues(out); n <= maxAdvancedValues {
			return out, false, nil
		}
	}
	if spec.Excluded != nil {
		allBut := build(settings.FieldSelector{Field: "resources.ARN", NotStartsWith: sortedSet(objectPrefixes(spec.Partition, spec.Excluded))})
		if advancedValues(allBut) <= maxAdvancedValues {
			return allBut, true, nil
		}
	}
	return nil, false, fmt.Errorf("the trail's advanced event selectors would hold at least %d values, over CloudTrail's limit of %d, and logging every bucket but the others does not fit either; split the buckets over trails or exempt some", n, maxAdvancedValues)
}

// advancedValues counts the values of every condition of the selectors, the
// quantity CloudTrail limits.
func advancedValues(sels []settings.AdvancedEventSelector) int {
	n := 0
	for _, s := range sels {
		for _, f := range s.FieldSelectors {
			n += len(f.Equals) + len(f.StartsWith) + len(f.EndsWith) + len(f.NotEquals) + len(f.NotStartsWith) + len(f.NotEndsWith)
		}
	}
	return n
}

// logsWriteManagement reports whether an advanced selector logs write
// management events, which ApiCallRateInsight needs.
func logsWriteManagement(s settings.AdvancedEventSelector) bool {
	mgmt := false
	for _, f := range s.FieldSelectors {
		switch f.Field {
		case "eventCategory":
			mgmt = slices.Contains(f.Equals, "Management")
		case "readOnly":
			if slices.Contains(f.Equals, "true") {
				return false
			}
		}
	}
	return mgmt
}

// mfa reports console users without MFA and a root user without MFA. No
// API can enable MFA for someone: the finding says what the person must do.
func (in *AccountInput) mfa(r *AccountResult) {
	id := settings.IAMMFA
	if in.IAMErr != "" {
		r.Errors = append(r.Errors, fmt.Sprintf("%s: cannot read IAM users: %s", id, in.IAMErr))
		return
	}
	if in.IAM == nil {
		return
	}
	nist := in.nist(id)
	if !in.IAM.RootMFA {
		r.Findings = append(r.Findings, Finding{Control: id, Subject: settings.AccountRootARN(in.partition(), in.Account.AccountID), NIST: nist,
			Detail: "the root user has no MFA device: sign in as root and assign one (Security credentials, Assign MFA device); no API can do it"})
	}
	for _, u := range in.IAM.Users {
		if u.ConsolePassword && u.MFADevices == 0 {
			r.Findings = append(r.Findings, Finding{Control: id, Subject: u.ARN, NIST: nist,
				Detail: "console password and no MFA device: the user must assign one (IAM console, Security credentials, Assign MFA device), or remove the password if the user does not sign in; no API can enable MFA for someone else"})
		}
	}
}

// shield reports the Shield Advanced subscription and that an S3 bucket
// cannot be a Shield protection. The tool never subscribes: it is a
// one-year paid commitment.
func (in *AccountInput) shield(r *AccountResult) {
	id := settings.Shield
	if in.ShieldErr != "" {
		r.Errors = append(r.Errors, fmt.Sprintf("%s: cannot read the Shield Advanced subscription: %s", id, in.ShieldErr))
		return
	}
	if in.Shield == nil {
		return
	}
	state := "no Shield Advanced subscription (Shield Standard only, automatic and free)"
	if in.Shield.Subscribed {
		state = "Shield Advanced subscription active"
		if in.Shield.EndTime != nil {
			state += " until " + in.Shield.EndTime.UTC().Format("2006-01-02")
		}
		if in.Shield.AutoRenew != "" {
			state += ", auto-renew " + in.Shield.AutoRenew
		}
	}
	r.Findings = append(r.Findings, Finding{Control: id, Subject: "arn:" + in.partition() + ":shield::" + in.Account.AccountID + ":subscription", NIST: in.nist(id),
		Detail: state + ". An S3 bucket cannot itself be a Shield Advanced protection: put CloudFront in front of the bucket and protect the distribution. " +
			"s3baseline never subscribes: Shield Advanced is a one-year commitment (about $3,000 a month per organization)"})
}

func nonNilChanges(c []Change) []Change {
	if c == nil {
		return []Change{}
	}
	return c
}

// accessPoints reports the access points of the planned buckets whose
// Block Public Access is not all on (Security Hub S3.19). Nothing can
// change it: S3 fixes an access point's Block Public Access at creation.
func (in *AccountInput) accessPoints(r *AccountResult) {
	id := settings.AccessPointBPA
	if in.AccessPointsErr != "" {
		r.Errors = append(r.Errors, fmt.Sprintf("%s: cannot list access points: %s", id, in.AccessPointsErr))
		return
	}
	// A set of the access points' buckets, not of every planned bucket:
	// an account has few access points and may have a million buckets.
	planned := map[string]bool{}
	for _, ap := range in.AccessPoints {
		planned[ap.Bucket] = false
	}
	if len(planned) > 0 {
		for b := range in.buckets() {
			if _, ok := planned[b.Name]; ok {
				planned[b.Name] = true
			}
		}
	}
	for _, ap := range in.AccessPoints {
		if !planned[ap.Bucket] || ap.PublicAccessBlock.AllOn() {
			continue
		}
		r.Findings = append(r.Findings, Finding{Control: id, Subject: ap.ARN, NIST: in.nist(id),
			Detail: fmt.Sprintf("access point %s of bucket %s has Block Public Access %s off; S3 cannot change an access point's Block Public Access after it is created: "+
				"create a replacement with all four flags on (CreateAccessPoint), move its users, then delete this one. The bucket's and the account's Block Public Access still apply on top of it",
				ap.Name, ap.Bucket, strings.Join(offFlags(ap.PublicAccessBlock), ", "))})
	}
}

// mraps reports the Multi-Region Access Points whose Block Public Access
// is not all on (Security Hub S3.24); like an access point's, it is fixed
// at creation.
func (in *AccountInput) mraps(r *AccountResult) {
	id := settings.MRAPBPA
	if in.MRAPsUnlisted {
		r.Warnings = append(r.Warnings, fmt.Sprintf("%s: not checked: s3baseline lists Multi-Region Access Points only in the aws partition (control plane us-west-2), and this account is in %s", id, in.partition()))
		return
	}
	if in.MRAPsErr != "" {
		r.Errors = append(r.Errors, fmt.Sprintf("%s: cannot list Multi-Region Access Points: %s", id, in.MRAPsErr))
		return
	}
	for _, m := range in.MRAPs {
		if m.PublicAccessBlock.AllOn() {
			continue
		}
		r.Findings = append(r.Findings, Finding{Control: id, Subject: "arn:" + in.partition() + ":s3::" + in.Account.AccountID + ":accesspoint/" + m.Alias, NIST: in.nist(id),
			Detail: fmt.Sprintf("Multi-Region Access Point %s (buckets %s) has Block Public Access %s off; it cannot be changed after creation: "+
				"create a replacement with all four flags on (CreateMultiRegionAccessPoint, in us-west-2), move its users, then delete this one",
				m.Name, strings.Join(m.Buckets, ", "), strings.Join(offFlags(m.PublicAccessBlock), ", "))})
	}
}

// offFlags names the Block Public Access flags that are off.
func offFlags(p *settings.PublicAccessBlock) []string {
	if p == nil {
		p = &settings.PublicAccessBlock{}
	}
	var out []string
	for _, f := range []struct {
		on   bool
		name string
	}{{p.BlockPublicAcls, "BlockPublicAcls"}, {p.IgnorePublicAcls, "IgnorePublicAcls"}, {p.BlockPublicPolicy, "BlockPublicPolicy"}, {p.RestrictPublicBuckets, "RestrictPublicBuckets"}} {
		if !f.on {
			out = append(out, f.name)
		}
	}
	return out
}
