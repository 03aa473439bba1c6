"""Local-only machinery for `make run` and the tests: the embedded local AWS
(moto in server mode), the resources from infra/template.yaml, the console
outbox, and `chalice local`. None of it ships to Lambda.
"""
