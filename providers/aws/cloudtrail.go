package aws

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/s3baseline/s3baseline/settings"
)

// CloudTrail trails (aws-semantics §7). A trail is read and written
// through its home region's endpoint: a multi-region trail shows in every
// region as a shadow copy that cannot be changed there. CreateTrail does
// not start logging; event selectors replace the whole set on every Put
// (basic or advanced, never both); Insights need write management events
// to be logged, so selectors are written before insights.

// CloudTrail error codes.
const (
	codeTrailNotFound     = "TrailNotFoundException"
	codeInsightNotEnabled = "InsightNotEnabledException"
)

// readWriteTypeAll is a basic selector's ReadWriteType when none is given.
const readWriteTypeAll = string(types.ReadWriteTypeAll)

// Trails lists the trails that DescribeTrails shows in the global region,
// shadow copies of other regions' multi-region trails and organization
// trails included, each once (by ARN) and read in full through its home
// region: status, event selectors and insights. Sorted by ARN.
func (p *Provider) Trails(ctx context.Context) ([]settings.Trail, error) {
	cctx, cancel := p.call(ctx)
	out, err := p.cloudTrail(p.region).DescribeTrails(cctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(true)})
	cancel()
	if err != nil {
		return nil, wrap("describe trails in "+p.region, err)
	}
	seen := map[string]bool{}
	var trails []settings.Trail
	for _, t := range out.TrailList {
		arn := aws.ToString(t.TrailARN)
		if seen[arn] {
			continue
		}
		seen[arn] = true
		tr, err := p.readTrail(ctx, p.region, t)
		if err != nil {
			return nil, err
		}
		trails = append(trails, tr)
	}
	slices.SortFunc(trails, func(a, b settings.Trail) int { return strings.Compare(a.ARN, b.ARN) })
	return trails, nil
}

// Trail reads the trail name (a name or an ARN) through region, which
// should be its home region; nil when CloudTrail does not know it there.
func (p *Provider) Trail(ctx context.Context, region, name string) (*settings.Trail, error) {
	t, err := p.findTrail(ctx, region, name)
	if err != nil || t == nil {
		return nil, err
	}
	tr, err := p.readTrail(ctx, region, *t)
	if err != nil {
		return nil, err
	}
	return &tr, nil
}

// findTrail is GetTrail in region; nil when the trail does not exist.
func (p *Provider) findTrail(ctx context.Context, region, name string) (*types.Trail, error) {
	cctx, cancel := p.call(ctx)
	defer cancel()
	out, err := p.cloudTrail(region).GetTrail(cctx, &cloudtrail.GetTrailInput{Name: aws.String(name)})
	if hasCode(err, codeTrailNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, wrap("get trail "+name+" in "+region, err)
	}
	if out.Trail == nil {
		return nil, nil
	}
	return out.Trail, nil
}

// readTrail completes a trail described in region with its status,
// selectors and insights, asked of its home region by ARN (a shadow or an
// organization trail answers only to its ARN).
func (p *Provider) readTrail(ctx context.Context, region string, t types.Trail) (settings.Trail, error) {
	tr := settings.Trail{
		Name:                aws.ToString(t.Name),
		ARN:                 aws.ToString(t.TrailARN),
		HomeRegion:          aws.ToString(t.HomeRegion),
		S3BucketName:        aws.ToString(t.S3BucketName),
		S3KeyPrefix:         aws.ToString(t.S3KeyPrefix),
		KMSKeyID:            aws.ToString(t.KmsKeyId),
		MultiRegion:         aws.ToBool(t.IsMultiRegionTrail),
		LogFileValidation:   aws.ToBool(t.LogFileValidationEnabled),
		IncludeGlobalEvents: aws.ToBool(t.IncludeGlobalServiceEvents),
		Organization:        aws.ToBool(t.IsOrganizationTrail),
	}
	if tr.HomeRegion == "" {
		tr.HomeRegion = region
	}
	id := tr.ARN
	if id == "" {
		id = tr.Name
	}
	client := p.cloudTrail(tr.HomeRegion)

	cctx, cancel := p.call(ctx)
	status, err := client.GetTrailStatus(cctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(id)})
	cancel()
	if err != nil {
		return settings.Trail{}, wrap("get trail status "+id, err)
	}
	tr.IsLogging = aws.ToBool(status.IsLogging)
	tr.LatestDeliveryError = aws.ToString(status.LatestDeliveryError)

	cctx, cancel = p.call(ctx)
	sel, err := client.GetEventSelectors(cctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String(id)})
	cancel()
	if err != nil {
		return settings.Trail{}, wrap("get event selectors "+id, err)
	}
	tr.EventSelectors = fromEventSelectors(sel.EventSelectors)
	tr.AdvancedEventSelectors = fromAdvancedSelectors(sel.AdvancedEventSelectors)

	cctx, cancel = p.call(ctx)
	ins, err := client.GetInsightSelectors(cctx, &cloudtrail.GetInsightSelectorsInput{TrailName: aws.String(id)})
	cancel()
	switch {
	case hasCode(err, codeInsightNotEnabled):
	case err != nil:
		return settings.Trail{}, wrap("get insight selectors "+id, err)
	default:
		for _, s := range ins.InsightSelectors {
			tr.Insights = append(tr.Insights, string(s.InsightType))
		}
	}
	return tr, nil
}

