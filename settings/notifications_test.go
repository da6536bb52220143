package settings

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEventsOverlap(t *testing.T) {
	cases := map[string]struct {
		reason string
		a, b   string
		want   bool
	}{
		"Equal":         {"equal events overlap", "s3:ObjectCreated:Put", "s3:ObjectCreated:Put", true},
		"WildcardLeft":  {"ObjectCreated:* covers ObjectCreated:Put", "s3:ObjectCreated:*", "s3:ObjectCreated:Put", true},
		"WildcardRight": {"overlap is symmetric", "s3:ObjectCreated:Put", "s3:ObjectCreated:*", true},
		"BothWildcards": {"the same wildcard", "s3:ObjectRemoved:*", "s3:ObjectRemoved:*", true},
		"OtherFamily":   {"created and removed do not overlap", "s3:ObjectCreated:*", "s3:ObjectRemoved:Delete", false},
		"Siblings":      {"two different specific events", "s3:ObjectCreated:Put", "s3:ObjectCreated:Copy", false},
		"NoWildcard":    {"a prefix without * is not a wildcard", "s3:ObjectCreated:", "s3:ObjectCreated:Put", false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := EventsOverlap(tc.a, tc.b); got != tc.want {
				t.Errorf("\n%s\nEventsOverlap(%q, %q) = %v, want %v", tc.reason, tc.a, tc.b, got, tc.want)
			}
		})
	}
}

func TestFiltersOverlap(t *testing.T) {
	rules := func(kv ...string) []FilterRule {
		var out []FilterRule
		for i := 0; i < len(kv); i += 2 {
			out = append(out, FilterRule{Name: kv[i], Value: kv[i+1]})
		}
		return out
	}
	cases := map[string]struct {
		reason string
		a, b   []FilterRule
		want   bool
	}{
		"BothEmpty":        {"no filter is every key", nil, nil, true},
		"OneEmpty":         {"an empty filter overlaps any filter", rules("prefix", "logs/"), nil, true},
		"NestedPrefixes":   {"logs/ and logs/2024/ overlap", rules("prefix", "logs/"), rules("Prefix", "logs/2024/"), true},
		"DisjointPrefixes": {"logs/ and images/ do not", rules("prefix", "logs/"), rules("prefix", "images/"), false},
		"DisjointSuffixes": {"same prefix, .jpg and .png do not", rules("prefix", "a/", "suffix", ".jpg"), rules("prefix", "a/", "suffix", ".png"), false},
		"NestedSuffixes":   {".jpg and photo.jpg overlap", rules("suffix", ".jpg"), rules("suffix", "photo.jpg"), true},
		"PrefixesDisjoint": {"overlapping suffixes with disjoint prefixes do not", rules("prefix", "a/", "suffix", ".jpg"), rules("prefix", "b/", "suffix", ".jpg"), false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := FiltersOverlap(tc.a, tc.b); got != tc.want {
				t.Errorf("\n%s\nFiltersOverlap(%v, %v) = %v, want %v", tc.reason, tc.a, tc.b, got, tc.want)
			}
			if got := FiltersOverlap(tc.b, tc.a); got != tc.want {
				t.Errorf("\n%s\nFiltersOverlap swapped = %v, want %v", tc.reason, got, tc.want)
			}
		})
	}
}

func TestNotificationsForeign(t *testing.T) {
	n := &Notifications{Entries: []NotificationEntry{
		{ID: "ingest", Kind: DestQueue},
		{ID: NotificationID, Kind: DestTopic},
		{ID: "thumbs", Kind: DestLambda},
	}}
	var ids []string
	for _, e := range n.Foreign() {
		ids = append(ids, e.ID)
	}
	if diff := cmp.Diff([]string{"ingest", "thumbs"}, ids); diff != "" {
		t.Errorf("Foreign: -want, +got:\n%s", diff)
	}
	if own, ok := n.Own(); !ok || own.Kind != DestTopic {
		t.Errorf("Own() = %+v, %v; want the topic entry", own, ok)
	}
	var none *Notifications
	if none.Foreign() != nil {
		t.Error("a nil configuration has no entries")
	}
	if _, ok := none.Own(); ok {
		t.Error("a nil configuration has no own entry")
	}
}
