package plan

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/s3baseline/s3baseline/baselines"
	"github.com/s3baseline/s3baseline/settings"
)

func allFlags() *settings.PublicAccessBlock {
	return &settings.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true}
}

func TestDiffAccountBlockPublicAccess(t *testing.T) {
	lowRule := func(t *testing.T) []baselines.Rule {
		return []baselines.Rule{{Match: "site", Baseline: builtin(t, "low"), Reason: "public site"}}
	}
	cases := map[string]struct {
		reason   string
		rules    func(*testing.T) []baselines.Rule
		current  *settings.PublicAccessBlock
		buckets  []BucketPlan
		unseen   []string
		want     Action
		none     bool // no change at all
		warnName string
		impact   bool
	}{
		"off, all high": {reason: "every bucket on high: turn it on", buckets: []BucketPlan{{Name: "data", Baseline: "high"}}, want: Create},
		"on already":    {reason: "all four on: a no-op", current: allFlags(), buckets: []BucketPlan{{Name: "data", Baseline: "high"}}, want: NoOp},
		"low bucket": {reason: "a low bucket may be public: held back, named", rules: lowRule,
			buckets: []BucketPlan{{Name: "data", Baseline: "high"}, {Name: "site", Baseline: "low"}}, none: true, warnName: "site (low)"},
		"exempt bucket": {reason: "a bucket exempt from block_public_access is named like a low one",
			buckets: []BucketPlan{{Name: "data", Baseline: "high", Exempt: []Exemption{{Control: settings.BlockPublicAccess, Reason: "r"}}}},
			none:    true, warnName: "data (high)"},
		"buckets not seen": {reason: "buckets outside the configured regions were not checked: held back, named",
			buckets: []BucketPlan{{Name: "data", Baseline: "high"}}, unseen: []string{"elsewhere"}, none: true, warnName: "elsewhere"},
		"bucket impact": {reason: "a public bucket's own BPA change impact is the account change's too",
			buckets: []BucketPlan{{Name: "data", Baseline: "high", Changes: []Change{{Control: settings.BlockPublicAccess, Action: Create,
				Impact: []string{"website"}}}}}, want: Create, impact: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(builtin(t, "high"))
			if tc.rules != nil {
				cfg.Rules = tc.rules(t)
			}
			acct := testAccountState()
			acct.PublicAccessBlock = tc.current
			r := DiffAccount(AccountInput{Account: acct, Config: cfg, Buckets: tc.buckets, Unseen: tc.unseen})
			i := slices.IndexFunc(r.Changes, func(c Change) bool { return c.Control == settings.AccountBlockPublicAccess })
			switch {
			case tc.none && i >= 0:
				t.Errorf("%s: planned %+v", tc.reason, r.Changes[i])
			case !tc.none && (i < 0 || r.Changes[i].Action != tc.want):
				t.Errorf("%s: changes %+v, want %s", tc.reason, r.Changes, tc.want)
			case !tc.none && (len(r.Changes[i].Impact) > 0) != tc.impact:
				t.Errorf("%s: impact %q", tc.reason, r.Changes[i].Impact)
			}
			if tc.warnName != "" && !slices.ContainsFunc(r.Warnings, func(w string) bool { return strings.Contains(w, tc.warnName) }) {
				t.Errorf("%s: warnings %q do not name %s", tc.reason, r.Warnings, tc.warnName)
			}
		})
	}
}

