"""The baseline the bench's cold-start times are divided by: a bare Chalice app.

What any Chalice app pays for the same work, measured in the same run, interleaved with the
app, so a busy machine slows both alike and the ratio stays what the app controls:
- `import bench.bare_app` against `import app` (Chalice itself, nothing else);
- GET /: one page from a one-line Jinja template (Jinja is what a Chalice app renders pages
  with), against the app's first GET /;
- GET /parameter: boto3, an SSM client and the one GetParameter read, against the app's first
  greeting (which also checks the token: PyJWT, cryptography, the JWKS fetch).
Heavy imports inside the routes, as the app does.
"""
import os

from chalice import Chalice, Response

app = Chalice(app_name="bare")


@app.route("/")
def page():
    import jinja2

    html = jinja2.Environment(autoescape=True).from_string("<h1>{{ title }}</h1>").render(
        title="Bare")
    return Response(body=html, status_code=200,
                    headers={"Content-Type": "text/html; charset=utf-8"})


@app.route("/parameter")
def parameter():
    import boto3

    ssm = boto3.client("ssm", region_name=os.environ.get("AWS_REGION", "us-east-1"))
    value = ssm.get_parameter(Name=os.environ["BENCH_PARAMETER"])["Parameter"]["Value"]
    return {"value": value}
