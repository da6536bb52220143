package baselines

import (
	"errors"
	"fmt"
	"path"
	"path/filepath"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/s3baseline/s3baseline/regions"
	"github.com/s3baseline/s3baseline/settings"
)

// Default settings. The demo and the tests rely on these exact names.
const (
	DefaultLogTarget   = "s3baseline-logs-{account}-{region}"
	DefaultLogPrefix   = "s3/"
	DefaultKMSKey      = "alias/s3baseline"
	DefaultTopic       = "s3baseline-events"
	DefaultTrailName   = "s3baseline-data-events"
	DefaultTrailBucket = "s3baseline-cloudtrail-{account}"
	DefaultTrailKMSKey = "alias/s3baseline-cloudtrail"
	DefaultTrailRegion = "us-east-1"
	DefaultConfigFile  = "s3baseline.yaml"
	dateLayout         = "2006-01-02"
	accountPlaceholder = "{account}"
	regionPlaceholder  = "{region}"
	// partitionPlaceholder is the account's partition in admin_lock.deny.
	partitionPlaceholder = "{partition}"
	defaultEventCreated  = "s3:ObjectCreated:*"
	defaultEventRemoved  = "s3:ObjectRemoved:*"
)

// DefaultConfig is the configuration without a file: no default baseline
// (the caller's --baseline supplies one), every region, no rules, and the
// tool's own names for the resources it creates.
func DefaultConfig() *Config {
	return &Config{
		Settings: Settings{
			Logging: LoggingSettings{
				TargetBucket: DefaultLogTarget,
				TargetPrefix: DefaultLogPrefix,
				CreateTarget: true,
			},
			Encryption: EncryptionSettings{KMSKey: DefaultKMSKey, CreateKey: true},
			Notifications: NotificationSettings{
				Topic:       DefaultTopic,
				Events:      []string{defaultEventCreated, defaultEventRemoved},
				CreateTopic: true,
			},
			AdminLock: AdminLockSettings{Deny: []string{}},
			CloudTrail: CloudTrailSettings{TrailName: DefaultTrailName, Bucket: DefaultTrailBucket,
				KMSKey: DefaultTrailKMSKey, Region: DefaultTrailRegion},
		},
	}
}

// LoadConfig reads an s3baseline.yaml file over the defaults: every key
// the file sets replaces the default (lists replace, they do not append).
// Baselines named in it are resolved relative to the file's directory.
//
// Every problem is reported, one line each ("file:line: key: message"),
// joined with errors.Join when there are several; each is a *FileError.
// A past "until" is not an error: the exemption has lapsed, and Assign says
// so, so that a scheduled run on the day after keeps working and shows it.
func LoadConfig(path string) (*Config, error) {
	return LoadConfigWith(path, LoadOptions{})
}

// LoadOptions are what reading a config may use besides the file.
type LoadOptions struct {
	// Regions checks the region names the file gives (regions,
	// settings.cloudtrail.region); nil checks them against the known
	// regions only (see package regions).
	Regions *regions.Checker
}

// LoadConfigWith is LoadConfig with options.
func LoadConfigWith(path string, o LoadOptions) (*Config, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return parseConfig(path, data, filepath.Dir(path), o)
}

var (
	configKeys        = []string{"baseline", "regions", "settings", "buckets"}
	settingsKeys      = []string{"logging", "encryption", "notifications", "admin_lock", "cloudtrail"}
	loggingKeys       = []string{"target_bucket", "target_prefix", "create_target"}
	encryptionKeys    = []string{"kms_key", "create_key"}
	notificationsKeys = []string{"topic", "events", "create_topic"}
	adminLockKeys     = []string{"deny", "actions", "principals"}
	cloudTrailKeys    = []string{"trail_name", "bucket", "kms_key", "region"}
	ruleKeys          = []string{"match", "match_tags", "accounts", "regions", "baseline", "exempt", "mute", "settings", "reason", "until"}
)

