# The member part of the organization-wide variant, as
# deploy/eventdriven/template-member.yaml: forward the handled calls from
# this account's default bus to the central bus.

data "aws_caller_identity" "current" {}

resource "aws_iam_role" "forward" {
  name_prefix = "${var.name}-"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "forward" {
  name = "s3baseline-forward"
  role = aws_iam_role.forward.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "PutCentralBus"
      Effect   = "Allow"
      Action   = ["events:PutEvents"]
      Resource = var.central_event_bus_arn
    }]
  })
}

resource "aws_cloudwatch_event_rule" "forward" {
  name          = var.name
  description   = "CloudTrail-recorded calls that can weaken the s3baseline baseline, to the central bus"
  event_pattern = file("${path.module}/../event-pattern.json")
  tags          = var.tags
}

resource "aws_cloudwatch_event_target" "forward" {
  rule      = aws_cloudwatch_event_rule.forward.name
  target_id = "s3baseline-central"
  arn       = var.central_event_bus_arn
  role_arn  = aws_iam_role.forward.arn
}
