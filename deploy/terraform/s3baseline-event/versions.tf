terraform {
  required_version = ">= 1.5.0"

  required_providers {
    aws = {
      source = "hashicorp/aws"
      # logging_config on aws_lambda_function needs 5.26 or later.
      version = ">= 5.26.0"
    }
  }
}
