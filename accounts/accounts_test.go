package accounts

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/s3baseline/s3baseline/settings"
)

// TestShardsAreDisjointAndCover: for many account lists, in any order, and
// every shard count, each account is in exactly one shard and the shards
// together are the list.
func TestShardsAreDisjointAndCover(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 200; trial++ {
		n := rng.IntN(40)
		var list []settings.OrgAccount
		for i := 0; i < n; i++ {
			list = append(list, settings.OrgAccount{ID: fmt.Sprintf("%012d", rng.Int64N(1e12))})
		}
		list = dedupe(list)
		for count := 1; count <= 9; count++ {
			seen := map[string]int{}
			sizes := []int{}
			for i := 0; i < count; i++ {
				shuffled := slices.Clone(list)
				rng.Shuffle(len(shuffled), func(a, b int) { shuffled[a], shuffled[b] = shuffled[b], shuffled[a] })
				part := Shard{Index: i, Count: count}.Of(shuffled)
				sizes = append(sizes, len(part))
				for _, a := range part {
					seen[a.ID]++
				}
			}
			for _, a := range list {
				if seen[a.ID] != 1 {
					t.Fatalf("%d accounts, %d shards: %s is in %d shards, want exactly 1", len(list), count, a.ID, seen[a.ID])
				}
			}
			if len(seen) != len(list) {
				t.Fatalf("%d accounts, %d shards: the shards hold %d distinct accounts", len(list), count, len(seen))
			}
			if slices.Max(append(sizes, 0))-slices.Min(append(sizes, len(list))) > 1 {
				t.Errorf("%d accounts, %d shards: sizes %v differ by more than one", len(list), count, sizes)
			}
		}
	}
}

func dedupe(list []settings.OrgAccount) []settings.OrgAccount {
	seen := map[string]bool{}
	var out []settings.OrgAccount
	for _, a := range list {
		if !seen[a.ID] {
			seen[a.ID] = true
			out = append(out, a)
		}
	}
	return out
}

func TestParseShard(t *testing.T) {
	cases := map[string]struct {
		in      string
		want    Shard
		wantErr bool
	}{
		"first":        {in: "0/4", want: Shard{0, 4}},
		"last":         {in: "3/4", want: Shard{3, 4}},
		"one":          {in: "0/1", want: Shard{0, 1}},
		"index=count":  {in: "4/4", wantErr: true},
		"negative":     {in: "-1/4", wantErr: true},
		"zero count":   {in: "0/0", wantErr: true},
		"not a number": {in: "a/4", wantErr: true},
		"no slash":     {in: "2", wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ParseShard(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("ParseShard(%q) error = %v, want error %v", tc.in, err, tc.wantErr)
			}
			if !tc.wantErr && got != tc.want {
				t.Errorf("ParseShard(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestSelect(t *testing.T) {
	org := []settings.OrgAccount{
		{ID: "333333333333", Status: "ACTIVE"}, {ID: "111111111111", Status: "ACTIVE"},
		{ID: "444444444444", Status: "SUSPENDED"}, {ID: "222222222222", Status: "ACTIVE"},
	}
	ids := func(list []settings.OrgAccount) []string {
		var out []string
		for _, a := range list {
			out = append(out, a.ID)
		}
		return out
	}
	all, skipped, err := Select(org, Spec{All: true})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ids(all), []string{"111111111111", "222222222222", "333333333333"}; !slices.Equal(got, want) {
		t.Errorf("all: %v, want %v (sorted, suspended skipped)", got, want)
	}
	if !slices.Equal(skipped, []string{"444444444444 (SUSPENDED)"}) {
		t.Errorf("skipped = %v", skipped)
	}
	spec, err := ParseSpec("333333333333, 111111111111")
	if err != nil {
		t.Fatal(err)
	}
	some, _, err := Select(org, spec)
	if err != nil || !slices.Equal(ids(some), []string{"111111111111", "333333333333"}) {
		t.Errorf("listed: %v, %v", ids(some), err)
	}
	if _, _, err := Select(org, Spec{IDs: []string{"999999999999"}}); err == nil {
		t.Error("an id outside the organization was accepted")
	}
	for _, bad := range []string{"12345", "all,111111111111", "", "11111111111a"} {
		if _, err := ParseSpec(bad); err == nil {
			t.Errorf("ParseSpec(%q) accepted", bad)
		}
	}
}
