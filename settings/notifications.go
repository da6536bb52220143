package settings

import "strings"

// EventsOverlap reports whether two S3 event types share an event, the test
// S3 applies before it accepts a notification configuration ("Configurations
// on the same bucket cannot share a common event type"). A trailing "*"
// stands for every event under its prefix, so s3:ObjectCreated:* overlaps
// s3:ObjectCreated:Put.
func EventsOverlap(a, b string) bool {
	if a == b {
		return true
	}
	covers := func(wild, ev string) bool {
		p, ok := strings.CutSuffix(wild, "*")
		return ok && strings.HasPrefix(ev, p)
	}
	return covers(a, b) || covers(b, a)
}

// FiltersOverlap reports whether two key filters can match the same key as
// far as S3's overlap rule is concerned: the prefixes overlap when one is a
// prefix of the other (an empty prefix is every key), the suffixes when one
// is a suffix of the other, and the filters overlap when both do ("Cannot
// have overlapping suffixes in two rules if the prefixes are overlapping").
func FiltersOverlap(a, b []FilterRule) bool {
	pa, sa := filterValues(a)
	pb, sb := filterValues(b)
	prefixes := strings.HasPrefix(pa, pb) || strings.HasPrefix(pb, pa)
	suffixes := strings.HasSuffix(sa, sb) || strings.HasSuffix(sb, sa)
	return prefixes && suffixes
}

// filterValues returns a filter's prefix and suffix; S3 spells the rule
// names "prefix"/"suffix" or "Prefix"/"Suffix" depending on the API.
func filterValues(rules []FilterRule) (prefix, suffix string) {
	for _, r := range rules {
		switch strings.ToLower(r.Name) {
		case "prefix":
			prefix = r.Value
		case "suffix":
			suffix = r.Value
		}
	}
	return prefix, suffix
}

// Foreign returns the entries the tool does not own (every Id but
// NotificationID), in order. A nil configuration has none.
func (n *Notifications) Foreign() []NotificationEntry {
	if n == nil {
		return nil
	}
	var out []NotificationEntry
	for _, e := range n.Entries {
		if e.ID != NotificationID {
			out = append(out, e)
		}
	}
	return out
}

// Own returns the tool's entry, the one whose Id is NotificationID.
func (n *Notifications) Own() (NotificationEntry, bool) {
	if n == nil {
		return NotificationEntry{}, false
	}
	for _, e := range n.Entries {
		if e.ID == NotificationID {
			return e, true
		}
	}
	return NotificationEntry{}, false
}