func TestTrailCoversAndShortfalls(t *testing.T) {
	good := settings.Trail{Name: "t", IsLogging: true, MultiRegion: true, KMSKeyID: "k", LogFileValidation: true,
		Insights: []string{settings.InsightAPICallRate}}
	basic := func(values ...string) []settings.EventSelector {
		return []settings.EventSelector{{ReadWriteType: "All", DataResources: []settings.DataResource{{Type: "AWS::S3::Object", Values: values}}}}
	}
	adv := func(fs ...settings.FieldSelector) []settings.AdvancedEventSelector {
		return []settings.AdvancedEventSelector{{FieldSelectors: append([]settings.FieldSelector{
			{Field: "eventCategory", Equals: []string{"Data"}}, {Field: "resources.type", Equals: []string{"AWS::S3::Object"}}}, fs...)}}
	}
	cases := map[string]struct {
		basic []settings.EventSelector
		adv   []settings.AdvancedEventSelector
		want  bool
	}{
		"basic bucket":         {basic: basic("arn:aws:s3:::a/"), want: true},
		"basic all buckets":    {basic: basic("arn:aws:s3"), want: true},
		"basic other bucket":   {basic: basic("arn:aws:s3:::b/")},
		"basic prefix only":    {basic: basic("arn:aws:s3:::a/logs/")},
		"basic read only":      {basic: []settings.EventSelector{{ReadWriteType: "ReadOnly", DataResources: basic("arn:aws:s3:::a/")[0].DataResources}}},
		"advanced all":         {adv: adv(), want: true},
		"advanced starts with": {adv: adv(settings.FieldSelector{Field: "resources.ARN", StartsWith: []string{"arn:aws:s3:::a/"}}), want: true},
		"advanced other":       {adv: adv(settings.FieldSelector{Field: "resources.ARN", StartsWith: []string{"arn:aws:s3:::ab/"}})},
		"advanced excludes":    {adv: adv(settings.FieldSelector{Field: "resources.ARN", NotStartsWith: []string{"arn:aws:s3:::a/"}})},
		"advanced read only":   {adv: adv(settings.FieldSelector{Field: "readOnly", Equals: []string{"true"}})},
		"no selectors":         {},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			tr := good
			tr.EventSelectors, tr.AdvancedEventSelectors = tc.basic, tc.adv
			if got := TrailCovers(tr, "a"); got != tc.want {
				t.Errorf("TrailCovers = %v, want %v", got, tc.want)
			}
			if got := len(TrailShortfalls(tr, []string{"a"}, true)) == 0; got != tc.want {
				t.Errorf("satisfied = %v, want %v: %q", got, tc.want, TrailShortfalls(tr, []string{"a"}, true))
			}
		})
	}
	off := settings.Trail{EventSelectors: basic("arn:aws:s3")}
	if got := TrailShortfalls(off, []string{"a"}, true); len(got) != 5 {
		t.Errorf("a trail with data events and nothing else falls short in 5 ways, got %q", got)
	}
}

// TestDesiredTrailMerges: what a trail has is kept, in its form; ours is
// added; merging twice equals merging once.
func TestDesiredTrailMerges(t *testing.T) {
	buckets := []string{"a", "b"}
	cases := map[string]*settings.Trail{
		"new": nil,
		"basic": {Name: "ours", EventSelectors: []settings.EventSelector{{ReadWriteType: "All", IncludeManagementEvents: true,
			DataResources: []settings.DataResource{{Type: "AWS::Lambda::Function", Values: []string{"arn:aws:lambda"}},
				{Type: "AWS::S3::Object", Values: []string{"arn:aws:s3:::other/"}}}}}},
		"basic write-only management": {Name: "ours", EventSelectors: []settings.EventSelector{{ReadWriteType: "ReadOnly", IncludeManagementEvents: true}}},
		"advanced": {Name: "ours", AdvancedEventSelectors: []settings.AdvancedEventSelector{
			{Name: "theirs", FieldSelectors: []settings.FieldSelector{{Field: "eventCategory", Equals: []string{"Data"}},
				{Field: "resources.type", Equals: []string{"AWS::DynamoDB::Table"}}}},
			{Name: DataSelectorName, FieldSelectors: []settings.FieldSelector{{Field: "eventCategory", Equals: []string{"Data"}},
				{Field: "resources.type", Equals: []string{"AWS::S3::Object"}}, {Field: "resources.ARN", StartsWith: []string{"arn:aws:s3:::old/"}}}},
		}, Insights: []string{settings.InsightAPIErrorRate}},
	}
	for name, cur := range cases {
		t.Run(name, func(t *testing.T) {
			spec := TrailSpec{Name: "ours", Region: "us-east-1", Bucket: "bucket", Key: "key", Buckets: buckets, Insights: true}
			got, _, err := DesiredTrail(cur, spec)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range buckets {
				if !TrailCovers(got, b) {
					t.Errorf("the desired trail does not cover %s: %+v", b, got)
				}
			}
			if len(TrailShortfalls(got, buckets, true)) != 0 {
				t.Errorf("the desired trail falls short: %q", TrailShortfalls(got, buckets, true))
			}
			if cur != nil {
				if (len(cur.EventSelectors) > 0) != (len(got.EventSelectors) > 0) {
					t.Errorf("the selector form changed: %+v -> %+v", cur, got)
				}
				for _, s := range cur.AdvancedEventSelectors {
					if s.Name != DataSelectorName && !slices.ContainsFunc(got.AdvancedEventSelectors, func(g settings.AdvancedEventSelector) bool { return cmp.Equal(g, s) }) {
						t.Errorf("advanced selector %q was lost", s.Name)
					}
				}
				for _, s := range cur.EventSelectors {
					for _, d := range s.DataResources {
						for _, v := range d.Values {
							if !slices.ContainsFunc(got.EventSelectors, func(g settings.EventSelector) bool {
								return slices.ContainsFunc(g.DataResources, func(gd settings.DataResource) bool { return gd.Type == d.Type && slices.Contains(gd.Values, v) })
							}) {
								t.Errorf("data resource %s %s was lost", d.Type, v)
							}
						}
					}
				}
				for _, i := range cur.Insights {
					if !slices.Contains(got.Insights, i) {
						t.Errorf("insight %s was lost", i)
					}
				}
			}
			again, _, err := DesiredTrail(&got, spec)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(got, again); diff != "" {
				t.Errorf("merging twice differs from merging once (-once +twice):\n%s", diff)
			}
		})
	}
}

