package baselines

import (
	"path"
	"slices"
	"strings"
	"time"

	"github.com/s3baseline/s3baseline/settings"
)

// Assign decides what the config holds one bucket to. The first rule that
// matches wins: its glob must match the name and every one of its
// match_tags must be present with that value (each test only when the rule
// has it). A bucket no rule matches gets the default baseline.
//
// tags are the bucket's tags; pass nil when NeedsTags is false. Tags only
// ever matter through rules in the file: a tag cannot pick a baseline by
// itself, or anyone who may tag a bucket could lower its protection.
//
// An exemption holds through its until date (UTC, inclusive); from the day
// after, it is listed under Lapsed and the control is enforced again.
func (c *Config) Assign(bucket string, tags map[string]string, now time.Time) Assignment {
	return c.AssignAt(Target{Bucket: bucket, Tags: tags}, now)
}

// Target is what a rule is matched against: a bucket of an account, in a
// home region, with its tags.
type Target struct {
	Account, Region, Bucket string
	Tags                    map[string]string
}

// AssignAt is Assign for a bucket of a known account and region, which
// rules with accounts or regions need; Assign knows neither, so such
// rules never match there.
func (c *Config) AssignAt(t Target, now time.Time) Assignment {
	a := Assignment{Baseline: c.Baseline}
	for i := range c.Rules {
		r := &c.Rules[i]
		if !r.MatchesAt(t) || r.accountOnly() {
			continue
		}
		a.Rule = r
		if r.Baseline != nil {
			a.Baseline = r.Baseline
		}
		a.Exempt, a.Lapsed = r.exemptions(r.Exempt, now)
		a.Muted, a.LapsedMutes = r.exemptions(r.Mute, now)
		break
	}
	return a
}

// accountOnly reports whether the rule names only accounts (and mutes):
// it is about the accounts' own findings, not their buckets.
func (r *Rule) accountOnly() bool {
	return len(r.Accounts) > 0 && r.Match == "" && len(r.MatchTags) == 0 && len(r.Regions) == 0 && r.Baseline == nil && len(r.Exempt) == 0
}

// ForAccount is the config as one account is held to it: the settings of
// the first rule of accounts alone that names the account and sets any,
// the file's otherwise. The result shares everything else with c.
func (c *Config) ForAccount(account string) *Config {
	for i := range c.Rules {
		r := &c.Rules[i]
		if r.Settings != nil && r.accountOnly() && slices.Contains(r.Accounts, account) {
			out := *c
			out.Settings = *r.Settings
			return &out
		}
	}
	return c
}

// clone is a deep copy of s: its lists are the copy's own.
func (s Settings) clone() Settings {
	s.Notifications.Events = slices.Clone(s.Notifications.Events)
	s.AdminLock.Deny = slices.Clone(s.AdminLock.Deny)
	return s
}

// AccountMutes are the account findings muted for account, in force and
// lapsed: those of the rules that name only accounts.
func (c *Config) AccountMutes(account string, now time.Time) (muted, lapsed []Exemption) {
	for i := range c.Rules {
		r := &c.Rules[i]
		if !r.accountOnly() || !slices.Contains(r.Accounts, account) {
			continue
		}
		m, l := r.exemptions(r.Mute, now)
		muted, lapsed = append(muted, m...), append(lapsed, l...)
	}
	return muted, lapsed
}

// exemptions are the rule's exemptions (or mutes) of the controls ids,
// in force or lapsed: an exemption holds through its until date (UTC,
// inclusive).
func (r *Rule) exemptions(ids []settings.ControlID, now time.Time) (inForce, lapsed []Exemption) {
	var until string
	if !r.Until.IsZero() {
		until = r.Until.Format(dateLayout)
	}
	// Dates in YYYY-MM-DD order compare as strings.
	gone := until != "" && now.UTC().Format(dateLayout) > until
	for _, id := range ids {
		e := Exemption{Control: id, Reason: r.Reason, Until: until}
		if gone {
			lapsed = append(lapsed, e)
		} else {
			inForce = append(inForce, e)
		}
	}
	return inForce, lapsed
}

// Matches reports whether the rule matches a bucket of that name and tags
// (whether or not an earlier rule matches it first).
func (r *Rule) Matches(bucket string, tags map[string]string) bool {
	return r.MatchesAt(Target{Bucket: bucket, Tags: tags})
}

// MatchesAt is Matches for a bucket of a known account and region.
func (r *Rule) MatchesAt(t Target) bool {
	bucket, tags := t.Bucket, t.Tags
	if len(r.Accounts) > 0 && !slices.Contains(r.Accounts, t.Account) {
		return false
	}
	if len(r.Regions) > 0 && !slices.Contains(r.Regions, t.Region) {
		return false
	}
	if r.Match != "" {
		if ok, err := path.Match(r.Match, bucket); err != nil || !ok {
			return false
		}
	}
	for k, v := range r.MatchTags {
		if got, ok := tags[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// NeedsTags reports whether any rule matches on tags, i.e. whether
// observing a bucket must read its tags before it can be assigned.
func (c *Config) NeedsTags() bool {
	return slices.ContainsFunc(c.Rules, func(r Rule) bool { return len(r.MatchTags) > 0 })
}

// InRegion reports whether buckets homed in region are in scope.
func (c *Config) InRegion(region string) bool {
	return len(c.Regions) == 0 || slices.Contains(c.Regions, region)
}

// ExpandTemplate fills {account} and {region} into a bucket name template.
func ExpandTemplate(tmpl, account, region string) string {
	return strings.NewReplacer(accountPlaceholder, account, regionPlaceholder, region).Replace(tmpl)
}

// ExpandPrincipal fills an admin_lock.deny entry in for one account of a
// partition (aws, aws-us-gov, aws-cn).
func ExpandPrincipal(tmpl, account, partition string) string {
	return strings.NewReplacer(accountPlaceholder, account, partitionPlaceholder, partition).Replace(tmpl)
}