// PutTrail makes the trail want.Name in want.HomeRegion ("" is the global
// region) what want says, and reads it back. It is idempotent: it creates
// the trail when it is absent, updates its configuration only when a field
// differs, and writes selectors, insights and logging only when they
// differ, so a second call with the same want makes no write.
//
//   - Configuration: S3BucketName, S3KeyPrefix, KMSKeyID, MultiRegion,
//     LogFileValidation, IncludeGlobalEvents. KMSKeyID may be a key ARN, a
//     key id or an alias; it is compared as the key ARN CloudTrail
//     reports. An organization trail is never made.
//   - Event selectors: exactly want's, advanced when
//     AdvancedEventSelectors is set, else basic; left alone when want has
//     neither.
//   - Insights: exactly want.Insights; empty turns Insights off.
//   - Logging: started or stopped to match want.IsLogging.
//
// Selectors are written before insights: ApiCallRateInsight is refused
// unless the trail logs write management events.
func (p *Provider) PutTrail(ctx context.Context, want settings.Trail) error {
	region := want.HomeRegion
	if region == "" {
		region = p.region
	}
	op := "put trail " + want.Name + " in " + region
	if want.Name == "" {
		return fmt.Errorf("%s: the trail needs a name", op)
	}
	if want.Organization {
		return fmt.Errorf("%s: organization trails are not made or changed by this tool", op)
	}
	if len(want.EventSelectors) > 0 && len(want.AdvancedEventSelectors) > 0 {
		return fmt.Errorf("%s: a trail has either basic or advanced event selectors, not both", op)
	}
	wantKey, err := p.trailKeyARN(ctx, region, want.KMSKeyID)
	if err != nil {
		return err
	}
	client := p.cloudTrail(region)

	cur, err := p.Trail(ctx, region, want.Name)
	if err != nil {
		return err
	}
	if cur != nil && cur.HomeRegion != region {
		return fmt.Errorf("%s: the trail's home region is %s", op, cur.HomeRegion)
	}

	id := want.Name
	if cur == nil {
		err = p.run(ctx, "create trail "+want.Name+" in "+region, func(ctx context.Context) error {
			out, err := client.CreateTrail(ctx, &cloudtrail.CreateTrailInput{
				Name:                       aws.String(want.Name),
				S3BucketName:               aws.String(want.S3BucketName),
				S3KeyPrefix:                optString(want.S3KeyPrefix),
				KmsKeyId:                   optString(wantKey),
				IsMultiRegionTrail:         aws.Bool(want.MultiRegion),
				EnableLogFileValidation:    aws.Bool(want.LogFileValidation),
				IncludeGlobalServiceEvents: aws.Bool(want.IncludeGlobalEvents),
			})
			if err == nil && aws.ToString(out.TrailARN) != "" {
				id = aws.ToString(out.TrailARN)
			}
			return err
		})
		if err != nil {
			return err
		}
		// A new trail has no insights and does not log. Its selectors
		// are CloudTrail's default (all management events); they are
		// taken as unknown, so wanted selectors are always written.
		cur = &settings.Trail{}
	} else {
		id = cur.ARN
		if !sameTrailConfig(want, wantKey, *cur) {
			err = p.run(ctx, "update trail "+id, func(ctx context.Context) error {
				_, err := client.UpdateTrail(ctx, &cloudtrail.UpdateTrailInput{
					Name:                       aws.String(id),
					S3BucketName:               aws.String(want.S3BucketName),
					S3KeyPrefix:                clearableString(want.S3KeyPrefix, cur.S3KeyPrefix),
					KmsKeyId:                   clearableString(wantKey, cur.KMSKeyID),
					IsMultiRegionTrail:         aws.Bool(want.MultiRegion),
					EnableLogFileValidation:    aws.Bool(want.LogFileValidation),
					IncludeGlobalServiceEvents: aws.Bool(want.IncludeGlobalEvents),
				})
				return err
			})
			if err != nil {
				return err
			}
		}
	}

	if !sameSelectors(want, *cur) {
		err = p.run(ctx, "put event selectors "+id, func(ctx context.Context) error {
			in := &cloudtrail.PutEventSelectorsInput{TrailName: aws.String(id)}
			if len(want.AdvancedEventSelectors) > 0 {
				in.AdvancedEventSelectors = toAdvancedSelectors(want.AdvancedEventSelectors)
			} else {
				in.EventSelectors = toEventSelectors(want.EventSelectors)
			}
			_, err := client.PutEventSelectors(ctx, in)
			return err
		})
		if err != nil {
			return err
		}
	}

	if !sameSet(want.Insights, cur.Insights) {
		err = p.run(ctx, "put insight selectors "+id, func(ctx context.Context) error {
			// An empty, non-nil list turns Insights off; nil is refused.
			sel := make([]types.InsightSelector, 0, len(want.Insights))
			for _, t := range want.Insights {
				sel = append(sel, types.InsightSelector{InsightType: types.InsightType(t)})
			}
			_, err := client.PutInsightSelectors(ctx, &cloudtrail.PutInsightSelectorsInput{TrailName: aws.String(id), InsightSelectors: sel})
			return err
		})
		if err != nil {
			return err
		}
	}

	if want.IsLogging != cur.IsLogging {
		if want.IsLogging {
			err = p.run(ctx, "start logging "+id, func(ctx context.Context) error {
				_, err := client.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(id)})
				return err
			})
		} else {
			err = p.run(ctx, "stop logging "+id, func(ctx context.Context) error {
				_, err := client.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String(id)})
				return err
			})
		}
		if err != nil {
			return err
		}
	}

	mismatch, err := p.settle(ctx, func(ctx context.Context) (string, error) {
		got, err := p.Trail(ctx, region, id)
		if err != nil {
			return "", err
		}
		return trailMismatch(want, wantKey, got), nil
	})
	if err != nil {
		return wrap("verify trail "+id, err)
	}
	if mismatch != "" {
		return fmt.Errorf("verify trail %s: %s", id, mismatch)
	}
	return nil
}

