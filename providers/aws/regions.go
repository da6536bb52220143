package aws

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/aws/aws-sdk-go-v2/service/account"
	"github.com/aws/aws-sdk-go-v2/service/account/types"
)

// ErrRegionsUnreadable: the account's Regions could not be listed because
// the call was refused (AccessDeniedException: no account:ListRegions, or
// an SCP). A caller can fall back to checking region names by their syntax.
var ErrRegionsUnreadable = errors.New("account regions unreadable")

const codeAccessDeniedException = "AccessDeniedException"

// EnabledRegions lists the Regions the account can use, sorted: those
// ENABLED_BY_DEFAULT (launched before 20 March 2019) and the opt-in Regions
// it ENABLED (AWS-doc API_ListRegions; "Enable or disable AWS Regions in
// your account"). Regions still ENABLING are left out: they cannot be used
// until enabled.
func (p *Provider) EnabledRegions(ctx context.Context) ([]string, error) {
	const op = "list enabled regions"
	pages := account.NewListRegionsPaginator(p.accountManagement(), &account.ListRegionsInput{
		RegionOptStatusContains: []types.RegionOptStatus{types.RegionOptStatusEnabled, types.RegionOptStatusEnabledByDefault},
	})
	var regions []string
	for pages.HasMorePages() {
		cctx, cancel := p.call(ctx)
		page, err := pages.NextPage(cctx)
		cancel()
		if hasCode(err, codeAccessDeniedException) || (err != nil && responseStatus(err) == http.StatusForbidden) {
			return nil, wrap(op, classify(err, ErrRegionsUnreadable))
		}
		if err != nil {
			return nil, wrap(op, err)
		}
		for _, r := range page.Regions {
			// Filtered again here: the answer must not widen what was
			// asked for.
			if r.RegionName != nil && *r.RegionName != "" &&
				(r.RegionOptStatus == types.RegionOptStatusEnabled || r.RegionOptStatus == types.RegionOptStatusEnabledByDefault) {
				regions = append(regions, *r.RegionName)
			}
		}
	}
	slices.Sort(regions)
	return slices.Compact(regions), nil
}
