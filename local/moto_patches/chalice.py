"""`chalice local`'s patches (local/run/serve.py; also chalice.test.Client's gateway in the
stack tier), and why (local/moto_patches/)."""
from __future__ import annotations

from local.moto_patches.kinds import GAP, RUNTIME, Patch

_CHALICE = "chalice.local"
# `chalice local` (local/run/serve.py, also chalice.test.Client's gateway in the stack tier):
# where its API Gateway and its HTTP server differ from AWS, or break under load.
_HANDLE = ("a Content-Length that is not a number of bytes (or twice), a chunked body, or a "
           "body over API Gateway's 10 MiB quota crashes the handler (the client gets no "
           "answer); a method with no do_<METHOD> gets http.server's 501")
_HANDLE_FIX = ("refuse a bad Content-Length or chunked body with a 400/411 and a body over "
               "10 MiB with a 413, before reading it")
CHALICE_PATCHES = (
    Patch(f"{_CHALICE}.LocalGatewayAuthorizer._decode_jwt_payload", "local.run.serve",
          "a token that is not three base64 parts crashes the local gateway (empty reply)", GAP,
          "treat a malformed token as unauthorized (401), as API Gateway does"),
    Patch(f"{_CHALICE}.LocalGateway._generate_lambda_event", "local.run.serve",
          "an unknown path gets 403 'Missing Authentication Token' echoing the token, not the "
          "gateway response infra/gateway.py puts (404 NotFound)", GAP,
          "let an app set its gateway responses (MISSING_AUTHENTICATION_TOKEN) locally"),
    Patch(f"{_CHALICE}.ThreadedHTTPServer.request_queue_size", "local.run.serve",
          "the listen backlog is Python's 5: a burst of people connecting is reset", RUNTIME,
          "a larger listen backlog for chalice local's server"),
    *(Patch(f"{_CHALICE}.ChaliceRequestHandler.do_{method}", "local.run.serve", _HANDLE, GAP,
            _HANDLE_FIX) for method in ("GET", "PUT", "POST", "HEAD", "DELETE", "PATCH",
                                        "OPTIONS")),
    Patch(f"{_CHALICE}.ChaliceRequestHandler._generic_handle", "local.run.serve", _HANDLE, GAP,
          _HANDLE_FIX),
    Patch(f"{_CHALICE}.ChaliceRequestHandler._send_http_response_with_body", "local.run.serve",
          "a HEAD answer carries a body (it corrupts a keep-alive connection)", GAP,
          "send no body in a HEAD answer"),
    Patch(f"{_CHALICE}.ChaliceRequestHandler._send_headers", "local.run.serve",
          "answers the local server makes itself carry none of the app's security headers", GAP,
          "let an app set the headers of its gateway responses locally"),
    Patch(f"{_CHALICE}.ChaliceRequestHandler.send_error", "local.run.serve",
          "the server's own errors are http.server's HTML pages (501 for an unknown method), "
          "not JSON in the app's shape", GAP,
          "answer its own errors as API Gateway does: JSON, and a method a route lacks 405"),
    Patch(f"{_CHALICE}.ThreadedHTTPServer.handle_error", "local.run.serve",
          "a client that hangs up before its answer prints a BrokenPipeError traceback",
          RUNTIME, "log a client hanging up in one line"),
)