// configReader carries what reading one config file needs besides the
// walker: where relative baseline paths start, and the baselines already
// resolved, so a file named by ten rules is read once.
type configReader struct {
	*walker
	baseDir   string
	baselines map[string]resolved
	regions   *regions.Checker
	// Template nodes are checked once the regions are known, wherever in
	// the file they were.
	logTarget, trailBucket *yaml.Node
	// lines become Config.Lines, warnings Config.Warnings.
	lines    map[string]int
	warnings []string
	// ruleSettings is the settings node of the rule being read; pending
	// are those of the rules read, applied over the file's settings once
	// those are known.
	ruleSettings *pendingSettings
	pending      []pendingSettings
}

type pendingSettings struct {
	node *yaml.Node
	key  string
	rule int
}

// warnf records a warning about key at node n, in the form of an error line.
func (r *configReader) warnf(n *yaml.Node, key, format string, args ...any) {
	r.warnings = append(r.warnings, (&FileError{File: r.file, Line: n.Line, Key: key, Err: fmt.Errorf(format, args...)}).Error())
}

// line records the line of key for Config.Lines.
func (r *configReader) line(key string, n *yaml.Node) {
	if r.lines == nil {
		r.lines = map[string]int{}
	}
	r.lines[key] = n.Line
}

type resolved struct {
	b   *Baseline
	err error
}

func parseConfig(file string, data []byte, baseDir string, o LoadOptions) (*Config, error) {
	c := DefaultConfig()
	c.Path = file
	root, err := parseYAML(file, data)
	if err != nil {
		return nil, err
	}
	if root == nil {
		return c, nil // an empty file is the defaults
	}
	r := &configReader{walker: &walker{file: file}, baseDir: baseDir, baselines: map[string]resolved{}, regions: o.Regions}
	r.fields(root, "", configKeys, func(name string, _, v *yaml.Node) {
		switch name {
		case "baseline":
			c.Baseline = r.baseline(v, name)
		case "regions":
			c.Regions, _ = r.strList(v, name, r.regions.Check)
			if v.Kind == yaml.SequenceNode {
				for i, it := range v.Content {
					r.line(index(name, i), it)
				}
			}
		case "settings":
			r.settings(v, name, &c.Settings)
		case "buckets":
			items, _ := r.list(v, name)
			for i, item := range items {
				r.ruleSettings = nil
				if rule, ok := r.rule(item, index(name, i)); ok {
					c.Rules = append(c.Rules, rule)
					if ps := r.ruleSettings; ps != nil {
						ps.rule = len(c.Rules) - 1
						r.pending = append(r.pending, *ps)
					}
				}
			}
		}
	})
	// A rule's settings replace the keys they set of the file's settings,
	// which are only known now.
	for _, ps := range r.pending {
		s := c.Settings.clone()
		r.settings(ps.node, ps.key, &s)
		c.Rules[ps.rule].Settings = &s
	}
	r.checkTemplates(c)
	c.Lines = r.lines
	c.Warnings = r.warnings
	if err := r.err(); err != nil {
		return nil, err
	}
	return c, nil
}

// baseline resolves a baseline value; nil when it could not be.
func (r *configReader) baseline(v *yaml.Node, key string) *Baseline {
	s, ok := r.str(v, key)
	if !ok {
		return nil
	}
	res, seen := r.baselines[s]
	if !seen {
		res.b, res.err = Resolve(s, r.baseDir)
		r.baselines[s] = res
	}
	// A baseline file with several problems gives one line for each, each
	// under this key, so that every line of the error stands alone.
	var many interface{ Unwrap() []error }
	if errors.As(res.err, &many) {
		for _, err := range many.Unwrap() {
			r.wrap(v, key, err)
		}
	} else if res.err != nil {
		r.wrap(v, key, res.err)
	}
	return res.b
}

// checkedStr reads a string, and stores it in dst when check accepts it;
// otherwise the error names the file, line and key.
func (r *configReader) checkedStr(v *yaml.Node, key string, check func(string) error, dst *string) {
	s, ok := r.str(v, key)
	if !ok {
		return
	}
	if err := check(s); err != nil {
		r.errorf(v, key, "%v", err)
		return
	}
	*dst = s
}

