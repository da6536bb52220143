package aws

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/securityhub/types"
)

// maxImportBatch is the most findings one BatchImportFindings takes
// (AWS-doc API_BatchImportFindings: "up to 100 findings").
const maxImportBatch = 100

func (p *Provider) securityHub(region string) *securityhub.Client {
	return cached(p, p.hubClients, region, func() *securityhub.Client {
		return securityhub.NewFromConfig(p.cfg, func(o *securityhub.Options) { o.Region, o.BaseEndpoint = region, p.baseEndpoint(o.BaseEndpoint) })
	})
}

// ImportFindings sends ASFF findings (JSON documents, as the evidence
// package writes them) to Security Hub in region, in batches of 100. It
// returns how many were imported and, for each one Security Hub refused,
// its id and reason; a refused finding does not stop the others.
func (p *Provider) ImportFindings(ctx context.Context, region string, docs [][]byte) (imported int, failed []string, err error) {
	findings := make([]types.AwsSecurityFinding, len(docs))
	for i, d := range docs {
		if err := json.Unmarshal(d, &findings[i]); err != nil {
			return 0, nil, fmt.Errorf("import findings: finding %d is not ASFF: %w", i+1, err)
		}
	}
	client := p.securityHub(region)
	for start := 0; start < len(findings); start += maxImportBatch {
		batch := findings[start:min(start+maxImportBatch, len(findings))]
		var out *securityhub.BatchImportFindingsOutput
		err := p.run(ctx, "batch import findings", func(ctx context.Context) error {
			var err error
			out, err = client.BatchImportFindings(ctx, &securityhub.BatchImportFindingsInput{Findings: batch})
			return err
		})
		if err != nil {
			return imported, failed, err
		}
		imported += int(aws.ToInt32(out.SuccessCount))
		for _, f := range out.FailedFindings {
			failed = append(failed, fmt.Sprintf("%s: %s: %s", aws.ToString(f.Id), aws.ToString(f.ErrorCode), aws.ToString(f.ErrorMessage)))
		}
	}
	return imported, failed, nil
}
