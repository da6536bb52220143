package baselines

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/s3baseline/s3baseline/regions"
	"github.com/s3baseline/s3baseline/settings"
)

// contractExample is the config file shown in contract.md.
const contractExample = `baseline: high                          # default for every bucket in scope
regions: [us-east-1, eu-west-1]         # optional filter
settings:
  logging:
    target_bucket: "acme-s3-access-logs-{account}-{region}"   # one per region; {account} {region}
    target_prefix: "s3/"
    create_target: true                 # plan creates it (SSE-S3, BPA on, logging policy) if absent
  encryption:
    kms_key: "alias/s3baseline"         # alias, key id or key ARN, resolved per region
    create_key: true
  notifications:
    topic: "s3baseline-events"          # name (per region) or ARN
    events: ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]
    create_topic: true
  admin_lock:                           # the source guide: deny these administrators the bucket policy
    deny: ["arn:aws:iam::{account}:role/OpsAdmin"]   # (was ` + "`principals`" + `, still read, deprecated)
    actions: policy                     # policy (Put/Get/DeleteBucketPolicy) | configuration (also BPA,
                                        # encryption, logging, ownership, ACL, notifications)
  cloudtrail:
    trail_name: "s3baseline-data-events"
    bucket: "acme-cloudtrail-{account}"
buckets:                                # first match wins
  - match: "public-downloads-*"         # glob on the bucket name
    baseline: low
    reason: "public download site, approved in SEC-142"
  - match_tags: {team: analytics}
    exempt: [event_notifications]
    reason: "analytics pipeline owns its own notifications"
    until: 2027-06-30                   # after this date the exemption lapses and the plan says so
`

