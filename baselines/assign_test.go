package baselines

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/s3baseline/s3baseline/settings"
)

func TestAssign(t *testing.T) {
	dir := t.TempDir()
	c, err := LoadConfig(writeFile(t, dir, "s3baseline.yaml", `baseline: high
buckets:
  - match: "public-*"
    baseline: low
    reason: public site
  - match: "public-special"
    baseline: medium
  - match: "logs-*"
    match_tags: {team: platform}
    exempt: [event_notifications]
    reason: platform consumes its logs itself
  - match_tags: {team: analytics, env: prod}
    exempt: [event_notifications, tls_only]
    reason: analytics pipeline
    until: 2027-06-30
  - match: "legacy-?"
    exempt: [tls_only]
    reason: old clients
`))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2027, 6, 1, 12, 0, 0, 0, time.UTC)
	analytics := map[string]string{"team": "analytics", "env": "prod"}
	exempt := func(until string, ids ...settings.ControlID) []Exemption {
		var out []Exemption
		for _, id := range ids {
			out = append(out, Exemption{Control: id, Reason: "analytics pipeline", Until: until})
		}
		return out
	}
	cases := map[string]struct {
		reason   string
		bucket   string
		tags     map[string]string
		now      time.Time
		baseline string
		rule     int // index of the matching rule, -1 for none
		exempt   []Exemption
		lapsed   []Exemption
	}{
		"default": {
			reason: "no rule matches: the default baseline", bucket: "data", now: now, baseline: "high", rule: -1,
		},
		"glob": {
			reason: "the glob picks the rule's baseline", bucket: "public-www", now: now, baseline: "low", rule: 0,
		},
		"first match wins": {
			reason: "public-special matches two rules; the first wins", bucket: "public-special", now: now, baseline: "low", rule: 0,
		},
		"glob is whole-name": {
			reason: "a glob must match the whole name", bucket: "my-public-www", now: now, baseline: "high", rule: -1,
		},
		"glob ? is one character": {
			reason: "? matches exactly one character", bucket: "legacy-12", now: now, baseline: "high", rule: -1,
		},
		"glob and tags": {
			reason: "with match and match_tags both must hold", bucket: "logs-a", tags: map[string]string{"team": "platform", "x": "y"},
			now: now, baseline: "high", rule: 2,
			exempt: []Exemption{{Control: settings.EventNotifications, Reason: "platform consumes its logs itself"}},
		},
		"glob without the tag": {
			reason: "the name alone is not enough", bucket: "logs-a", tags: map[string]string{"team": "other"}, now: now, baseline: "high", rule: -1,
		},
		"tags only": {
			reason: "all tags must be present and equal", bucket: "lake", tags: analytics, now: now, baseline: "high", rule: 3,
			exempt: exempt("2027-06-30", settings.EventNotifications, settings.TLSOnly),
		},
		"tags partly": {
			reason: "one tag missing: no match", bucket: "lake", tags: map[string]string{"team": "analytics"}, now: now, baseline: "high", rule: -1,
		},
		"tags not read": {
			reason: "nil tags match no tag rule", bucket: "lake", now: now, baseline: "high", rule: -1,
		},
		"until today": {
			reason: "the exemption holds through its until date", bucket: "lake", tags: analytics,
			now: time.Date(2027, 6, 30, 23, 59, 59, 0, time.UTC), baseline: "high", rule: 3,
			exempt: exempt("2027-06-30", settings.EventNotifications, settings.TLSOnly),
		},
		"until passed": {
			reason: "from the day after, the exemption has lapsed", bucket: "lake", tags: analytics,
			now: time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC), baseline: "high", rule: 3,
			lapsed: exempt("2027-06-30", settings.EventNotifications, settings.TLSOnly),
		},
		"until is a UTC date": {
			reason: "1 July 01:00 in UTC+2 is still 30 June in UTC", bucket: "lake", tags: analytics,
			now: time.Date(2027, 7, 1, 1, 0, 0, 0, time.FixedZone("CEST", 2*3600)), baseline: "high", rule: 3,
			exempt: exempt("2027-06-30", settings.EventNotifications, settings.TLSOnly),
		},
		"no until": {
			reason: "without until an exemption never lapses", bucket: "legacy-1", now: time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC),
			baseline: "high", rule: 4,
			exempt: []Exemption{{Control: settings.TLSOnly, Reason: "old clients"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			a := c.Assign(tc.bucket, tc.tags, tc.now)
			if a.Baseline == nil || a.Baseline.Name != tc.baseline {
				t.Errorf("%s: baseline %v, want %s", tc.reason, a.Baseline, tc.baseline)
			}
			var wantRule *Rule
			if tc.rule >= 0 {
				wantRule = &c.Rules[tc.rule]
			}
			if a.Rule != wantRule {
				t.Errorf("%s: rule %+v, want rule %d", tc.reason, a.Rule, tc.rule)
			}
			if diff := cmp.Diff(tc.exempt, a.Exempt); diff != "" {
				t.Errorf("%s: exempt -want +got:\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.lapsed, a.Lapsed); diff != "" {
				t.Errorf("%s: lapsed -want +got:\n%s", tc.reason, diff)
			}
		})
	}
	if !c.NeedsTags() {
		t.Error("NeedsTags() = false with match_tags rules")
	}
}

