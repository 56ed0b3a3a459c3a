"""Hand-written CDK constructs for shared infrastructure; needs aws-cdk-lib."""
