"""Lambda code: stdlib, boto3, jmespath and chevron only; handlers wrap pure functions."""
