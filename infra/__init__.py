"""Infrastructure as code: the CloudFormation template and the tools around it."""