func TestDiffAccountFindings(t *testing.T) {
	cfg := testConfig(builtin(t, "high"))
	acct := testAccountState()
	in := AccountInput{Account: acct, Config: cfg, Buckets: []BucketPlan{{Name: "data", Baseline: "high"}},
		IAM: &settings.IAMReport{RootMFA: true, Users: []settings.IAMUser{
			{Name: "alice", ARN: "arn:aws:iam::123456789012:user/alice", ConsolePassword: true},
			{Name: "bob", ARN: "arn:aws:iam::123456789012:user/bob", ConsolePassword: true, MFADevices: 1},
			{Name: "ci", ARN: "arn:aws:iam::123456789012:user/ci"},
		}},
		Shield: &settings.ShieldState{},
	}
	r := DiffAccount(in)
	var subjects []string
	for _, f := range r.Findings {
		subjects = append(subjects, string(f.Control)+" "+f.Subject)
		if len(f.NIST) == 0 {
			t.Errorf("finding %s names no NIST control", f.Subject)
		}
	}
	want := []string{"iam_mfa arn:aws:iam::123456789012:user/alice", "shield arn:aws:shield::123456789012:subscription"}
	if diff := cmp.Diff(want, subjects); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	// medium has no shield control: no Shield finding.
	in.Config = testConfig(builtin(t, "medium"))
	in.Buckets[0].Baseline = "medium"
	for _, f := range DiffAccount(in).Findings {
		if f.Control == settings.Shield {
			t.Errorf("a medium account got a Shield finding")
		}
	}
}

// TestDesiredTrailOverTheLimit: more buckets than CloudTrail's 500 advanced
// selector values can list: with the account's other buckets known, the
// trail logs every bucket but those; without, it is an error.
func TestDesiredTrailOverTheLimit(t *testing.T) {
	var buckets []string
	for i := range 600 {
		buckets = append(buckets, fmt.Sprintf("b%03d", i))
	}
	spec := TrailSpec{Name: "ours", Region: "us-east-1", Bucket: "trail-bucket", Key: "key", Buckets: buckets, Insights: true}
	if _, _, err := DesiredTrail(nil, spec); err == nil || !strings.Contains(err.Error(), "500") {
		t.Errorf("600 buckets and no exclusions allowed: err = %v, want the limit named", err)
	}
	spec.Excluded = []string{"logs", "public-site", "trail-bucket"}
	got, allBut, err := DesiredTrail(nil, spec)
	if err != nil || !allBut {
		t.Fatalf("allBut = %v, err = %v; want the all-but form", allBut, err)
	}
	if n := advancedValues(got.AdvancedEventSelectors); n > maxAdvancedValues {
		t.Errorf("%d selector values, over the limit", n)
	}
	for _, b := range []string{"b000", "b599"} {
		if !TrailCovers(got, b) {
			t.Errorf("%s is not logged", b)
		}
	}
	for _, b := range spec.Excluded {
		if TrailCovers(got, b) {
			t.Errorf("excluded bucket %s is logged", b)
		}
	}
	again, allBut, err := DesiredTrail(&got, spec)
	if err != nil || !allBut || !cmp.Equal(got, again) {
		t.Errorf("merging again differs (allBut %v, err %v):\n%s", allBut, err, cmp.Diff(got, again))
	}
}

