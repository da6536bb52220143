package plan

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestFolding(t *testing.T) {
	var arns []string
	for i := range 300 {
		arns = append(arns, fmt.Sprintf(`"arn:aws:s3:::bucket-%03d/"`, i))
	}
	list := "[" + strings.Join(arns, ",") + "]"
	got := foldValue(list)
	if utf8.RuneCountInString(got) > maxValue || !strings.HasSuffix(got, " more]") || !strings.HasPrefix(got, `["arn:aws:s3:::bucket-000/"`) {
		t.Errorf("a 300-value list folds to %q", got)
	}
	long := strings.Repeat("x", 2*maxValue)
	if got := foldValue(long); !strings.HasSuffix(got, fmt.Sprintf("(%d characters)", 2*maxValue)) || utf8.RuneCountInString(got) > maxValue+20 {
		t.Errorf("a long value folds to %q", got)
	}
	if got := foldValue(`{"Sid":"S3BaselineDenyInsecureTransport"}`); got != `{"Sid":"S3BaselineDenyInsecureTransport"}` {
		t.Errorf("a short value was changed: %q", got)
	}
	for _, l := range wrap(strings.Repeat("word ", 100)+list, 80) {
		if utf8.RuneCountInString(l) > 80 {
			t.Errorf("wrapped line of %d characters: %q", utf8.RuneCountInString(l), l)
		}
	}
	if c := chunks(`{"a":"b","c":"d","e":"f"}`, 12); len(c) < 2 || !strings.HasSuffix(c[0], ",") || strings.Join(c, "") != `{"a":"b","c":"d","e":"f"}` {
		t.Errorf("chunks %q: want pieces cut after commas that join back to the value", c)
	}
}
