package plan

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/s3baseline/s3baseline/baselines"
	"github.com/s3baseline/s3baseline/settings"
)

func bucketNames(p *Plan) []string {
	var out []string
	for _, b := range p.Buckets {
		out = append(out, b.Name)
	}
	return out
}

func TestBuildScope(t *testing.T) {
	refs := []settings.BucketRef{
		{Name: "b-logs", Region: "eu-west-1"},
		{Name: "a-data", Region: "eu-west-1"},
		{Name: "a-web", Region: "us-east-1"},
		{Name: "c-tmp", Region: "ap-south-1"},
	}
	cases := map[string]struct {
		reason        string
		globs         []string
		regions       []string
		configRegions []string
		want          []string
	}{
		"All": {
			reason: "no filter: every bucket, sorted by name",
			want:   []string{"a-data", "a-web", "b-logs", "c-tmp"},
		},
		"Globs": {
			reason: "--bucket globs are ORed",
			globs:  []string{"a-*", "c-tmp"},
			want:   []string{"a-data", "a-web", "c-tmp"},
		},
		"Regions": {
			reason:  "--region filters by home region",
			regions: []string{"eu-west-1"},
			want:    []string{"a-data", "b-logs"},
		},
		"ConfigRegions": {
			reason:        "the config's regions filter too, ANDed with the flags",
			globs:         []string{"a-*"},
			configRegions: []string{"us-east-1", "ap-south-1"},
			want:          []string{"a-web"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(builtin(t, "low"))
			cfg.Regions = tc.configRegions
			f := &fakeObserver{account: testAccountState(), refs: refs}
			p, err := Build(context.Background(), f, Options{Config: cfg, Buckets: tc.globs, Regions: tc.regions, Now: testNow()})
			if err != nil {
				t.Fatalf("\n%s\nBuild: %v", tc.reason, err)
			}
			if diff := cmp.Diff(tc.want, bucketNames(p)); diff != "" {
				t.Errorf("\n%s\nbuckets: -want, +got:\n%s", tc.reason, diff)
			}
			for name := range f.observed {
				if !strings.Contains(strings.Join(tc.want, ","), name) {
					t.Errorf("\n%s\nobserved %s, which is out of scope", tc.reason, name)
				}
			}
			if p.Summary.Buckets != len(tc.want) {
				t.Errorf("\n%s\nsummary.buckets = %d, want %d", tc.reason, p.Summary.Buckets, len(tc.want))
			}
		})
	}
}