func TestAssignWithoutDefault(t *testing.T) {
	c := DefaultConfig()
	if a := c.Assign("any", nil, time.Now()); a.Baseline != nil || a.Rule != nil {
		t.Errorf("defaults assigned %+v", a)
	}
	if c.NeedsTags() {
		t.Error("NeedsTags() = true without rules")
	}
}

func TestInRegion(t *testing.T) {
	cases := map[string]struct {
		regions []string
		region  string
		want    bool
	}{
		"no filter":  {region: "ap-south-1", want: true},
		"listed":     {regions: []string{"us-east-1", "eu-west-1"}, region: "eu-west-1", want: true},
		"not listed": {regions: []string{"us-east-1"}, region: "eu-west-1", want: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c := &Config{Regions: tc.regions}
			if got := c.InRegion(tc.region); got != tc.want {
				t.Errorf("InRegion(%q) = %v, want %v", tc.region, got, tc.want)
			}
		})
	}
}

func TestExpandTemplate(t *testing.T) {
	cases := map[string]struct {
		tmpl, want string
	}{
		"both":        {tmpl: "s3baseline-logs-{account}-{region}", want: "s3baseline-logs-123456789012-eu-west-1"},
		"account":     {tmpl: "s3baseline-cloudtrail-{account}", want: "s3baseline-cloudtrail-123456789012"},
		"twice":       {tmpl: "{region}-{region}", want: "eu-west-1-eu-west-1"},
		"no template": {tmpl: "fixed-name", want: "fixed-name"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := ExpandTemplate(tc.tmpl, "123456789012", "eu-west-1"); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func TestCheckBucketName(t *testing.T) {
	cases := map[string]struct {
		name string
		ok   bool
	}{
		"plain":          {name: "s3baseline-logs-123456789012-eu-west-1", ok: true},
		"dots":           {name: "logs.example.com", ok: true},
		"short":          {name: "ab"},
		"upper":          {name: "Logs"},
		"underscore":     {name: "my_logs"},
		"leading dash":   {name: "-logs"},
		"trailing dot":   {name: "logs."},
		"adjacent dots":  {name: "logs..x"},
		"ip address":     {name: "192.168.5.4"},
		"reserved xn--":  {name: "xn--logs"},
		"reserved alias": {name: "logs-s3alias"},
		"reserved mrap":  {name: "logs.mrap"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if err := CheckBucketName(tc.name); (err == nil) != tc.ok {
				t.Errorf("CheckBucketName(%q) = %v, want ok %v", tc.name, err, tc.ok)
			}
		})
	}
}

// TestRulesAccountsRegionsMutes: a rule may match accounts and regions as
// well as names and tags; a rule of accounts alone mutes the accounts' own
// findings and assigns no bucket; a mute holds through its until date.
func TestRulesAccountsRegionsMutes(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "s3baseline.yaml", `baseline: medium
buckets:
  - match: "scratch-*"
    accounts: ["222222222222"]
    regions: [eu-west-1]
    baseline: low
    mute: [lifecycle]
    reason: "scratch space, emptied nightly by a job"
    until: 2027-06-30
  - accounts: ["111111111111"]
    mute: [iam_mfa, shield]
    reason: "break-glass users, MFA in the safe (SEC-9)"
`)
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		target   Target
		baseline string
		muted    []settings.ControlID
	}{
		{Target{Account: "222222222222", Region: "eu-west-1", Bucket: "scratch-1"}, "low", []settings.ControlID{settings.Lifecycle}},
		{Target{Account: "333333333333", Region: "eu-west-1", Bucket: "scratch-1"}, "medium", nil},
		{Target{Account: "222222222222", Region: "us-east-1", Bucket: "scratch-1"}, "medium", nil},
		{Target{Account: "111111111111", Region: "eu-west-1", Bucket: "anything"}, "medium", nil},
	}
	for _, tc := range cases {
		a := c.AssignAt(tc.target, now)
		var muted []settings.ControlID
		for _, m := range a.Muted {
			muted = append(muted, m.Control)
		}
		if a.Baseline.Name != tc.baseline || !slices.Equal(muted, tc.muted) {
			t.Errorf("%+v: baseline %s muted %v, want %s %v", tc.target, a.Baseline.Name, muted, tc.baseline, tc.muted)
		}
	}
	if a := c.AssignAt(cases[0].target, time.Date(2027, 7, 1, 0, 0, 0, 0, time.UTC)); len(a.Muted) != 0 || len(a.LapsedMutes) != 1 {
		t.Errorf("after until: muted %v lapsed %v, want the mute lapsed", a.Muted, a.LapsedMutes)
	}
	muted, _ := c.AccountMutes("111111111111", now)
	if len(muted) != 2 || muted[0].Control != settings.IAMMFA || muted[0].Reason == "" {
		t.Errorf("account mutes %+v, want iam_mfa and shield with the reason", muted)
	}
	if m, _ := c.AccountMutes("222222222222", now); len(m) != 0 {
		t.Errorf("a rule with a bucket match muted account findings: %+v", m)
	}
	for _, bad := range []struct{ file, want string }{
		{"buckets:\n  - accounts: [\"12345\"]\n    mute: [shield]\n    reason: r\n", `buckets[0].accounts[0]: "12345" is not a 12-digit account id`},
		{"buckets:\n  - accounts: [\"111111111111\"]\n    mute: [shield]\n", "buckets[0].reason: required with exempt and mute"},
		{"buckets:\n  - regions: [eu-west-1]\n    reason: r\n", "a rule needs baseline, exempt, mute or settings"},
		{"buckets:\n  - accounts: [\"111111111111\"]\n    mute: [nothing]\n    reason: r\n", `unknown control "nothing"`},
	} {
		_, err := LoadConfig(writeFile(t, dir, "bad.yaml", bad.file))
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: error %v, want %q", bad.file, err, bad.want)
		}
	}
}

