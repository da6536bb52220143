// Package regions checks AWS region names: their syntax, and that they
// name a region that exists, so that a typo in --region or in a config's
// regions is an error instead of a scope with no buckets in it (a drift
// job that reports "compliant" forever).
//
// The known regions are listed here and nowhere else. A region launched
// after this list was written is not refused for ever: a Checker given the
// account's enabled regions (account:ListRegions) accepts a well-formed
// name that is among them.
package regions

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
)

// known lists today's AWS regions, every partition, as the AWS General
// Reference lists them ("AWS Regions",
// https://docs.aws.amazon.com/global-infrastructure/latest/regions/aws-regions.html)
// and the SDK's partition data agrees (aws-sdk-go-v2 v1.48.0,
// internal/endpoints/awsrulesfn/partitions.json, the regions of partitions
// aws, aws-cn, aws-us-gov, aws-iso, aws-iso-b, aws-iso-e, aws-iso-f and
// aws-eusc; their pseudo-regions "aws-global" and the like are not region
// names a bucket can live in). A constant, so nothing can change it at run
// time; Known returns it as a fresh slice.
const known = `
af-south-1
ap-east-1 ap-east-2
ap-northeast-1 ap-northeast-2 ap-northeast-3
ap-south-1 ap-south-2
ap-southeast-1 ap-southeast-2 ap-southeast-3 ap-southeast-4 ap-southeast-5 ap-southeast-6 ap-southeast-7
ca-central-1 ca-west-1
eu-central-1 eu-central-2
eu-north-1
eu-south-1 eu-south-2
eu-west-1 eu-west-2 eu-west-3
il-central-1
me-central-1 me-south-1 me-west-1
mx-central-1
sa-east-1 sa-west-1
us-east-1 us-east-2 us-west-1 us-west-2
cn-north-1 cn-northwest-1
us-gov-east-1 us-gov-west-1
us-iso-east-1 us-iso-west-1
us-isob-east-1 us-isob-west-1
eu-isoe-west-1
us-isof-east-1 us-isof-south-1
eusc-de-east-1
`

// Known returns the known region names, sorted.
func Known() []string {
	out := strings.Fields(known)
	slices.Sort(out)
	return out
}

// syntax is the union of the SDK's partition region patterns (the
// partitions.json named above: aws `^(us|eu|ap|sa|ca|me|af|il|mx)\-\w+\-\d+$`,
// aws-cn `^cn\-\w+\-\d+$`, aws-us-gov `^us\-gov\-\w+\-\d+$`, aws-iso
// `^us\-iso\-\w+\-\d+$`, aws-iso-b `^us\-isob\-\w+\-\d+$`, aws-iso-e
// `^eu\-isoe\-\w+\-\d+$`, aws-iso-f `^us\-isof\-\w+\-\d+$`, aws-eusc
// `^eusc\-(de)\-\w+\-\d+$`), made strict where AWS names are: the
// direction part is lowercase letters (\w would take capitals, digits and
// '_'), and the number has no leading zero.
var syntax = regexp.MustCompile(`^(?:us|eu|ap|sa|ca|me|af|il|mx|cn|us-gov|us-iso|us-isob|us-isof|eu-isoe|eusc-de)-[a-z]+-[1-9][0-9]?$`)

// ErrUnknown is wrapped by the error for a well-formed name that is
// neither known nor among the account's enabled regions.
var ErrUnknown = errors.New("unknown region")

// Checker checks region names against the syntax, the known list and,
// when it has them, the account's enabled regions. A nil *Checker checks
// against the known list only. It is safe for concurrent use.
type Checker struct {
	enabled func() ([]string, error)

	once    sync.Once
	list    []string
	listErr error
}

// NewChecker returns a Checker that, for a well-formed name the known list
// lacks, asks enabled (once, however many names it checks) for the regions
// enabled in the account and accepts the name if it is among them. enabled
// may be nil: then only the known list counts.
func NewChecker(enabled func() ([]string, error)) *Checker {
	return &Checker{enabled: enabled}
}

// Check returns nil for a valid region name, or why it is not one, in a
// form that follows the flag or key it came from: `invalid region
// "EU-WEST-1": region names are lowercase: eu-west-1`, `unknown region
// "eu-wst-1" (did you mean eu-west-1? known: af-south-1, ...)`.
func (c *Checker) Check(name string) error {
	if !syntax.MatchString(name) {
		if fixed := normalise(name); fixed != name && syntax.MatchString(fixed) {
			if strings.ToLower(name) == fixed {
				return fmt.Errorf("invalid region %q: region names are lowercase: %s", name, fixed)
			}
			return fmt.Errorf("invalid region %q: region names are lowercase words joined by '-': %s", name, fixed)
		}
		return fmt.Errorf("invalid region %q (want a region name like us-east-1)", name)
	}
	all := Known()
	if c != nil && c.enabled != nil {
		c.once.Do(func() { c.list, c.listErr = c.enabled() })
	}
	if slices.Contains(all, name) {
		// A real region the account has not opted in to holds no bucket
		// of it: a filter naming it can only be a mistake.
		if c != nil && c.enabled != nil && c.listErr == nil && !slices.Contains(c.list, name) {
			return fmt.Errorf("%w: region %q is not enabled in this account (enabled: %s)", ErrUnknown, name, strings.Join(c.list, ", "))
		}
		return nil
	}
	var note string
	if c != nil && c.enabled != nil {
		if c.listErr == nil && slices.Contains(c.list, name) {
			return nil
		}
		if c.listErr != nil {
			note = "; the account's enabled regions could not be read: " + oneLine(c.listErr.Error())
		} else {
			note = "; not among the account's enabled regions either"
		}
	}
	hint := ""
	if s := closest(name, all); s != "" {
		hint = "did you mean " + s + "? "
	}
	return fmt.Errorf("%w %q (%sknown: %s)%s", ErrUnknown, name, hint, strings.Join(all, ", "), note)
}

// normalise is what an operator most likely meant by a malformed name:
// lowercase, with '_' and ' ' as '-'.
func normalise(s string) string {
	return strings.NewReplacer("_", "-", " ", "-").Replace(strings.ToLower(strings.TrimSpace(s)))
}

// closest is the known name within two edits of name, "" when there is
// none or more than one is as close.
func closest(name string, all []string) string {
	best, bestD, tie := "", 3, false
	for _, k := range all {
		switch d := distance(name, k); {
		case d < bestD:
			best, bestD, tie = k, d, false
		case d == bestD:
			tie = true
		}
	}
	if tie {
		return ""
	}
	return best
}

// distance is the Levenshtein distance of a and b (region names are
// ASCII).
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
