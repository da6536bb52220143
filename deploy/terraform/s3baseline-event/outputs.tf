output "function_arn" {
  value = aws_lambda_function.this.arn
}

output "function_role_arn" {
  value = aws_iam_role.function.arn
}

output "rule_arn" {
  value = aws_cloudwatch_event_rule.this.arn
}

output "dead_letter_queue_url" {
  description = "Alarm on ApproximateNumberOfMessagesVisible > 0 of this queue."
  value       = aws_sqs_queue.dead_letter.url
}

output "dead_letter_queue_arn" {
  value = aws_sqs_queue.dead_letter.arn
}

output "event_bus_arn" {
  description = "With org: the central bus, the central_event_bus_arn of the member/ sub-module."
  value       = var.org ? aws_cloudwatch_event_bus.org[0].arn : null
}