// checkKeyRef refuses an empty KMS key reference.
func checkKeyRef(s string) error {
	if s == "" {
		return errors.New("must name a KMS key (alias, key id or key ARN)")
	}
	return nil
}

func (r *configReader) settings(n *yaml.Node, key string, s *Settings) {
	r.fields(n, key, settingsKeys, func(name string, _, v *yaml.Node) {
		key := join(key, name)
		switch name {
		case "logging":
			l := &s.Logging
			r.fields(v, key, loggingKeys, func(name string, _, v *yaml.Node) {
				key := join(key, name)
				switch name {
				case "target_bucket":
					if t, ok := r.str(v, key); ok {
						l.TargetBucket, r.logTarget = t, v
					}
				case "target_prefix":
					l.TargetPrefix, _ = r.str(v, key)
				case "create_target":
					l.CreateTarget, _ = r.boolean(v, key)
				}
			})
		case "encryption":
			e := &s.Encryption
			r.fields(v, key, encryptionKeys, func(name string, _, v *yaml.Node) {
				key := join(key, name)
				switch name {
				case "kms_key":
					// May be empty: it only matters to controls that need a
					// key, and the plan says so for the buckets concerned.
					e.KMSKey, _ = r.str(v, key)
				case "create_key":
					e.CreateKey, _ = r.boolean(v, key)
				}
			})
		case "notifications":
			ns := &s.Notifications
			r.fields(v, key, notificationsKeys, func(name string, _, v *yaml.Node) {
				key := join(key, name)
				switch name {
				case "topic":
					r.checkedStr(v, key, checkTopic, &ns.Topic)
				case "events":
					if ev, ok := r.strList(v, key, checkEvent); ok && len(ev) == 0 {
						r.errorf(v, key, "empty (want at least one event, e.g. s3:ObjectCreated:*)")
					} else if ok {
						ns.Events = ev
					}
				case "create_topic":
					ns.CreateTopic, _ = r.boolean(v, key)
				}
			})
		case "admin_lock":
			var denyNode *yaml.Node
			r.fields(v, key, adminLockKeys, func(name string, k, v *yaml.Node) {
				key := join(key, name)
				switch name {
				case "deny", "principals":
					if denyNode != nil {
						r.errorf(k, key, "settings.admin_lock has both deny and principals (the old name of deny): keep deny")
						return
					}
					denyNode = v
					r.line("settings.admin_lock.deny", v)
					if name == "principals" {
						r.warnf(k, key, "deprecated: rename it deny (the principals the lock denies); principals will stop working in the next release")
					}
					if p, ok := r.strList(v, key, checkPrincipalTemplate); ok {
						s.AdminLock.Deny = p
					}
				case "actions":
					r.checkedStr(v, key, checkAdminActions, &s.AdminLock.Actions)
				}
			})
		case "cloudtrail":
			t := &s.CloudTrail
			r.fields(v, key, cloudTrailKeys, func(name string, _, v *yaml.Node) {
				key := join(key, name)
				switch name {
				case "trail_name":
					r.checkedStr(v, key, checkTrailName, &t.TrailName)
				case "bucket":
					if b, ok := r.str(v, key); ok {
						t.Bucket, r.trailBucket = b, v
					}
				case "kms_key":
					r.checkedStr(v, key, checkKeyRef, &t.KMSKey)
				case "region":
					r.checkedStr(v, key, r.regions.Check, &t.Region)
				}
			})
		}
	})
}