// TestBasicSelectorsOverTheLimit: a trail of ours whose basic selectors
// cannot take the buckets (250 data resources) gets advanced selectors that
// select what the basic ones did, and ours.
func TestBasicSelectorsOverTheLimit(t *testing.T) {
	var old, buckets []string
	for i := range 240 {
		old = append(old, fmt.Sprintf("arn:aws:s3:::old%03d/", i))
	}
	for i := range 20 {
		buckets = append(buckets, fmt.Sprintf("new%02d", i))
	}
	cur := &settings.Trail{Name: "ours", EventSelectors: []settings.EventSelector{
		{ReadWriteType: "All", IncludeManagementEvents: true, ExcludeManagementEventSources: []string{"kms.amazonaws.com"},
			DataResources: []settings.DataResource{{Type: "AWS::S3::Object", Values: old},
				{Type: "AWS::Lambda::Function", Values: []string{"arn:aws:lambda:us-east-1:123456789012:function:f"}}}},
		{ReadWriteType: "WriteOnly", DataResources: []settings.DataResource{{Type: "AWS::DynamoDB::Table", Values: []string{"arn:aws:dynamodb"}}}},
	}}
	spec := TrailSpec{Name: "ours", Region: "us-east-1", Bucket: "b", Key: "k", Buckets: buckets, Insights: true}
	got, _, err := DesiredTrail(cur, spec)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.EventSelectors) > 0 || len(got.AdvancedEventSelectors) == 0 {
		t.Fatalf("want advanced selectors only: %+v", got)
	}
	for _, b := range []string{"old000", "old239", "new00", "new19"} {
		if !TrailCovers(got, b) {
			t.Errorf("%s is not logged after the conversion", b)
		}
	}
	want := []settings.AdvancedEventSelector{
		{Name: "management events (basic selector 1)", FieldSelectors: []settings.FieldSelector{
			{Field: "eventCategory", Equals: []string{"Management"}}, {Field: "eventSource", NotEquals: []string{"kms.amazonaws.com"}}}},
		{Name: "AWS::Lambda::Function data events (basic selector 1)", FieldSelectors: []settings.FieldSelector{
			{Field: "eventCategory", Equals: []string{"Data"}}, {Field: "resources.type", Equals: []string{"AWS::Lambda::Function"}},
			{Field: "resources.ARN", StartsWith: []string{"arn:aws:lambda:us-east-1:123456789012:function:f"}}}},
		{Name: "AWS::DynamoDB::Table data events (basic selector 2)", FieldSelectors: []settings.FieldSelector{
			{Field: "eventCategory", Equals: []string{"Data"}}, {Field: "resources.type", Equals: []string{"AWS::DynamoDB::Table"}},
			{Field: "readOnly", Equals: []string{"false"}}}},
	}
	for _, w := range want {
		if !slices.ContainsFunc(got.AdvancedEventSelectors, func(g settings.AdvancedEventSelector) bool { return cmp.Equal(g, w) }) {
			t.Errorf("the conversion lacks %+v", w)
		}
	}
}

