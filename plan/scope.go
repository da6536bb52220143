package plan

import (
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/s3baseline/s3baseline/baselines"
	"github.com/s3baseline/s3baseline/settings"
)

// CheckScope checks the scope flags before anything is asked of AWS: every
// --bucket glob is a valid pattern and every --region a region name (see
// package regions; Options.RegionChecker may know the account's enabled
// regions). Each problem is one line naming its flag.
func CheckScope(o Options) error {
	var errs []error
	for _, g := range o.Buckets {
		if _, err := path.Match(g, ""); err != nil {
			errs = append(errs, fmt.Errorf("--bucket %q: %w", g, err))
		}
	}
	for _, r := range o.Regions {
		if err := o.RegionChecker.Check(r); err != nil {
			errs = append(errs, fmt.Errorf("--region: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Unmatched is a scope filter (--bucket, --region), a config region or a
// config rule that matched no bucket of the listing: almost always a typo,
// which would otherwise make a plan of nothing that looks compliant.
type Unmatched struct {
	// Key identifies it across the accounts of an organization plan.
	Key string
	// Subject names it the way the operator wrote it: `--bucket "app-*"`,
	// `s3baseline.yaml:2: regions[1] "eu-west-2"`.
	Subject string
	// Reason is what the subject is not; "" means it matches no bucket.
	Reason string
}

// Line is the one-line message, for a plan of accounts accounts (1 for a
// one-account plan).
func (u Unmatched) Line(accounts int) string {
	if u.Reason != "" {
		return u.Subject + " " + u.Reason
	}
	if accounts > 1 {
		return fmt.Sprintf("%s matches no bucket in any of the %d accounts planned", u.Subject, accounts)
	}
	return u.Subject + " matches no bucket"
}

// matches is what one account's plan learnt about which filters and rules
// matched something; see unmatched.
type matches struct {
	// tagRules is set per rule index for the rules with match_tags that
	// matched the tags of a bucket planned.
	tagRules map[int]bool
	// tagsUnknown is set when a bucket's tags could not be read: a tag
	// rule may have matched it.
	tagsUnknown bool
}

// unmatched lists what of the scope matched no bucket of the listing all:
//
//   - a --bucket glob that no bucket matches in the regions in scope;
//   - a --region with no bucket that the globs and the config admit (or a
//     region outside the config's regions);
//   - a config region no bucket of the account is in;
//   - a config rule that no bucket in the config's regions matches. A rule
//     on the name alone is judged from the listing, whatever the flags; a
//     rule on tags only when every bucket's tags were read, that is when
//     no flag narrows the scope and no tag read failed.
//
// A rule shadowed by an earlier one (first match wins) is not reported.
func unmatched(account string, all []settings.BucketRef, o Options, m *matches) []Unmatched {
	cfg := o.Config
	globOK := func(name string) bool {
		return len(o.Buckets) == 0 || slices.ContainsFunc(o.Buckets, func(g string) bool {
			ok, _ := path.Match(g, name)
			return ok
		})
	}
	regionOK := func(region string) bool {
		return (len(o.Regions) == 0 || slices.Contains(o.Regions, region)) && cfg.InRegion(region)
	}
	var out []Unmatched
	for _, g := range o.Buckets {
		if !slices.ContainsFunc(all, func(b settings.BucketRef) bool {
			ok, _ := path.Match(g, b.Name)
			return ok && regionOK(b.Region)
		}) {
			out = append(out, Unmatched{Key: "bucket:" + g, Subject: fmt.Sprintf("--bucket %q", g)})
		}
	}
	for _, r := range o.Regions {
		u := Unmatched{Key: "region:" + r, Subject: fmt.Sprintf("--region %q", r)}
		switch {
		case !cfg.InRegion(r):
			u.Reason = "is not among the config's regions (" + strings.Join(cfg.Regions, ", ") + "): no bucket can be in scope"
			out = append(out, u)
		case !slices.ContainsFunc(all, func(b settings.BucketRef) bool { return b.Region == r && globOK(b.Name) }):
			out = append(out, u)
		}
	}
	for i, r := range cfg.Regions {
		if !slices.ContainsFunc(all, func(b settings.BucketRef) bool { return b.Region == r }) {
			out = append(out, Unmatched{Key: "config-region:" + r,
				Subject: fmt.Sprintf("%s: regions[%d] %q", fileLine(cfg.Path, cfg.Line(fmt.Sprintf("regions[%d]", i))), i, r)})
		}
	}
	narrowed := len(o.Buckets) > 0 || len(o.Regions) > 0
	for i := range cfg.Rules {
		r := &cfg.Rules[i]
		var hit bool
		if len(r.MatchTags) > 0 {
			if narrowed || m.tagsUnknown {
				continue // not every bucket's tags were read
			}
			hit = m.tagRules[i]
		} else {
			hit = slices.ContainsFunc(all, func(b settings.BucketRef) bool {
				return cfg.InRegion(b.Region) && r.MatchesAt(baselines.Target{Account: account, Region: b.Region, Bucket: b.Name})
			})
		}
		if !hit {
			out = append(out, Unmatched{Key: fmt.Sprintf("rule:%d", i),
				Subject: fmt.Sprintf("%s: buckets[%d] (%s)", fileLine(cfg.Path, r.Line), i, describeRule(r))})
		}
	}
	return out
}

// fileLine is "file:line", or the file alone when the line is unknown.
func fileLine(file string, line int) string {
	if file == "" {
		file = baselines.DefaultConfigFile
	}
	if line > 0 {
		return fmt.Sprintf("%s:%d", file, line)
	}
	return file
}

// describeRule names a rule by what it matches on.
func describeRule(r *baselines.Rule) string {
	var parts []string
	if r.Match != "" {
		parts = append(parts, fmt.Sprintf("match %q", r.Match))
	}
	if len(r.MatchTags) > 0 {
		var tags []string
		for _, k := range slices.Sorted(maps.Keys(r.MatchTags)) {
			tags = append(tags, k+": "+r.MatchTags[k])
		}
		parts = append(parts, "match_tags {"+strings.Join(tags, ", ")+"}")
	}
	return strings.Join(parts, ", ")
}

// intersectUnmatched keeps what matched nothing in every one of parts: in
// an organization plan a glob that matches buckets of one account is not
// a typo. With no parts nothing is known to be unmatched.
func intersectUnmatched(parts []*Plan) []Unmatched {
	if len(parts) == 0 {
		return nil
	}
	out := slices.Clone(parts[0].Unmatched)
	for _, p := range parts[1:] {
		out = slices.DeleteFunc(out, func(u Unmatched) bool {
			return !slices.ContainsFunc(p.Unmatched, func(v Unmatched) bool { return v.Key == u.Key })
		})
	}
	return out
}

// UnmatchedLines are the messages for p.Unmatched, one line each.
func (p *Plan) UnmatchedLines() []string {
	planned := 0
	for _, a := range p.Sections() {
		if a.Caller != "" {
			planned++
		}
	}
	out := make([]string, len(p.Unmatched))
	for i, u := range p.Unmatched {
		out[i] = u.Line(planned)
	}
	return out
}