// DeleteTrail deletes the trail name (a name or an ARN) through its home
// region, for the rollback of a trail the tool made. A trail that does not
// exist is already deleted.
func (p *Provider) DeleteTrail(ctx context.Context, region, name string) error {
	client := p.cloudTrail(region)
	err := p.run(ctx, "delete trail "+name+" in "+region, func(ctx context.Context) error {
		_, err := client.DeleteTrail(ctx, &cloudtrail.DeleteTrailInput{Name: aws.String(name)})
		if hasCode(err, codeTrailNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return err
	}
	mismatch, err := p.settle(ctx, func(ctx context.Context) (string, error) {
		t, err := p.findTrail(ctx, region, name)
		if err != nil || t == nil {
			return "", err
		}
		return "the trail still exists", nil
	})
	if err != nil {
		return wrap("verify trail "+name+" deleted", err)
	}
	if mismatch != "" {
		return fmt.Errorf("verify trail %s deleted: %s", name, mismatch)
	}
	return nil
}

// trailKeyARN is the ARN of the KMS key ref names in region, which is how
// CloudTrail reports a trail's key; "" stays "" (SSE-S3). A ref that is
// already a key ARN is taken as it is, and a key KMS does not know is left
// for CreateTrail or UpdateTrail to refuse.
func (p *Provider) trailKeyARN(ctx context.Context, region, ref string) (string, error) {
	if ref == "" || isKeyARN(ref) {
		return ref, nil
	}
	info, err := p.DescribeKey(ctx, region, ref)
	if err != nil {
		return "", err
	}
	if !info.Exists || info.ARN == "" {
		return ref, nil
	}
	return info.ARN, nil
}

// isKeyARN reports whether ref is arn:PARTITION:kms:REGION:ACCOUNT:key/ID.
func isKeyARN(ref string) bool {
	parts := strings.SplitN(ref, ":", 6)
	return len(parts) == 6 && parts[0] == "arn" && parts[2] == "kms" && strings.HasPrefix(parts[5], "key/")
}

// optString is nil for "", so an optional field is left out.
func optString(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}

// clearableString is an UpdateTrail field: left out when it is and stays
// empty, "" to clear a value the trail has, else the wanted value.
func clearableString(want, cur string) *string {
	if want == "" && cur == "" {
		return nil
	}
	return aws.String(want)
}

// sameTrailConfig reports whether the trail's configuration (the fields
// CreateTrail and UpdateTrail set) is already what want says.
func sameTrailConfig(want settings.Trail, wantKey string, cur settings.Trail) bool {
	return want.S3BucketName == cur.S3BucketName &&
		want.S3KeyPrefix == cur.S3KeyPrefix &&
		wantKey == cur.KMSKeyID &&
		want.MultiRegion == cur.MultiRegion &&
		want.LogFileValidation == cur.LogFileValidation &&
		want.IncludeGlobalEvents == cur.IncludeGlobalEvents
}

// sameSelectors reports whether the trail already has want's selectors, or
// want names none (they are then left alone). The forms must match too: a
// trail with basic selectors does not have want's advanced ones however
// alike they are.
func sameSelectors(want, cur settings.Trail) bool {
	switch {
	case len(want.AdvancedEventSelectors) > 0:
		return len(cur.EventSelectors) == 0 &&
			canonical(canonicalAdvanced(want.AdvancedEventSelectors)) == canonical(canonicalAdvanced(cur.AdvancedEventSelectors))
	case len(want.EventSelectors) > 0:
		return len(cur.AdvancedEventSelectors) == 0 &&
			canonical(canonicalBasic(want.EventSelectors)) == canonical(canonicalBasic(cur.EventSelectors))
	}
	return true
}

// trailMismatch describes how got differs from what PutTrail wrote, ""
// when it does not.
func trailMismatch(want settings.Trail, wantKey string, got *settings.Trail) string {
	if got == nil {
		return "not found"
	}
	var diffs []string
	field := func(name string, w, g any) {
		if w != g {
			diffs = append(diffs, fmt.Sprintf("%s: wrote %v, read %v", name, describe(w), describe(g)))
		}
	}
	field("s3 bucket", want.S3BucketName, got.S3BucketName)
	field("s3 key prefix", want.S3KeyPrefix, got.S3KeyPrefix)
	field("kms key", wantKey, got.KMSKeyID)
	field("multi-region", want.MultiRegion, got.MultiRegion)
	field("log file validation", want.LogFileValidation, got.LogFileValidation)
	field("global service events", want.IncludeGlobalEvents, got.IncludeGlobalEvents)
	if !sameSelectors(want, *got) {
		if len(want.AdvancedEventSelectors) > 0 {
			diffs = append(diffs, fmt.Sprintf("advanced event selectors: wrote %s, read %s", describe(want.AdvancedEventSelectors), describe(got.AdvancedEventSelectors)))
		} else {
			diffs = append(diffs, fmt.Sprintf("event selectors: wrote %s, read %s", describe(want.EventSelectors), describe(got.EventSelectors)))
		}
	}
	if !sameSet(want.Insights, got.Insights) {
		diffs = append(diffs, fmt.Sprintf("insights: wrote %s, read %s", describe(want.Insights), describe(got.Insights)))
	}
	field("logging", want.IsLogging, got.IsLogging)
	return strings.Join(diffs, "; ")
}

// sameSet compares two string lists as sets.
func sameSet(a, b []string) bool {
	return slices.Equal(sortedUnique(a), sortedUnique(b))
}

// sortedUnique is a sorted copy of list without repeats; nil for none.
func sortedUnique(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	out := slices.Clone(list)
	slices.Sort(out)
	return slices.Compact(out)
}

// canonical renders selectors for comparison.
func canonical(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%#v", v)
	}
	return string(b)
}

// canonicalBasic is basic selectors in a form that compares equal when
// CloudTrail means the same: ReadWriteType defaults to All; data resource
// values, excluded sources and the selectors themselves are unordered.
func canonicalBasic(in []settings.EventSelector) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		s.ReadWriteType = cmp.Or(s.ReadWriteType, readWriteTypeAll)
		res := make([]string, 0, len(s.DataResources))
		for _, d := range s.DataResources {
			res = append(res, canonical(settings.DataResource{Type: d.Type, Values: sortedUnique(d.Values)}))
		}
		slices.Sort(res)
		out = append(out, canonical(struct {
			RW        string
			Mgmt      bool
			Resources []string
			Exclude   []string
		}{s.ReadWriteType, s.IncludeManagementEvents, res, sortedUnique(s.ExcludeManagementEventSources)}))
	}
	slices.Sort(out)
	return out
}