func date(s string) time.Time {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDefaultConfig(t *testing.T) {
	want := &Config{
		Settings: Settings{
			Logging:       LoggingSettings{TargetBucket: "s3baseline-logs-{account}-{region}", TargetPrefix: "s3/", CreateTarget: true},
			Encryption:    EncryptionSettings{KMSKey: "alias/s3baseline", CreateKey: true},
			Notifications: NotificationSettings{Topic: "s3baseline-events", Events: []string{"s3:ObjectCreated:*", "s3:ObjectRemoved:*"}, CreateTopic: true},
			AdminLock:     AdminLockSettings{Deny: []string{}},
			CloudTrail: CloudTrailSettings{TrailName: "s3baseline-data-events", Bucket: "s3baseline-cloudtrail-{account}",
				KMSKey: "alias/s3baseline-cloudtrail", Region: "us-east-1"},
		},
	}
	if diff := cmp.Diff(want, DefaultConfig()); diff != "" {
		t.Errorf("DefaultConfig() -want +got:\n%s", diff)
	}
}

func TestLoadConfig(t *testing.T) {
	low, _ := Builtin("low")
	high, _ := Builtin("high")
	cases := map[string]struct {
		reason string
		file   string
		// extra files beside the config
		extra map[string]string
		want  func(c *Config) // adjusts a DefaultConfig with Path set
	}{
		"contract example": {
			reason: "the example in contract.md loads as written",
			file:   contractExample,
			want: func(c *Config) {
				c.Baseline = high
				c.Regions = []string{"us-east-1", "eu-west-1"}
				c.Settings.Logging.TargetBucket = "acme-s3-access-logs-{account}-{region}"
				c.Settings.AdminLock = AdminLockSettings{Deny: []string{"arn:aws:iam::{account}:role/OpsAdmin"}, Actions: AdminLockPolicy}
				c.Settings.CloudTrail.Bucket = "acme-cloudtrail-{account}"
				c.Rules = []Rule{
					{Match: "public-downloads-*", Baseline: low, Reason: "public download site, approved in SEC-142", Line: 23},
					{MatchTags: map[string]string{"team": "analytics"}, Exempt: []settings.ControlID{settings.EventNotifications},
						Reason: "analytics pipeline owns its own notifications", Until: date("2027-06-30"), Line: 26},
				}
			},
		},
		"empty file": {
			reason: "an empty file is the defaults",
			file:   "# nothing yet\n",
			want:   func(*Config) {},
		},
		"partial settings": {
			reason: "keys the file does not set keep their defaults; lists replace",
			file: `settings:
  logging: {target_prefix: "logs/", create_target: false}
  notifications:
    events: ["s3:ObjectCreated:Put"]
  admin_lock:
    deny: ["123456789012", "arn:aws:iam::123456789012:root", "arn:aws-us-gov:iam::123456789012:user/ops"]
`,
			want: func(c *Config) {
				c.Settings.Logging.TargetPrefix = "logs/"
				c.Settings.Logging.CreateTarget = false
				c.Settings.Notifications.Events = []string{"s3:ObjectCreated:Put"}
				c.Settings.AdminLock.Deny = []string{"123456789012", "arn:aws:iam::123456789012:root", "arn:aws-us-gov:iam::123456789012:user/ops"}
			},
		},
		"null values": {
			reason: "a key with no value is as if absent",
			file:   "baseline:\nsettings:\n  logging:\nbuckets:\n",
			want:   func(*Config) {},
		},
		"one region, no {region}": {
			reason: "with exactly one region the log bucket needs no {region}",
			file:   "regions: [eu-west-1]\nsettings:\n  logging:\n    target_bucket: acme-logs-{account}\n",
			want: func(c *Config) {
				c.Regions = []string{"eu-west-1"}
				c.Settings.Logging.TargetBucket = "acme-logs-{account}"
			},
		},
		"past until": {
			reason: "a lapsed exemption loads; Assign reports it as lapsed",
			file:   "buckets:\n  - match: old-*\n    exempt: [tls_only]\n    reason: legacy clients\n    until: 2020-01-31\n",
			want: func(c *Config) {
				c.Rules = []Rule{{Match: "old-*", Exempt: []settings.ControlID{settings.TLSOnly}, Reason: "legacy clients", Until: date("2020-01-31"), Line: 2}}
			},
		},
		"custom baseline file": {
			reason: "baseline paths are relative to the config file's directory",
			file:   "baseline: pci.yaml\nbuckets:\n  - match_tags: {env: prod, tier: \"1\"}\n    baseline: ./pci.yaml\n",
			extra:  map[string]string{"pci.yaml": "name: pci\nextends: high\nremove: [shield]\n"},
			want: func(c *Config) {
				c.Baseline = pciBaseline()
				c.Rules = []Rule{{MatchTags: map[string]string{"env": "prod", "tier": "1"}, Baseline: pciBaseline(), Line: 3}}
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for n, content := range tc.extra {
				writeFile(t, dir, n, content)
			}
			p := writeFile(t, dir, "s3baseline.yaml", tc.file)
			got, err := LoadConfig(p)
			if err != nil {
				t.Fatalf("%s: %v", tc.reason, err)
			}
			want := DefaultConfig()
			want.Path = p
			tc.want(want)
			if got.Settings.Logging == (LoggingSettings{}) || got.Settings.Notifications.Topic == "" {
				t.Errorf("%s: defaults lost: %+v", tc.reason, got.Settings)
			}
			// Baselines from files carry their path; compare them apart.
			for _, b := range append([]*Baseline{got.Baseline}, ruleBaselines(got)...) {
				if b != nil && b.Source != SourceBuiltin {
					b.Source = "pci.yaml"
				}
			}
			if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Config{}, "Lines")); diff != "" {
				t.Errorf("%s: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func pciBaseline() *Baseline {
	b, _ := Builtin("high")
	b.Name, b.Description, b.Source = "pci", "", "pci.yaml"
	b.Controls = b.Controls[:len(b.Controls)-1] // shield is last
	return b
}

func ruleBaselines(c *Config) []*Baseline {
	var out []*Baseline
	for _, r := range c.Rules {
		out = append(out, r.Baseline)
	}
	return out
}

func TestLoadConfigErrors(t *testing.T) {
	cases := map[string]struct {
		file  string
		extra map[string]string
		want  string
	}{
		"malformed YAML": {
			file: "baseline: high\nregions: [us-east-1]\nbuckets: x: y\n",
			want: "cfg.yaml:3: invalid YAML: mapping values are not allowed in this context",
		},
		"not a mapping": {
			file: "- high\n",
			want: "cfg.yaml:1: want a mapping, got a list",
		},
		"unknown top-level key": {
			file: "baseline: high\nbaselines: low\n",
			want: "cfg.yaml:2: baselines: unknown key (want baseline, regions, settings or buckets)",
		},
		"unknown nested key": {
			file: "settings:\n  logging:\n    target_bukket: x\n",
			want: "cfg.yaml:3: settings.logging.target_bukket: unknown key (want target_bucket, target_prefix or create_target)",
		},
		"unknown settings section": {
			file: "settings:\n  tls: {}\n",
			want: "cfg.yaml:2: settings.tls: unknown key (want logging, encryption, notifications, admin_lock or cloudtrail)",
		},
		"unknown rule key": {
			file: "buckets:\n  - match: a-*\n    baseline: low\n    exempts: [tls_only]\n",
			want: "cfg.yaml:4: buckets[0].exempts: unknown key (want match, match_tags, accounts, regions, baseline, exempt, mute, settings, reason or until)",
		},
		"duplicate key": {
			file: "baseline: high\nbaseline: low\n",
			want: "cfg.yaml:2: baseline: duplicate key (first at line 1)",
		},
		"regions not a list": {
			file: "regions: us-east-1\n",
			want: `cfg.yaml:1: regions: want a list, got "us-east-1"`,
		},
		"bool not a bool": {
			file: "settings:\n  logging:\n    create_target: yes\n",
			want: `cfg.yaml:3: settings.logging.create_target: want true or false, got "yes"`,
		},
		"string not a string": {
			file: "settings:\n  encryption:\n    kms_key: [a, b]\n",
			want: `cfg.yaml:3: settings.encryption.kms_key: want a string, got a list`,
		},
		"settings not a mapping": {
			file: "settings: []\n",
			want: `cfg.yaml:1: settings: want a mapping, got a list`,
		},
		"buckets not a list": {
			file: "buckets:\n  match: a-*\n",
			want: `cfg.yaml:2: buckets: want a list, got a mapping`,
		},
		"rule not a mapping": {
			file: "buckets:\n  - a-*\n",
			want: `cfg.yaml:2: buckets[0]: want a mapping, got "a-*"`,
		},
		"bad glob": {
			file: "buckets:\n  - match: \"logs-[\"\n    baseline: low\n",
			want: `cfg.yaml:2: buckets[0].match: bad glob "logs-[": syntax error in pattern`,
		},
		"empty glob": {
			file: "buckets:\n  - match: \"\"\n    baseline: low\n",
			want: `cfg.yaml:2: buckets[0].match: empty glob (want a pattern like "logs-*")`,
		},
		"unknown exempt control": {
			file: "baseline: medium\nbuckets:\n  - match: a-*\n    baseline: low\n  - match: b-*\n    exempt:\n      - event_notification\n    reason: r\n",
			want: `cfg.yaml:7: buckets[1].exempt[0]: unknown control "event_notification"`,
		},
		"account control exempt": {
			file: "buckets:\n  - match: a-*\n    exempt: [iam_mfa]\n    reason: r\n",
			want: `cfg.yaml:3: buckets[0].exempt[0]: iam_mfa is an account control; it cannot be exempted for a bucket`,
		},
		"duplicate exempt": {
			file: "buckets:\n  - match: a-*\n    exempt: [tls_only, tls_only]\n    reason: r\n",
			want: `cfg.yaml:3: buckets[0].exempt[1]: duplicate "tls_only"`,
		},
		"unknown baseline": {
			file: "\n\nbaseline: hihg\n",
			want: `cfg.yaml:3: baseline: unknown baseline "hihg" (want low, medium, high or a baseline file)`,
		},
		"unknown rule baseline": {
			file: "baseline: high\nbuckets:\n  - match: a-*\n    baseline: meduim\n",
			want: `cfg.yaml:4: buckets[0].baseline: unknown baseline "meduim" (want low, medium, high or a baseline file)`,
		},
		"bad baseline file": {
			file:  "baseline: pci.yaml\n",
			extra: map[string]string{"pci.yaml": "name: pci\ncontrols: [tls]\n"},
			want:  `cfg.yaml:1: baseline: pci.yaml:2: controls[0]: unknown control "tls"`,
		},
		"baseline file with two errors": {
			file:  "\nbaseline: pci.yaml\n",
			extra: map[string]string{"pci.yaml": "name: pci\ncontrols: [tls]\nencryption: x\n"},
			want: `cfg.yaml:2: baseline: pci.yaml:2: controls[0]: unknown control "tls"` + "\n" +
				`cfg.yaml:2: baseline: pci.yaml:3: encryption: unknown encryption level "x" (want sse-s3, sse-kms or customer-key)`,
		},
		"rule without match": {
			file: "buckets:\n  - baseline: low\n    reason: r\n",
			want: `cfg.yaml:2: buckets[0]: a rule needs match, match_tags, accounts or regions`,
		},
		"rule that does nothing": {
			file: "buckets:\n  - match: a-*\n    reason: r\n",
			want: `cfg.yaml:2: buckets[0]: a rule needs baseline, exempt, mute or settings (otherwise it does nothing)`,
		},
		"exempt without reason": {
			file: "buckets:\n  - match: a-*\n    exempt: [tls_only]\n",
			want: `cfg.yaml:3: buckets[0].reason: required with exempt and mute (say why, for the plan and the auditors)`,
		},
		"bad until": {
			file: "buckets:\n  - match: a-*\n    exempt: [tls_only]\n    reason: r\n    until: 2027-13-01\n",
			want: `cfg.yaml:5: buckets[0].until: "2027-13-01" is not a date (want YYYY-MM-DD)`,
		},
		"until with a time": {
			file: "buckets:\n  - match: a-*\n    exempt: [tls_only]\n    reason: r\n    until: 2027-06-30T12:00:00Z\n",
			want: `cfg.yaml:5: buckets[0].until: "2027-06-30T12:00:00Z" is not a date (want YYYY-MM-DD)`,
		},
		"until without exempt": {
			file: "buckets:\n  - match: a-*\n    baseline: low\n    until: 2027-06-30\n",
			want: `cfg.yaml:4: buckets[0].until: only applies to exempt and mute, and this rule does neither`,
		},
		"empty match_tags": {
			file: "buckets:\n  - match_tags: {}\n    baseline: low\n",
			want: `cfg.yaml:2: buckets[0].match_tags: empty (want at least one tag, e.g. {team: analytics})`,
		},
		"match_tags value not a scalar": {
			file: "buckets:\n  - match_tags:\n      team: [a, b]\n    baseline: low\n",
			want: `cfg.yaml:3: buckets[0].match_tags.team: want a tag value, got a list (write "" for an empty value)`,
		},
		"match_tags not a mapping": {
			file: "buckets:\n  - match_tags: [team]\n    baseline: low\n",
			want: `cfg.yaml:2: buckets[0].match_tags: want a mapping of tag keys to values, got a list`,
		},
		"invalid region": {
			file: "regions: [us-east-1, eu-west]\n",
			want: `cfg.yaml:1: regions[1]: invalid region "eu-west" (want a region name like us-east-1)`,
		},
		"uppercase region": {
			file: "regions: [EU-WEST-1]\n",
			want: `cfg.yaml:1: regions[0]: invalid region "EU-WEST-1": region names are lowercase: eu-west-1`,
		},
		"unknown region": {
			file: "regions:\n  - us-east-1\n  - eu-wst-1\n",
			want: `cfg.yaml:3: regions[1]: unknown region "eu-wst-1" (did you mean eu-west-1? known: ` + strings.Join(regions.Known(), ", ") + ")",
		},
		"unknown trail region": {
			file: "settings:\n  cloudtrail:\n    region: xx-fake-1\n",
			want: `cfg.yaml:3: settings.cloudtrail.region: invalid region "xx-fake-1" (want a region name like us-east-1)`,
		},
		"duplicate region": {
			file: "regions: [us-east-1, us-east-1]\n",
			want: `cfg.yaml:1: regions[1]: duplicate "us-east-1"`,
		},
		"bad event": {
			file: "settings:\n  notifications:\n    events: [\"s3:ObjectCreated:*\", \"ObjectRemoved:*\"]\n",
			want: `cfg.yaml:3: settings.notifications.events[1]: "ObjectRemoved:*" is not an S3 event type (want s3:..., e.g. s3:ObjectCreated:*)`,
		},
		"no events": {
			file: "settings:\n  notifications:\n    events: []\n",
			want: `cfg.yaml:3: settings.notifications.events: empty (want at least one event, e.g. s3:ObjectCreated:*)`,
		},
		"bad principal": {
			file: "settings:\n  admin_lock:\n    principals:\n      - arn:aws:iam::123456789012:role/Admin\n      - \"*\"\n",
			want: `cfg.yaml:5: settings.admin_lock.principals[1]: "*" is not an IAM principal (want arn:aws:iam::{account}:role/..., arn:{partition}:iam::<12 digits>:user/..., :root, or an account id)`,
		},
		"session principal": {
			file: "settings:\n  admin_lock:\n    principals: [\"arn:aws:sts::123456789012:assumed-role/Admin/alice\"]\n",
			want: `cfg.yaml:3: settings.admin_lock.principals[0]: "arn:aws:sts::123456789012:assumed-role/Admin/alice" is not an IAM principal (want arn:aws:iam::{account}:role/..., arn:{partition}:iam::<12 digits>:user/..., :root, or an account id)`,
		},
		"target bucket upper case": {
			file: "settings:\n  logging:\n    target_bucket: Acme-Logs-{account}-{region}\n",
			want: `cfg.yaml:3: settings.logging.target_bucket: "Acme-Logs-{account}-{region}" expands to an invalid bucket name: "Acme-Logs-123456789012-ap-southeast-2": only lowercase letters, digits, '.' and '-' are allowed`,
		},
		"target bucket too long": {
			file: "settings:\n  logging:\n    target_bucket: acme-corporation-s3-server-access-logs-{account}-{region}\n",
			want: `cfg.yaml:3: settings.logging.target_bucket: "acme-corporation-s3-server-access-logs-{account}-{region}" expands to an invalid bucket name: "acme-corporation-s3-server-access-logs-123456789012-ap-southeast-2": length 66 (want 3 to 63 characters)`,
		},
		"target bucket too long for a listed region": {
			file: "regions: [us-gov-west-1]\nsettings:\n  logging:\n    target_bucket: acme-corporation-s3-server-access-logs-{account}-{region}\n",
			want: `cfg.yaml:4: settings.logging.target_bucket: "acme-corporation-s3-server-access-logs-{account}-{region}" expands to an invalid bucket name: "acme-corporation-s3-server-access-logs-123456789012-us-gov-west-1": length 65 (want 3 to 63 characters)`,
		},
		"target bucket unknown placeholder": {
			file: "settings:\n  logging:\n    target_bucket: logs-{acount}-{region}\n",
			want: `cfg.yaml:3: settings.logging.target_bucket: unknown placeholder {acount} in "logs-{acount}-{region}" (want {account} or {region})`,
		},
		"target bucket without region": {
			file: "settings:\n  logging:\n    target_bucket: acme-logs-{account}\n",
			want: `cfg.yaml:3: settings.logging.target_bucket: "acme-logs-{account}" needs {region}: a log bucket must be in its source buckets' region (or list exactly one region)`,
		},
		"empty target bucket": {
			file: "settings:\n  logging:\n    target_bucket: \"\"\n",
			want: `cfg.yaml:3: settings.logging.target_bucket: "" expands to an invalid bucket name: "": length 0 (want 3 to 63 characters)`,
		},
		"trail bucket with region": {
			file: "settings:\n  cloudtrail:\n    bucket: trail-{account}-{region}\n",
			want: `cfg.yaml:3: settings.cloudtrail.bucket: unknown placeholder {region} in "trail-{account}-{region}" (want {account})`,
		},
		"trail bucket reserved prefix": {
			file: "settings:\n  cloudtrail:\n    bucket: xn--trail-{account}\n",
			want: `cfg.yaml:3: settings.cloudtrail.bucket: "xn--trail-{account}" expands to an invalid bucket name: "xn--trail-123456789012": the prefix xn-- is reserved`,
		},
		"bad trail name": {
			file: "settings:\n  cloudtrail:\n    trail_name: my trail\n",
			want: `cfg.yaml:3: settings.cloudtrail.trail_name: "my trail" is not a trail name (3-128 letters, digits, '.', '_' or '-', starting and ending with a letter or digit)`,
		},
		"bad trail region": {
			file: "settings:\n  cloudtrail:\n    region: mars-1\n",
			want: `cfg.yaml:3: settings.cloudtrail.region: invalid region "mars-1" (want a region name like us-east-1)`,
		},
		"empty trail key": {
			file: "settings:\n  cloudtrail:\n    kms_key: \"\"\n",
			want: `cfg.yaml:3: settings.cloudtrail.kms_key: must name a KMS key (alias, key id or key ARN)`,
		},
		"bad topic": {
			file: "settings:\n  notifications:\n    topic: s3 events\n",
			want: `cfg.yaml:3: settings.notifications.topic: "s3 events" is not an SNS topic name or ARN`,
		},
		"fifo topic": {
			file: "settings:\n  notifications:\n    topic: events.fifo\n",
			want: `cfg.yaml:3: settings.notifications.topic: "events.fifo" is a FIFO topic; S3 event notifications cannot publish to FIFO topics`,
		},
		"two documents": {
			file: "baseline: high\n---\nbaseline: low\n",
			want: `cfg.yaml:2: more than one YAML document (remove the second ---)`,
		},
		"several errors, in file order": {
			file: "buckets:\n  - match: b-*\n    exempt: [tls]\n    reason: r\nbaseline: hihg\nregions: [mars-1]\n",
			want: `cfg.yaml:3: buckets[0].exempt[0]: unknown control "tls"` + "\n" +
				`cfg.yaml:5: baseline: unknown baseline "hihg" (want low, medium, high or a baseline file)` + "\n" +
				`cfg.yaml:6: regions[0]: invalid region "mars-1" (want a region name like us-east-1)`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for n, content := range tc.extra {
				writeFile(t, dir, n, content)
			}
			c, err := LoadConfig(writeFile(t, dir, "cfg.yaml", tc.file))
			if got := errText(err, dir); got != tc.want {
				t.Errorf("LoadConfig error\n got: %s\nwant: %s", got, tc.want)
			}
			if c != nil {
				t.Errorf("LoadConfig returned a config with an error")
			}
			var fe *FileError
			if err != nil && !errors.As(err, &fe) {
				t.Errorf("error is not a *FileError: %T", err)
			}
		})
	}
}

func TestLoadConfigMissingFile(t *testing.T) {
	dir := t.TempDir()
	_, err := LoadConfig(dir + "/nope.yaml")
	if got, want := errText(err, dir), "read config: open nope.yaml: no such file or directory"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// A plan carries its config as JSON; it must come back the same.
func TestConfigJSONRoundTrip(t *testing.T) {
	dir := t.TempDir()
	c, err := LoadConfig(writeFile(t, dir, "s3baseline.yaml", contractExample))
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	var back Config
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	// The file lines of keys are for messages after loading; a
	// plan's copy of the config has none.
	if diff := cmp.Diff(c, &back, cmpopts.IgnoreFields(Config{}, "Lines")); diff != "" {
		t.Errorf("round trip -want +got:\n%s", diff)
	}
	golden(t, "config.json.golden", append([]byte(strings.ReplaceAll(string(data), dir+"/", "")), '\n'))

	var bad Config
	if err := json.Unmarshal([]byte(`{"buckets":[{"match":"a","until":"tomorrow"}]}`), &bad); err == nil {
		t.Error("bad until accepted")
	}
}

// TestLoadConfigEnabledRegions: a region the known list lacks loads when
// the account has it enabled, so a region launched after this build is not
// refused for ever; without the enabled list it is an error.
func TestLoadConfigEnabledRegions(t *testing.T) {
	path := writeFile(t, t.TempDir(), "s3baseline.yaml", "regions: [us-east-1, eu-east-1]\n")
	if _, err := LoadConfig(path); err == nil || !strings.Contains(err.Error(), `unknown region "eu-east-1"`) {
		t.Errorf("without enabled regions: %v, want unknown region", err)
	}
	enabled := regions.NewChecker(func() ([]string, error) { return []string{"us-east-1", "eu-east-1"}, nil })
	c, err := LoadConfigWith(path, LoadOptions{Regions: enabled})
	if err != nil {
		t.Fatalf("with eu-east-1 enabled: %v", err)
	}
	if diff := cmp.Diff([]string{"us-east-1", "eu-east-1"}, c.Regions); diff != "" {
		t.Errorf("regions (-want +got):\n%s", diff)
	}
}

// TestCheckSettings: a baseline that enforces admin_policy_lock without
// admin principals is one error naming the file and the key, not one per
// bucket at plan time.
func TestCheckSettings(t *testing.T) {
	const principals = "settings:\n  admin_lock:\n    principals: [\"arn:aws:iam::123456789012:role/Admin\"]\n"
	cases := map[string]struct {
		reason   string
		file     string // "" for no config file
		baseline string // a --baseline over the file's, "" for none
		want     string // "" for no error
	}{
		"high with principals": {reason: "what high needs", file: "baseline: high\n" + principals},
		"medium without":       {reason: "medium has no admin_policy_lock", file: "baseline: medium\n"},
		"high without": {reason: "the key is absent: the file and key are named",
			file: "baseline: high\n",
			want: "cfg.yaml: settings.admin_lock.deny: empty, but baseline high enforces admin_policy_lock, a Deny of bucket-policy changes to these principals: list the administrators to lock out (e.g. arn:aws:iam::{account}:role/OpsAdmin)"},
		"high with an empty list": {reason: "the empty list's line is named",
			file: "baseline: high\nsettings:\n  admin_lock:\n    principals: []\n",
			want: "cfg.yaml:4: settings.admin_lock.deny: empty, but baseline high enforces admin_policy_lock"},
		"a rule's high": {reason: "a rule's baseline needs the principals too",
			file: "baseline: low\nbuckets:\n  - match: \"vault-*\"\n    baseline: high\n",
			want: "cfg.yaml: settings.admin_lock.deny: empty, but baseline high enforces"},
		"--baseline high over the file": {reason: "the flag's baseline is judged with the file's settings",
			file: "baseline: low\n", baseline: "high",
			want: "cfg.yaml: settings.admin_lock.deny: empty, but baseline high"},
		"--baseline high, no file": {reason: "with no file the flag is named, and where to set the list",
			baseline: "high",
			want:     "--baseline high: settings.admin_lock.deny in s3baseline.yaml (--config) is empty, but baseline high enforces"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			c := DefaultConfig()
			if tc.file != "" {
				var err error
				if c, err = LoadConfig(writeFile(t, dir, "cfg.yaml", tc.file)); err != nil {
					t.Fatal(err)
				}
			}
			if tc.baseline != "" {
				c.Baseline, _ = Builtin(tc.baseline)
			}
			err := c.CheckSettings()
			got := errText(err, dir)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("%s: %v, want no error", tc.reason, err)
			case tc.want != "" && !strings.HasPrefix(got, tc.want):
				t.Errorf("%s:\n got: %s\nwant: %s...", tc.reason, got, tc.want)
			case strings.Contains(got, "\n"):
				t.Errorf("%s: more than one line: %q", tc.reason, got)
			}
		})
	}
}

// The old name of admin_lock.deny still loads, with a warning that names
// the file, line and key; both names at once is an error.
func TestAdminLockPrincipalsDeprecated(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "s3baseline.yaml", "settings:\n  admin_lock:\n    principals: [\"arn:aws:iam::{account}:role/OpsAdmin\"]\n    actions: configuration\n")
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(AdminLockSettings{Deny: []string{"arn:aws:iam::{account}:role/OpsAdmin"}, Actions: AdminLockConfiguration}, c.Settings.AdminLock); diff != "" {
		t.Errorf("admin_lock -want +got:\n%s", diff)
	}
	want := path + ":3: settings.admin_lock.principals: deprecated: rename it deny"
	if len(c.Warnings) != 1 || !strings.HasPrefix(c.Warnings[0], want) {
		t.Errorf("warnings %q, want one starting %q", c.Warnings, want)
	}
	both := writeFile(t, dir, "both.yaml", "settings:\n  admin_lock:\n    deny: [\"111122223333\"]\n    principals: [\"111122223333\"]\n")
	if _, err := LoadConfig(both); err == nil || !strings.Contains(err.Error(), "both deny and principals") {
		t.Errorf("deny and principals together: error %v", err)
	}
	bad := writeFile(t, dir, "bad.yaml", "settings:\n  admin_lock:\n    deny: [\"arn:aws:iam::{region}:role/X\"]\n    actions: everything\n")
	_, err = LoadConfig(bad)
	for _, w := range []string{`bad.yaml:3: settings.admin_lock.deny[0]: "arn:aws:iam::{region}:role/X": a principal is global`, `bad.yaml:4: settings.admin_lock.actions: "everything" is not policy or configuration`} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("error %v, want a line %q", err, w)
		}
	}
}