// TestDiffAccessPoints: access points of the planned buckets with a Block
// Public Access flag off are findings, with a replacement as the fix; those
// of other buckets, and compliant ones, are not. Multi-Region Access
// Points likewise; a listing that failed is an error, not silence.
func TestDiffAccessPoints(t *testing.T) {
	cfg := testConfig(builtin(t, "high"))
	open := &settings.PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true}
	in := AccountInput{Account: testAccountState(), Config: cfg, Buckets: []BucketPlan{{Name: "data", Baseline: "high"}},
		IAM: &settings.IAMReport{RootMFA: true}, Shield: &settings.ShieldState{},
		AccessPoints: []settings.AccessPoint{
			{Name: "open", Bucket: "data", Region: testRegion, ARN: "arn:aws:s3:eu-west-1:123456789012:accesspoint/open", PublicAccessBlock: open},
			{Name: "closed", Bucket: "data", Region: testRegion, ARN: "arn:aws:s3:eu-west-1:123456789012:accesspoint/closed", PublicAccessBlock: allOn()},
			{Name: "elsewhere", Bucket: "other", Region: testRegion, ARN: "arn:aws:s3:eu-west-1:123456789012:accesspoint/elsewhere", PublicAccessBlock: open},
		},
		MRAPs: []settings.MultiRegionAccessPoint{
			{Name: "global", Alias: "mfzwi23gnjvgw.mrap", PublicAccessBlock: open, Buckets: []string{"data", "data-eu"}},
			{Name: "shut", Alias: "abc.mrap", PublicAccessBlock: allOn(), Buckets: []string{"x"}},
		},
	}
	var got []string
	for _, f := range DiffAccount(in).Findings {
		if f.Control == settings.AccessPointBPA || f.Control == settings.MRAPBPA {
			got = append(got, string(f.Control)+" "+f.Subject)
			if !strings.Contains(f.Detail, "BlockPublicPolicy, RestrictPublicBuckets off") || !strings.Contains(f.Detail, "replacement") {
				t.Errorf("finding %q does not name the flags off and the replacement", f.Detail)
			}
		}
	}
	want := []string{"access_point_bpa arn:aws:s3:eu-west-1:123456789012:accesspoint/open", "mrap_bpa arn:aws:s3::123456789012:accesspoint/mfzwi23gnjvgw.mrap"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("findings (-want +got):\n%s", diff)
	}
	in.AccessPointsErr, in.MRAPsErr = "list access points in eu-west-1: AccessDenied", "list multi-region access points: AccessDenied"
	if r := DiffAccount(in); len(r.Errors) != 2 {
		t.Errorf("errors %q, want one per failed listing", r.Errors)
	}
	if n := NeedsFor(testConfig(builtin(t, "low")), in.Buckets); n.AccessPoints || n.MRAPs {
		t.Errorf("low does not report access points, but needs %+v", n)
	}
}

// TestAccountBPAImpactsGrouped: buckets whose own Block Public Access
// change has the same impact share one line of the account change, which
// names every one of them; ImpactBuckets reads the names back.
func TestAccountBPAImpactsGrouped(t *testing.T) {
	bpa := func(name string, impact ...string) BucketPlan {
		return BucketPlan{Name: name, Baseline: "high", Changes: []Change{{Control: settings.BlockPublicAccess, Action: Create, Impact: impact}}}
	}
	buckets := []BucketPlan{bpa("a", "website", "acl"), bpa("b", "website"), bpa("c", "acl"), bpa("d"), bpa("e", "website")}
	r := DiffAccount(AccountInput{Account: testAccountState(), Config: testConfig(builtin(t, "high")), Buckets: buckets})
	i := slices.IndexFunc(r.Changes, func(c Change) bool { return c.Control == settings.AccountBlockPublicAccess })
	if i < 0 {
		t.Fatalf("no account_block_public_access change in %+v", r.Changes)
	}
	want := []string{"buckets a, b, e: website", "buckets a, c: acl"}
	if got := r.Changes[i].Impact; !slices.Equal(got, want) {
		t.Errorf("impact = %q, want %q", got, want)
	}
	for _, tc := range []struct {
		line  string
		names []string
		msg   string
		ok    bool
	}{
		{"buckets a, b, e: website: its index is public", []string{"a", "b", "e"}, "website: its index is public", true},
		{"bucket s3b-00002-legacy: ACLs are enabled", []string{"s3b-00002-legacy"}, "ACLs are enabled", true},
		{"the trail: something", nil, "", false},
	} {
		names, msg, ok := ImpactBuckets(tc.line)
		if !slices.Equal(names, tc.names) || msg != tc.msg || ok != tc.ok {
			t.Errorf("ImpactBuckets(%q) = %q, %q, %v; want %q, %q, %v", tc.line, names, msg, ok, tc.names, tc.msg, tc.ok)
		}
	}
}