func TestBuildObservesOnlyNeededAspects(t *testing.T) {
	A := func(a ...settings.Aspect) []settings.Aspect { return a }
	// What high reads of every bucket first: the aspects of its enforced
	// and reported controls (the ACL for acl_grants).
	highFirst := A(settings.AspectPublicAccessBlock, settings.AspectOwnership, settings.AspectEncryption,
		settings.AspectLogging, settings.AspectVersioning, settings.AspectPolicy, settings.AspectNotifications,
		settings.AspectObjectLock, settings.AspectLifecycle, settings.AspectACL)
	cases := map[string]struct {
		reason   string
		baseline string
		rules    []baselines.Rule
		drift    func(*settings.BucketState)
		want     map[string][][]settings.Aspect
	}{
		"Low": {
			reason:   "low judges encryption and logging and reports ACL grants",
			baseline: "low",
			want: map[string][][]settings.Aspect{
				"data": {A(settings.AspectEncryption, settings.AspectLogging, settings.AspectACL)},
			},
		},
		"High": {
			reason:   "high reads every aspect once, the policy once for two controls; a compliant bucket not its tags",
			baseline: "high",
			want: map[string][][]settings.Aspect{
				"data": {highFirst},
			},
		},
		"ChangesReadTags": {
			reason: "a bucket with changes then reads its tags (does CloudFormation manage it?) and, about to get " +
				"Block Public Access, what it could cut off (S3's verdict on the policy, the ACL, the website), in one more observation",
			baseline: "high",
			drift: func(st *settings.BucketState) {
				st.PublicAccessBlock = nil
				st.Ownership = &settings.Ownership{Rule: "ObjectWriter"} // ACLs on: they may make a website public
			},
			want: map[string][][]settings.Aspect{
				"data": {
					highFirst,
					A(settings.AspectTags, settings.AspectPolicyStatus, settings.AspectWebsite),
				},
			},
		},
		"NoPublicWayNoWebsite": {
			reason: "ACLs disabled and no Allow to everyone in the policy: no website can be public, " +
				"so the website and the ACL are not read; S3's verdict on the policy is",
			baseline: "high",
			drift:    func(st *settings.BucketState) { st.PublicAccessBlock = nil },
			want: map[string][][]settings.Aspect{
				"data": {
					highFirst,
					A(settings.AspectTags, settings.AspectPolicyStatus),
				},
			},
		},
		"ChangesWithTagRules": {
			reason:   "with rules on tags the tags were read first; a bucket with changes reads only what is still missing",
			baseline: "high",
			rules: []baselines.Rule{{MatchTags: map[string]string{"tier": "gold"}, Baseline: builtin(t, "low"),
				Reason: "gold"}},
			drift: func(st *settings.BucketState) { st.Encryption = nil },
			want: map[string][][]settings.Aspect{
				"data": {
					A(settings.AspectTags),
					highFirst,
					// SSE-KMS is planned: S3's verdict on the policy tells
					// whether anonymous readers would lose access.
					A(settings.AspectPolicyStatus),
				},
			},
		},
		"Exempt": {
			reason:   "an exempt control's aspect is not read",
			baseline: "low",
			rules:    []baselines.Rule{{Match: "data", Exempt: []settings.ControlID{settings.AccessLogging}, Reason: "r"}},
			want: map[string][][]settings.Aspect{
				"data": {A(settings.AspectEncryption, settings.AspectACL)},
			},
		},
		"AllExempt": {
			reason:   "nothing to judge: no observation at all",
			baseline: "low",
			rules: []baselines.Rule{{Match: "data", Exempt: []settings.ControlID{settings.AccessLogging, settings.DefaultEncryption, settings.ACLGrants},
				Reason: "r"}},
			want: map[string][][]settings.Aspect{},
		},
		"TagsFirst": {
			reason:   "rules on tags: the tags are read first, then what the assigned baseline needs",
			baseline: "high",
			rules: []baselines.Rule{{MatchTags: map[string]string{"tier": "scratch"}, Baseline: builtin(t, "low"),
				Reason: "scratch space"}},
			want: map[string][][]settings.Aspect{
				"data": {A(settings.AspectTags), A(settings.AspectEncryption, settings.AspectLogging, settings.AspectACL)},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(builtin(t, tc.baseline))
			cfg.Rules = tc.rules
			st := compliantState(testBucket)
			st.Tags = map[string]string{"tier": "scratch"}
			if tc.drift != nil {
				tc.drift(&st)
			}
			f := &fakeObserver{
				account: testAccountState(),
				refs:    []settings.BucketRef{{Name: testBucket, Region: testRegion}},
				states:  map[string]settings.BucketState{testBucket: st},
				keys:    map[string]settings.KeyInfo{testRegion: testKey()},
			}
			p, err := Build(context.Background(), f, Options{Config: cfg, Now: testNow()})
			if err != nil {
				t.Fatal(err)
			}
			got := f.observed
			if got == nil {
				got = map[string][][]settings.Aspect{}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("\n%s\nObserveBucket calls: -want, +got:\n%s", tc.reason, diff)
			}
			if len(p.Buckets) > 0 && len(p.Buckets[0].Errors) > 0 {
				t.Errorf("\n%s\nunexpected errors: %q", tc.reason, p.Buckets[0].Errors)
			}
			if len(p.Buckets) > 0 && (p.Buckets[0].pending() == 0) != (tc.drift == nil) {
				t.Errorf("\n%s\nbucket changes: %d; only a drifted bucket has changes", tc.reason, p.Buckets[0].pending())
			}
		})
	}
}

