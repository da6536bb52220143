package regions

import (
	"errors"
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	cases := map[string]struct {
		reason  string
		name    string
		enabled func() ([]string, error)
		want    string // "" for valid; else substrings of the error, '|' separated
	}{
		"commercial":        {reason: "the oldest region", name: "us-east-1"},
		"europe":            {reason: "a plain European region", name: "eu-west-3"},
		"two-word":          {reason: "a compound direction", name: "ap-southeast-2"},
		"govcloud":          {reason: "the aws-us-gov partition", name: "us-gov-west-1"},
		"china":             {reason: "the aws-cn partition", name: "cn-north-1"},
		"china northwest":   {reason: "the aws-cn partition, compound direction", name: "cn-northwest-1"},
		"israel":            {reason: "a newer geography prefix", name: "il-central-1"},
		"mexico":            {reason: "a newer geography prefix", name: "mx-central-1"},
		"sovereign cloud":   {reason: "the aws-eusc partition has a two-part prefix", name: "eusc-de-east-1"},
		"iso-b":             {reason: "an ISO partition", name: "us-isob-east-1"},
		"iso-e":             {reason: "an ISO partition in Europe", name: "eu-isoe-west-1"},
		"uppercase":         {reason: "a hint, not just 'invalid'", name: "EU-WEST-1", want: `invalid region "EU-WEST-1": region names are lowercase: eu-west-1`},
		"mixed case":        {reason: "the hint for any capital", name: "Eu-West-1", want: `region names are lowercase: eu-west-1`},
		"underscores":       {reason: "the hint shows the hyphenated form", name: "eu_west_1", want: `eu-west-1`},
		"no number":         {reason: "a region always ends in its number", name: "eu-west", want: `invalid region "eu-west" (want a region name like us-east-1)`},
		"leading zero":      {reason: "no AWS region number has one", name: "eu-west-01", want: `invalid region`},
		"fake geography":    {reason: "no partition has the prefix xx", name: "xx-fake-1", want: `invalid region "xx-fake-1"`},
		"availability zone": {reason: "a zone is not a region", name: "us-east-1a", want: `invalid region`},
		"empty":             {reason: "nothing is not a region", name: "", want: `invalid region ""`},
		"typo":              {reason: "well formed, but no such region: the known list catches it and suggests", name: "eu-wst-1", want: `unknown region "eu-wst-1" (did you mean eu-west-1? known: af-south-1, |eu-west-1|us-west-2`},
		"future number":     {reason: "well formed, unknown, nothing close enough to suggest one", name: "eu-west-9", want: `unknown region "eu-west-9" (known:`},
		"new region, enabled": {reason: "a region launched after the list is accepted when the account has it enabled",
			name: "eu-east-1", enabled: func() ([]string, error) { return []string{"us-east-1", "eu-east-1"}, nil }},
		"new region, not enabled": {reason: "the enabled list does not admit what it lacks",
			name: "eu-east-1", enabled: func() ([]string, error) { return []string{"us-east-1"}, nil },
			want: `unknown region "eu-east-1"|not among the account's enabled regions either`},
		"known region, not enabled": {reason: "an opt-in region the account has not enabled holds none of its buckets",
			name: "af-south-1", enabled: func() ([]string, error) { return []string{"us-east-1", "eu-west-1"}, nil },
			want: `region "af-south-1" is not enabled in this account`},
		"known region, enabled": {reason: "a known region the account has enabled passes",
			name: "eu-west-1", enabled: func() ([]string, error) { return []string{"us-east-1", "eu-west-1"}, nil }},
		"enabled unreadable": {reason: "an unreadable enabled list is said, and the known list decides",
			name: "eu-east-1", enabled: func() ([]string, error) { return nil, errors.New("AccessDenied: not authorized") },
			want: `unknown region "eu-east-1"|enabled regions could not be read: AccessDenied: not authorized`},
		"enabled does not fix syntax": {reason: "the enabled list cannot make a malformed name valid",
			name: "EU-EAST-1", enabled: func() ([]string, error) { return []string{"EU-EAST-1"}, nil },
			want: `region names are lowercase: eu-east-1`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := NewChecker(tc.enabled).Check(tc.name)
			if tc.want == "" {
				if err != nil {
					t.Errorf("%s: Check(%q) = %v, want nil", tc.reason, tc.name, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("%s: Check(%q) = nil, want an error with %q", tc.reason, tc.name, tc.want)
			}
			for _, w := range strings.Split(tc.want, "|") {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%s: Check(%q) = %q, want it to contain %q", tc.reason, tc.name, err, w)
				}
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("%s: the error is more than one line: %q", tc.reason, err)
			}
		})
	}
}

// TestKnownAreValid: every listed region passes the syntax, so the list and
// the pattern cannot drift apart, and a nil Checker uses the list.
func TestKnownAreValid(t *testing.T) {
	var c *Checker
	for _, r := range Known() {
		if err := c.Check(r); err != nil {
			t.Errorf("known region %s: %v", r, err)
		}
	}
	if n := len(Known()); n < 30 {
		t.Errorf("only %d known regions", n)
	}
}

// TestEnabledAskedOnce: the account is asked at most once however many
// names are checked, known ones included (they must be enabled too).
func TestEnabledAskedOnce(t *testing.T) {
	calls := 0
	c := NewChecker(func() ([]string, error) { calls++; return []string{"us-east-1", "eu-west-1", "eu-east-1"}, nil })
	for _, r := range []string{"us-east-1", "eu-west-1"} {
		if err := c.Check(r); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if err := c.Check("eu-east-1"); err != nil {
			t.Fatal(err)
		}
		_ = c.Check("eu-wst-1")
	}
	if calls != 1 {
		t.Errorf("enabled regions read %d times, want 1", calls)
	}
}