// checkTemplates checks the bucket name templates the file set against the
// regions it names (or a long sample region when it names none).
func (r *configReader) checkTemplates(c *Config) {
	regions := c.Regions
	if len(regions) == 0 {
		regions = []string{sampleRegion}
	}
	if n := r.logTarget; n != nil {
		key := "settings.logging.target_bucket"
		tmpl := c.Settings.Logging.TargetBucket
		if err := checkTemplate(tmpl, []string{accountPlaceholder, regionPlaceholder}, regions); err != nil {
			r.errorf(n, key, "%v", err)
		} else if !strings.Contains(tmpl, regionPlaceholder) && len(c.Regions) != 1 {
			// Bucket names are global and S3 only logs to a target in the
			// source bucket's region, so one name cannot serve two regions.
			r.errorf(n, key, "%q needs {region}: a log bucket must be in its source buckets' region (or list exactly one region)", tmpl)
		}
	}
	if n := r.trailBucket; n != nil {
		// The trail is multi-region and writes to one bucket, so there is no
		// region to put in its name.
		if err := checkTemplate(c.Settings.CloudTrail.Bucket, []string{accountPlaceholder}, []string{sampleRegion}); err != nil {
			r.errorf(n, "settings.cloudtrail.bucket", "%v", err)
		}
	}
}

// rule reads one entry of buckets. ok is false when it had errors.
func (r *configReader) rule(n *yaml.Node, key string) (Rule, bool) {
	before := len(r.errs)
	rule := Rule{Line: n.Line}
	var given struct{ match, baseline, exempt, mute, settings, until *yaml.Node }
	isMapping := r.fields(n, key, ruleKeys, func(name string, k, v *yaml.Node) {
		fkey := join(key, name)
		switch name {
		case "match":
			given.match = k
			if p, ok := r.str(v, fkey); ok {
				if err := checkGlob(p); err != nil {
					r.errorf(v, fkey, "%v", err)
				}
				rule.Match = p
			}
		case "match_tags":
			given.match = k
			rule.MatchTags = r.tags(v, fkey)
		case "accounts":
			given.match = k
			rule.Accounts, _ = r.strList(v, fkey, checkAccountID)
		case "regions":
			given.match = k
			rule.Regions, _ = r.strList(v, fkey, r.regions.Check)
		case "mute":
			given.mute = k
			rule.Mute = r.mute(v, fkey)
		case "settings":
			given.settings = k
			r.ruleSettings = &pendingSettings{node: v, key: fkey}
		case "baseline":
			given.baseline = k
			rule.Baseline = r.baseline(v, fkey)
		case "exempt":
			given.exempt = k
			rule.Exempt = r.exempt(v, fkey)
		case "reason":
			rule.Reason, _ = r.str(v, fkey)
		case "until":
			given.until = k
			if s, ok := r.str(v, fkey); ok {
				t, err := time.Parse(dateLayout, s)
				if err != nil {
					r.errorf(v, fkey, "%q is not a date (want YYYY-MM-DD)", s)
				}
				rule.Until = t
			}
		}
	})
	if !isMapping {
		return Rule{}, false
	}
	switch {
	case given.match == nil:
		r.errorf(n, key, "a rule needs match, match_tags, accounts or regions")
	case given.baseline == nil && given.exempt == nil && given.mute == nil && given.settings == nil:
		r.errorf(n, key, "a rule needs baseline, exempt, mute or settings (otherwise it does nothing)")
	case given.settings != nil && (len(rule.Accounts) == 0 || rule.Match != "" || len(rule.MatchTags) > 0 || len(rule.Regions) > 0 || given.baseline != nil || given.exempt != nil):
		r.errorf(given.settings, join(key, "settings"), "settings are per account: a rule with settings names accounts and nothing else to match, and sets no baseline or exempt")
	}
	for _, g := range []*yaml.Node{given.exempt, given.mute} {
		if g != nil && strings.TrimSpace(rule.Reason) == "" {
			r.errorf(g, join(key, "reason"), "required with exempt and mute (say why, for the plan and the auditors)")
			break
		}
	}
	if given.until != nil && given.exempt == nil && given.mute == nil {
		r.errorf(given.until, join(key, "until"), "only applies to exempt and mute, and this rule does neither")
	}
	return rule, len(r.errs) == before
}

// checkGlob validates a bucket name glob. path.Match checks the whole
// pattern even when the name does not match, so matching against "" is a
// syntax check.
func checkGlob(p string) error {
	if p == "" {
		return errors.New("empty glob (want a pattern like \"logs-*\")")
	}
	if _, err := path.Match(p, ""); err != nil {
		return fmt.Errorf("bad glob %q: %w", p, err)
	}
	return nil
}