func TestBuildDescribesKeyOncePerRegion(t *testing.T) {
	f := &fakeObserver{account: testAccountState(), states: map[string]settings.BucketState{},
		keys: map[string]settings.KeyInfo{testRegion: testKey(), "us-east-1": {Ref: testKeyRef}}}
	for _, n := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		region := testRegion
		if n > "e" {
			region = "us-east-1"
		}
		f.refs = append(f.refs, settings.BucketRef{Name: n, Region: region})
		f.states[n] = compliantState(n)
	}
	p, err := Build(context.Background(), f, Options{Config: testConfig(builtin(t, "high")), Concurrency: 4, Now: testNow()})
	if err != nil {
		t.Fatal(err)
	}
	// Once per region for the buckets' key, and once for the trail's key
	// in the trail's home region (us-east-1).
	if diff := cmp.Diff(map[string]int{testRegion: 1, "us-east-1": 2}, f.described); diff != "" {
		t.Errorf("DescribeKey calls by region: -want, +got:\n%s", diff)
	}
	// us-east-1 has no such key: create_key is on, so the plan creates it.
	ch, _ := findChange(p.Buckets[7], settings.DefaultEncryption)
	if ch.Action != Update || !strings.Contains(ch.Reason, "will create") {
		t.Errorf("bucket h: default_encryption %s %q, want an update to the key s3baseline will create", ch.Action, ch.Reason)
	}
}

func TestBuildErrors(t *testing.T) {
	cfg := testConfig(builtin(t, "low"))
	cases := map[string]struct {
		reason string
		obs    *fakeObserver
		opts   Options
		want   string
	}{
		"Account": {
			reason: "the account cannot be read: fatal",
			obs:    &fakeObserver{accountErr: errors.New("get caller identity: ExpiredToken")},
			opts:   Options{Config: cfg},
			want:   "observe account: get caller identity: ExpiredToken",
		},
		"List": {
			reason: "the bucket list cannot be read: fatal",
			obs:    &fakeObserver{listErr: errors.New("AccessDenied: no")},
			opts:   Options{Config: cfg},
			want:   "list buckets: AccessDenied: no",
		},
		"BadGlob": {
			reason: "a bad --bucket glob is refused before any call",
			obs:    &fakeObserver{},
			opts:   Options{Config: cfg, Buckets: []string{"a["}},
			want:   `--bucket "a["`,
		},
		"NoBaseline": {
			reason: "a config without a baseline is refused",
			obs:    &fakeObserver{},
			opts:   Options{Config: baselines.DefaultConfig()},
			want:   "no baseline",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Build(context.Background(), tc.obs, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("\n%s\nBuild error %v, want one containing %q", tc.reason, err, tc.want)
			}
		})
	}
}

func TestBuildTagReadFailure(t *testing.T) {
	cfg := testConfig(builtin(t, "high"))
	cfg.Rules = []baselines.Rule{{MatchTags: map[string]string{"team": "x"}, Baseline: builtin(t, "low"), Reason: "r"}}
	st := compliantState(testBucket)
	st.Errors = map[settings.Aspect]string{settings.AspectTags: "get bucket tagging: AccessDenied: denied"}
	f := &fakeObserver{account: testAccountState(), refs: []settings.BucketRef{{Name: testBucket, Region: testRegion}},
		states: map[string]settings.BucketState{testBucket: st}}
	p, err := Build(context.Background(), f, Options{Config: cfg, Now: testNow()})
	if err != nil {
		t.Fatal(err)
	}
	b := p.Buckets[0]
	if len(b.Errors) != 1 || !strings.Contains(b.Errors[0], "get bucket tagging: AccessDenied") || len(b.Changes) != 0 {
		t.Errorf("a bucket whose tags cannot be read must not be judged: %+v", b)
	}
	if len(f.observed[testBucket]) != 1 {
		t.Errorf("only the tags may be read, got %v", f.observed[testBucket])
	}
	if p.Summary.Errors != 1 || p.Summary.Compliant != 0 {
		t.Errorf("summary %+v, want 1 error and no compliant bucket", p.Summary)
	}
}

func TestBuildCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls atomic.Int32
	f, o := mixedScenario(t)
	f.onObserve = func() {
		if calls.Add(1) == 1 {
			cancel()
		}
	}
	o.Concurrency = 1
	if _, err := Build(ctx, f, o); !errors.Is(err, context.Canceled) {
		t.Errorf("Build after cancel: error %v, want context.Canceled", err)
	}
}