// canonicalAdvanced is advanced selectors in a form that compares equal
// when CloudTrail means the same: field selectors of one selector (ANDed)
// and their values are unordered, and so are the selectors (ORed).
func canonicalAdvanced(in []settings.AdvancedEventSelector) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		fields := make([]string, 0, len(s.FieldSelectors))
		for _, f := range s.FieldSelectors {
			fields = append(fields, canonical(settings.FieldSelector{
				Field:         f.Field,
				Equals:        sortedUnique(f.Equals),
				StartsWith:    sortedUnique(f.StartsWith),
				EndsWith:      sortedUnique(f.EndsWith),
				NotEquals:     sortedUnique(f.NotEquals),
				NotStartsWith: sortedUnique(f.NotStartsWith),
				NotEndsWith:   sortedUnique(f.NotEndsWith),
			}))
		}
		slices.Sort(fields)
		out = append(out, canonical(struct {
			Name   string
			Fields []string
		}{s.Name, fields}))
	}
	slices.Sort(out)
	return out
}

// fromEventSelectors maps CloudTrail's basic selectors field by field.
func fromEventSelectors(in []types.EventSelector) []settings.EventSelector {
	if len(in) == 0 {
		return nil
	}
	out := make([]settings.EventSelector, 0, len(in))
	for _, s := range in {
		es := settings.EventSelector{
			ReadWriteType: string(s.ReadWriteType),
			// CloudTrail's default when the field is left out is true.
			IncludeManagementEvents:       s.IncludeManagementEvents == nil || *s.IncludeManagementEvents,
			ExcludeManagementEventSources: nonEmpty(s.ExcludeManagementEventSources),
		}
		for _, d := range s.DataResources {
			es.DataResources = append(es.DataResources, settings.DataResource{Type: aws.ToString(d.Type), Values: nonEmpty(d.Values)})
		}
		out = append(out, es)
	}
	return out
}