// TestAccountSettings: a rule of accounts alone may set those accounts'
// settings; the keys it sets replace the file's, the rest are the file's,
// wherever in the file the rule is; settings in a bucket rule are refused.
func TestAccountSettings(t *testing.T) {
	dir := t.TempDir()
	c, err := LoadConfig(writeFile(t, dir, "s3baseline.yaml", `buckets:
  - accounts: ["222222222222"]
    settings:
      encryption: {kms_key: "alias/payments"}
      admin_lock: {deny: ["arn:aws:iam::{account}:role/PaymentsAdmin"]}
settings:
  notifications: {topic: "org-events"}
  admin_lock: {deny: ["arn:aws:iam::{account}:role/LegacyFullAdmin"]}
`))
	if err != nil {
		t.Fatal(err)
	}
	got := c.ForAccount("222222222222").Settings
	if got.Encryption.KMSKey != "alias/payments" || got.AdminLock.Deny[0] != "arn:aws:iam::{account}:role/PaymentsAdmin" || got.Notifications.Topic != "org-events" {
		t.Errorf("account settings %+v: want its key and admins and the file's topic", got)
	}
	if other := c.ForAccount("333333333333").Settings; other.Encryption.KMSKey != DefaultKMSKey || other.AdminLock.Deny[0] != "arn:aws:iam::{account}:role/LegacyFullAdmin" {
		t.Errorf("another account's settings %+v: want the file's", other)
	}
	_, err = LoadConfig(writeFile(t, dir, "bad.yaml", "buckets:\n  - match: \"x-*\"\n    settings: {encryption: {kms_key: alias/x}}\n"))
	if err == nil || !strings.Contains(err.Error(), "buckets[0].settings: settings are per account") {
		t.Errorf("settings in a bucket rule: %v", err)
	}
}