func TestBuildMixed(t *testing.T) {
	f, o := mixedScenario(t)
	p, err := Build(context.Background(), f, o)
	if err != nil {
		t.Fatal(err)
	}
	// 18 bucket changes (block_sse_c among them on the legacy, partial and
	// log buckets, whose rules do not block SSE-C; versioning on the legacy
	// bucket) and the trail; account Block Public Access is held back for
	// the public bucket; root MFA and Shield are findings, and so are the
	// legacy bucket's missing MFA delete, Object Lock and lifecycle.
	want := Summary{Buckets: 9, Compliant: 3, ToChange: 5, Changes: 19, Errors: 2, Findings: 5}
	if diff := cmp.Diff(want, p.Summary); diff != "" {
		t.Errorf("summary: -want, +got:\n%s", diff)
	}
	if p.Baseline.Name != "high" || !strings.HasPrefix(p.Baseline.Digest, "sha256:") {
		t.Errorf("baseline %+v", p.Baseline)
	}
	if p.CreatedAt != testNow() || p.Account != testAccount || p.Caller != testCaller || p.FormatVersion != 1 {
		t.Errorf("header: %v %s %s %d", p.CreatedAt, p.Account, p.Caller, p.FormatVersion)
	}
}

// TestBuildProgress: the Progress callback hears of every bucket, one
// update at a time and in order, and counts the buckets with errors.
func TestBuildProgress(t *testing.T) {
	f, o := mixedScenario(t)
	o.Concurrency = 4
	type update struct{ done, total, errors int }
	var got []update
	o.Progress = func(done, total, errors int) { got = append(got, update{done, total, errors}) }
	p, err := Build(context.Background(), f, o)
	if err != nil {
		t.Fatal(err)
	}
	n := len(p.Buckets)
	if len(got) != n+1 {
		t.Fatalf("%d progress updates, want %d (one at the start, one per bucket): %v", len(got), n+1, got)
	}
	for i, u := range got {
		if u.done != i || u.total != n {
			t.Fatalf("update %d is %+v, want done %d of %d", i, u, i, n)
		}
	}
	failed := 0
	for _, b := range p.Buckets {
		if len(b.Errors) > 0 {
			failed++
		}
	}
	if last := got[n]; last.errors != failed || failed == 0 {
		t.Errorf("last update counts %d buckets with errors, the plan has %d", last.errors, failed)
	}
}

func TestWebsiteCouldBePublic(t *testing.T) {
	enforced := &settings.Ownership{Rule: settings.OwnershipBucketOwnerEnforced}
	all := []settings.Aspect{settings.AspectOwnership, settings.AspectPolicy}
	pol := func(statement string) *settings.Policy {
		return &settings.Policy{Raw: `{"Version":"2012-10-17","Statement":[` + statement + `]}`}
	}
	cases := map[string]struct {
		st   settings.BucketState
		want bool
	}{
		"acls on":         {settings.BucketState{Observed: all, Ownership: &settings.Ownership{Rule: "ObjectWriter"}}, true},
		"ownership unset": {settings.BucketState{Observed: all}, true},
		"not observed":    {settings.BucketState{Observed: []settings.Aspect{settings.AspectOwnership}, Ownership: enforced}, true},
		"no policy":       {settings.BucketState{Observed: all, Ownership: enforced}, false},
		"private policy": {settings.BucketState{Observed: all, Ownership: enforced, Policy: pol(
			`{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`)}, false},
		"public policy": {settings.BucketState{Observed: all, Ownership: enforced, Policy: pol(
			`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}`)}, true},
		"referer policy": {settings.BucketState{Observed: all, Ownership: enforced, Policy: pol(
			`{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*","Condition":{"StringLike":{"aws:Referer":"https://example.com/*"}}}`)}, true},
	}
	for name, tc := range cases {
		if got := websiteCouldBePublic(tc.st); got != tc.want {
			t.Errorf("%s: websiteCouldBePublic = %v, want %v", name, got, tc.want)
		}
	}
}