// toEventSelectors maps basic selectors to CloudTrail's, every field set.
func toEventSelectors(in []settings.EventSelector) []types.EventSelector {
	out := make([]types.EventSelector, 0, len(in))
	for _, s := range in {
		es := types.EventSelector{
			ReadWriteType:                 types.ReadWriteType(cmp.Or(s.ReadWriteType, readWriteTypeAll)),
			IncludeManagementEvents:       aws.Bool(s.IncludeManagementEvents),
			ExcludeManagementEventSources: s.ExcludeManagementEventSources,
		}
		for _, d := range s.DataResources {
			es.DataResources = append(es.DataResources, types.DataResource{Type: aws.String(d.Type), Values: d.Values})
		}
		out = append(out, es)
	}
	return out
}

// fromAdvancedSelectors maps CloudTrail's advanced selectors, every
// operator of every field selector.
func fromAdvancedSelectors(in []types.AdvancedEventSelector) []settings.AdvancedEventSelector {
	if len(in) == 0 {
		return nil
	}
	out := make([]settings.AdvancedEventSelector, 0, len(in))
	for _, s := range in {
		as := settings.AdvancedEventSelector{Name: aws.ToString(s.Name)}
		for _, f := range s.FieldSelectors {
			as.FieldSelectors = append(as.FieldSelectors, settings.FieldSelector{
				Field:         aws.ToString(f.Field),
				Equals:        nonEmpty(f.Equals),
				StartsWith:    nonEmpty(f.StartsWith),
				EndsWith:      nonEmpty(f.EndsWith),
				NotEquals:     nonEmpty(f.NotEquals),
				NotStartsWith: nonEmpty(f.NotStartsWith),
				NotEndsWith:   nonEmpty(f.NotEndsWith),
			})
		}
		out = append(out, as)
	}
	return out
}

// toAdvancedSelectors maps advanced selectors to CloudTrail's.
func toAdvancedSelectors(in []settings.AdvancedEventSelector) []types.AdvancedEventSelector {
	out := make([]types.AdvancedEventSelector, 0, len(in))
	for _, s := range in {
		as := types.AdvancedEventSelector{Name: optString(s.Name)}
		for _, f := range s.FieldSelectors {
			as.FieldSelectors = append(as.FieldSelectors, types.AdvancedFieldSelector{
				Field:         aws.String(f.Field),
				Equals:        f.Equals,
				StartsWith:    f.StartsWith,
				EndsWith:      f.EndsWith,
				NotEquals:     f.NotEquals,
				NotStartsWith: f.NotStartsWith,
				NotEndsWith:   f.NotEndsWith,
			})
		}
		out = append(out, as)
	}
	return out
}

// nonEmpty is nil for an empty list, so read and wanted settings compare
// alike however the answer spelled "none".
func nonEmpty(list []string) []string {
	if len(list) == 0 {
		return nil
	}
	return list
}
