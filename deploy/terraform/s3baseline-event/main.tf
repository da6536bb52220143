# s3baseline event-driven drift correction: the same resources as
# deploy/eventdriven/template.yaml (and, with var.org, template-org.yaml).
# deploy/eventdriven_test.go holds this module to the code.

data "aws_partition" "current" {}

data "aws_caller_identity" "current" {}

locals {
  partition = data.aws_partition.current.partition

  # Exactly event/calls.go HandledCalls; the test compares the file with it.
  event_pattern = file("${path.module}/event-pattern.json")

  # Exactly deploy/iam/apply-policy.json, with the evidence bucket for
  # JOURNAL_BUCKET, the member role for S3BaselineRole and this partition.
  apply_policy = replace(replace(replace(
    file("${path.module}/../../iam/apply-policy.json"),
    "JOURNAL_BUCKET", var.evidence_bucket),
    ":role/S3BaselineRole\"", ":role/${var.member_role_name}\""),
  "\"arn:aws:", "\"arn:${local.partition}:")

  bus_name = var.org ? aws_cloudwatch_event_bus.org[0].name : "default"

  environment = merge(
    {
      S3BASELINE_CONFIG      = "s3://${var.config_s3_bucket}/${var.config_s3_key}"
      S3BASELINE_MODE        = var.mode
      S3BASELINE_JOURNAL     = "s3://${var.evidence_bucket}/s3baseline/journals/event"
      S3BASELINE_REPORT      = "s3://${var.evidence_bucket}/s3baseline/reports/event"
      S3BASELINE_LOCK        = "s3://${var.evidence_bucket}/s3baseline/"
      S3BASELINE_DEAD_LETTER = "s3://${var.evidence_bucket}/s3baseline/dead-letter/"
    },
    var.org ? { S3BASELINE_ROLE_NAME = var.member_role_name } : {},
  )
}

resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${var.function_name}"
  retention_in_days = var.log_retention_in_days
  tags              = var.tags
}

# Events the rule could not deliver (target dead_letter_config) and
# invocations that failed after their retries (event invoke config
# on_failure) both land here: one queue to alarm on.
resource "aws_sqs_queue" "dead_letter" {
  name_prefix               = "${var.function_name}-dlq-"
  sqs_managed_sse_enabled   = true
  message_retention_seconds = 1209600 # 14 days, the maximum
  tags                      = var.tags
}

resource "aws_sqs_queue_policy" "dead_letter" {
  queue_url = aws_sqs_queue.dead_letter.id
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "RuleDeadLetters"
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sqs:SendMessage"
      Resource  = aws_sqs_queue.dead_letter.arn
      Condition = { ArnEquals = { "aws:SourceArn" = aws_cloudwatch_event_rule.this.arn } }
    }]
  })
}

resource "aws_iam_role" "function" {
  name = var.function_role_name
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "lambda.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = data.aws_caller_identity.current.account_id } }
    }]
  })
  tags = var.tags
}

resource "aws_iam_role_policy" "apply" {
  name   = "s3baseline-apply"
  role   = aws_iam_role.function.id
  policy = local.apply_policy
}

# What running in Lambda takes on top: the config, the logs, the
# dead-letter queue (on_failure sends with the function's role).
resource "aws_iam_role_policy" "lambda" {
  name = "s3baseline-lambda"
  role = aws_iam_role.function.id
  policy = templatefile("${path.module}/lambda-policy.json.tftpl", {
    config_object_arn     = "arn:${local.partition}:s3:::${var.config_s3_bucket}/${var.config_s3_key}"
    log_group_arn         = aws_cloudwatch_log_group.this.arn
    dead_letter_queue_arn = aws_sqs_queue.dead_letter.arn
  })
}

resource "aws_lambda_function" "this" {
  function_name                  = var.function_name
  description                    = "s3baseline, event-driven (the binary detects Lambda by AWS_LAMBDA_RUNTIME_API)"
  runtime                        = "provided.al2023"
  handler                        = "bootstrap"
  architectures                  = ["arm64"]
  s3_bucket                      = var.code_s3_bucket
  s3_key                         = var.code_s3_key
  role                           = aws_iam_role.function.arn
  timeout                        = 300
  memory_size                    = 256
  reserved_concurrent_executions = var.reserved_concurrency

  logging_config {
    log_format = "Text"
    log_group  = aws_cloudwatch_log_group.this.name
  }

  environment {
    variables = local.environment
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.apply, aws_iam_role_policy.lambda]
}

resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = aws_lambda_function.this.function_name
  qualifier                    = "$LATEST"
  maximum_retry_attempts       = 2
  maximum_event_age_in_seconds = 21600

  destination_config {
    on_failure {
      destination = aws_sqs_queue.dead_letter.arn
    }
  }
}

resource "aws_cloudwatch_event_bus" "org" {
  count = var.org ? 1 : 0
  name  = var.event_bus_name
  tags  = var.tags
}

# Any principal of the organization may put events on the bus: the
# members' forwarding rules (member/) put with their role.
resource "aws_cloudwatch_event_bus_policy" "org" {
  count          = var.org ? 1 : 0
  event_bus_name = aws_cloudwatch_event_bus.org[0].name
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "OrganizationPutEvents"
      Effect    = "Allow"
      Principal = "*"
      Action    = "events:PutEvents"
      Resource  = aws_cloudwatch_event_bus.org[0].arn
      Condition = { StringEquals = { "aws:PrincipalOrgID" = var.organization_id } }
    }]
  })

  lifecycle {
    precondition {
      condition     = var.organization_id != null
      error_message = "org needs organization_id."
    }
  }
}

resource "aws_cloudwatch_event_rule" "this" {
  name           = var.function_name
  description    = "CloudTrail-recorded calls that can weaken the s3baseline baseline (event/calls.go HandledCalls)"
  event_bus_name = local.bus_name
  event_pattern  = local.event_pattern
  tags           = var.tags
}

resource "aws_cloudwatch_event_target" "this" {
  rule           = aws_cloudwatch_event_rule.this.name
  event_bus_name = local.bus_name
  target_id      = "s3baseline"
  arn            = aws_lambda_function.this.arn

  retry_policy {
    maximum_retry_attempts       = 8
    maximum_event_age_in_seconds = 3600
  }

  dead_letter_config {
    arn = aws_sqs_queue.dead_letter.arn
  }
}

resource "aws_lambda_permission" "events" {
  statement_id   = "AllowEventBridge"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this.function_name
  principal      = "events.amazonaws.com"
  source_account = data.aws_caller_identity.current.account_id
  source_arn     = aws_cloudwatch_event_rule.this.arn
}