// TestBuildAccountSettings: a rule of accounts alone gives an account its
// own settings; the plan is judged with them, and carries the whole config.
func TestBuildAccountSettings(t *testing.T) {
	cfg := testConfig(builtin(t, "high"))
	own := cfg.Settings
	own.AdminLock.Deny = []string{"arn:aws:iam::{account}:role/OtherAdmin"}
	cfg.Rules = []baselines.Rule{{Accounts: []string{testAccount}, Settings: &own}}
	f := &fakeObserver{
		account: testAccountState(),
		refs:    []settings.BucketRef{{Name: testBucket, Region: testRegion}},
		states:  map[string]settings.BucketState{testBucket: compliantState(testBucket)},
		keys:    map[string]settings.KeyInfo{testRegion: testKey()},
	}
	p, err := Build(context.Background(), f, Options{Config: cfg, Now: testNow()})
	if err != nil {
		t.Fatal(err)
	}
	ch, ok := findChange(p.Buckets[0], settings.AdminPolicyLock)
	if !ok || ch.Action != Update || !strings.Contains(string(ch.After), "arn:aws:iam::123456789012:role/OtherAdmin") {
		t.Errorf("admin lock %+v: want the account's own principal", ch)
	}
	if got := p.Scope.Settings.Settings.AdminLock.Deny; len(got) != 1 || got[0] != testAdmin {
		t.Errorf("the plan carries settings %v, want the file's (every account's)", got)
	}
	if err := Verify(p); err != nil {
		t.Errorf("Verify refuses the plan made with the account's settings: %v", err)
	}
}

// TestUnseen: the buckets listed but left out of the scope, sorted, for
// any order of the listing.
func TestUnseen(t *testing.T) {
	refs := func(names ...string) []settings.BucketRef {
		var out []settings.BucketRef
		for _, n := range names {
			out = append(out, settings.BucketRef{Name: n, Region: "us-east-1"})
		}
		return out
	}
	for name, tc := range map[string]struct {
		all, planned []settings.BucketRef
		want         []string
	}{
		"whole account":  {all: refs("c", "a", "b"), planned: refs("a", "b", "c")},
		"some left out":  {all: refs("d", "c", "a", "b"), planned: refs("a", "c"), want: []string{"b", "d"}},
		"none in scope":  {all: refs("b", "a"), want: []string{"a", "b"}},
		"nothing listed": {},
	} {
		if got := unseen(tc.all, tc.planned); !slices.Equal(got, tc.want) {
			t.Errorf("%s: unseen = %q, want %q", name, got, tc.want)
		}
	}
}

// TestInScope: the buckets a plan covers, sorted by name; a whole account
// listed in order is the listing itself, not a copy of it.
func TestInScope(t *testing.T) {
	ref := func(name, region string) settings.BucketRef { return settings.BucketRef{Name: name, Region: region} }
	cfg := &baselines.Config{}
	sorted := []settings.BucketRef{ref("a", "us-east-1"), ref("b", "eu-west-1"), ref("c", "us-east-1")}
	if got := inScope(sorted, Options{Config: cfg}); !slices.Equal(got, sorted) || &got[0] != &sorted[0] {
		t.Errorf("whole account listed in order: got %v (a copy: %t), want the listing itself", got, len(got) > 0 && &got[0] != &sorted[0])
	}
	unsorted := []settings.BucketRef{ref("c", "us-east-1"), ref("a", "us-east-1"), ref("b", "eu-west-1")}
	if got := inScope(unsorted, Options{Config: cfg}); !slices.Equal(got, sorted) || unsorted[0].Name != "c" {
		t.Errorf("whole account out of order: got %v, listing now %v; want it sorted, the listing untouched", got, unsorted)
	}
	if got, want := inScope(unsorted, Options{Config: cfg, Regions: []string{"us-east-1"}}), []settings.BucketRef{ref("a", "us-east-1"), ref("c", "us-east-1")}; !slices.Equal(got, want) {
		t.Errorf("--region us-east-1: got %v, want %v", got, want)
	}
	if got, want := inScope(sorted, Options{Config: cfg, Buckets: []string{"b*"}}), []settings.BucketRef{ref("b", "eu-west-1")}; !slices.Equal(got, want) {
		t.Errorf("--bucket b*: got %v, want %v", got, want)
	}
}
