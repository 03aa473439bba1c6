"""The local AWS's API Gateway: the REST API import of `chalice deploy`'s Swagger 2.0
(rest_api_import.py)."""
