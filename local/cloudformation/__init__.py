"""CloudFormation in the local AWS: the template's language (language.py), a creator per
resource type (resources.py), what an update may change in place and a deleter per type
(resource_changes.py), and the CloudFormation API over them for `make deploy` (stacks.py).
`make run` builds its stack with resources.create.
"""