// tags reads match_tags: a non-empty mapping of tag keys to values. Values
// are taken as their text, since tag values are strings ("enabled: true"
// matches the tag value "true").
func (r *configReader) tags(n *yaml.Node, key string) map[string]string {
	if n.Kind != yaml.MappingNode {
		r.errorf(n, key, "want a mapping of tag keys to values, got %s", describe(n))
		return nil
	}
	if len(n.Content) == 0 {
		r.errorf(n, key, "empty (want at least one tag, e.g. {team: analytics})")
		return nil
	}
	tags := map[string]string{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], resolve(n.Content[i+1])
		if k.Kind != yaml.ScalarNode || isNull(k) || k.Value == "" {
			r.errorf(k, key, "want a tag key, got %s", describe(k))
			continue
		}
		tkey := join(key, k.Value)
		if _, dup := tags[k.Value]; dup {
			r.errorf(k, tkey, "duplicate tag key")
			continue
		}
		if v.Kind != yaml.ScalarNode || isNull(v) {
			r.errorf(v, tkey, "want a tag value, got %s (write \"\" for an empty value)", describe(v))
			continue
		}
		tags[k.Value] = v.Value
	}
	return tags
}

// exempt reads a list of control ids a rule exempts.
func (r *configReader) exempt(n *yaml.Node, key string) []settings.ControlID {
	ids, _ := r.strList(n, key, func(s string) error {
		id := settings.ControlID(s)
		switch {
		case !settings.IsControl(id):
			return fmt.Errorf("unknown control %q", s)
		case !exemptable(id):
			return fmt.Errorf("%s is an account control; it cannot be exempted for a bucket", s)
		}
		return nil
	})
	out := make([]settings.ControlID, len(ids))
	for i, s := range ids {
		out[i] = settings.ControlID(s)
	}
	return out
}

// CheckSettings checks what depends on the config as a whole once the
// default baseline is final (after a --baseline flag replaced the file's):
// a baseline in use that enforces admin_policy_lock needs the admin
// principals it denies, or every bucket under it would fail alike. It is
// one error naming the file and the key (or, with no file, the flag).
func (c *Config) CheckSettings() error {
	if len(c.Settings.AdminLock.Deny) > 0 {
		return nil
	}
	var need *Baseline
	for _, b := range c.baselinesInUse() {
		if spec, ok := b.Spec(settings.AdminPolicyLock); ok && spec.Mode == ModeEnforce {
			need = b
			break
		}
	}
	if need == nil {
		return nil
	}
	msg := fmt.Errorf("empty, but baseline %s enforces %s, a Deny of bucket-policy changes to these principals: "+
		"list the administrators to lock out (e.g. arn:aws:iam::{account}:role/OpsAdmin)", need.Name, settings.AdminPolicyLock)
	if c.Path == "" {
		return fmt.Errorf("--baseline %s: settings.admin_lock.deny in %s (--config) is %w", need.Name, DefaultConfigFile, msg)
	}
	return &FileError{File: c.Path, Line: c.Line("settings.admin_lock.deny"), Key: "settings.admin_lock.deny", Err: msg}
}

// baselinesInUse are the default baseline and every rule's, default first.
func (c *Config) baselinesInUse() []*Baseline {
	var out []*Baseline
	if c.Baseline != nil {
		out = append(out, c.Baseline)
	}
	for _, r := range c.Rules {
		if r.Baseline != nil {
			out = append(out, r.Baseline)
		}
	}
	return out
}

// mute reads a rule's mute list: report-mode controls only, since a mute
// silences findings and enforced controls have changes (exempt them).
func (r *configReader) mute(n *yaml.Node, key string) []settings.ControlID {
	ids, _ := r.strList(n, key, func(s string) error {
		id := settings.ControlID(s)
		if !settings.IsControl(id) {
			return fmt.Errorf("unknown control %q", s)
		}
		return nil
	})
	out := make([]settings.ControlID, len(ids))
	for i, s := range ids {
		out[i] = settings.ControlID(s)
	}
	return out
}
