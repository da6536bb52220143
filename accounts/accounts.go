// Package accounts decides which accounts of an organization a run covers:
// the --accounts selection and the --shard split that lets a job engine (a
// Kubernetes Indexed Job, an AWS Batch array job) run the accounts in
// parallel, one shard per worker.
package accounts

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/s3baseline/s3baseline/settings"
)

var accountID = regexp.MustCompile(`^[0-9]{12}$`)

// Spec is a parsed --accounts value: every active account of the
// organization, or the listed ones.
type Spec struct {
	All bool
	IDs []string
}

// ParseSpec reads --accounts: "all" or comma-separated 12-digit ids.
func ParseSpec(s string) (Spec, error) {
	s = strings.TrimSpace(s)
	if s == "all" {
		return Spec{All: true}, nil
	}
	var ids []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if !accountID.MatchString(f) {
			return Spec{}, fmt.Errorf("--accounts: %q is not an account id (12 digits) or \"all\"", f)
		}
		if !slices.Contains(ids, f) {
			ids = append(ids, f)
		}
	}
	slices.Sort(ids)
	return Spec{IDs: ids}, nil
}

// Select picks the spec's accounts from the organization's, sorted by id.
// Accounts that are not ACTIVE (suspended, closing) are skipped and named
// in skipped; a listed id the organization does not have is an error.
func Select(org []settings.OrgAccount, spec Spec) (selected []settings.OrgAccount, skipped []string, err error) {
	byID := map[string]settings.OrgAccount{}
	for _, a := range org {
		byID[a.ID] = a
	}
	ids := spec.IDs
	if spec.All {
		for _, a := range org {
			ids = append(ids, a.ID)
		}
		slices.Sort(ids)
	}
	var unknown []string
	for _, id := range ids {
		a, ok := byID[id]
		switch {
		case !ok:
			unknown = append(unknown, id)
		case a.Status != "" && a.Status != "ACTIVE":
			skipped = append(skipped, fmt.Sprintf("%s (%s)", id, a.Status))
		default:
			selected = append(selected, a)
		}
	}
	if len(unknown) > 0 {
		return nil, nil, fmt.Errorf("--accounts: %s %s not in the organization", strings.Join(unknown, ", "), plural(len(unknown), "is", "are"))
	}
	return selected, skipped, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// Shard is one part of a split: Index of Count, 0-based like a Kubernetes
// Job's completion index. The zero value is the whole list.
type Shard struct {
	Index, Count int
}

// ParseShard reads --shard "i/n" with 0 <= i < n.
func ParseShard(s string) (Shard, error) {
	is, ns, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("--shard: %q is not INDEX/COUNT (e.g. 0/4)", s)
	}
	if n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("--shard: %q: want 0 <= INDEX < COUNT", s)
	}
	return Shard{Index: i, Count: n}, nil
}

func (s Shard) String() string {
	if s.Count == 0 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// Of returns the shard's accounts: the list sorted by id, dealt round-robin
// over Count shards. Every account is in exactly one shard, whatever the
// order the list came in, and shards differ in size by at most one. Adding
// an account can move others to another shard; each run plans what it is
// given, so that only changes which worker does the work.
func (s Shard) Of(list []settings.OrgAccount) []settings.OrgAccount {
	sorted := slices.Clone(list)
	slices.SortFunc(sorted, func(a, b settings.OrgAccount) int { return strings.Compare(a.ID, b.ID) })
	if s.Count <= 1 {
		return sorted
	}
	var out []settings.OrgAccount
	for k, a := range sorted {
		if k%s.Count == s.Index {
			out = append(out, a)
		}
	}
	return out
}
