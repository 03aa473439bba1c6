"""What `chalice deploy` would upload, proven offline: `chalice package --stage dev`.

One package per session (the module-scoped `package` fixture): a copy of the
project whose dev stage is configured the way `make deploy` configures it, from
fake stack outputs. Chalice fetches the Linux wheels of requirements.txt from
PyPI; if it cannot, the fixture fails (it never skips).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest

from infra import chalice_cli, policy, stage
from tests.helpers import REGION, ROOT, fake_outputs




def _copy_project(target: Path) -> None:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("app.py", "requirements.txt"):
        shutil.copy2(ROOT / name, target / name)
    for name in ("chalicelib", "templates", "vendor"):
        # symlinks=True: vendor/templates stays the link Chalice follows.
        shutil.copytree(ROOT / name, target / name, symlinks=True, ignore=ignore)
    (target / ".chalice").mkdir()
    shutil.copy2(ROOT / ".chalice" / "config.json", target / ".chalice" / "config.json")


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`chalice package --stage dev` of a copy of the project, once for this module."""
    project = tmp_path_factory.mktemp("project")
    _copy_project(project)
    env_vars = stage.configure_stage(project, "dev", fake_outputs())
    out = project / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(AWS_DEFAULT_REGION=REGION, AWS_ACCESS_KEY_ID="offline", AWS_SECRET_ACCESS_KEY="offline")
    result = subprocess.run([*chalice_cli.chalice_command(), "package", "--stage", "dev", str(out)],
                            cwd=project, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"chalice package failed:\n{result.stdout}\n{result.stderr}"
    unpacked = tmp_path_factory.mktemp("unpacked")
    with zipfile.ZipFile(out / "deployment.zip") as archive:
        names = set(archive.namelist())
        archive.extractall(unpacked)
    return {"project": project, "out": out, "names": names, "unpacked": unpacked,
            "sam": json.loads((out / "sam.json").read_text()), "env": env_vars}


def test_cfn_lint_passes_on_the_packaged_sam_template(package):
    from cfnlint.api import ManualArgs, lint_file

    matches = lint_file(package["out"] / "sam.json", config=ManualArgs(regions=[REGION]))
    assert [str(m) for m in matches] == []


def test_the_zip_holds_the_app_all_of_chalicelib_and_the_templates(package):
    names = package["names"]
    assert "app.py" in names
    chalicelib = {f"chalicelib/{p.name}" for p in (ROOT / "chalicelib").glob("*.py")}
    assert chalicelib and chalicelib <= names
    templates = {f"templates/{p.name}" for p in (ROOT / "templates").iterdir() if p.is_file()}
    assert "templates/greeting.html" in templates and templates <= names


def test_the_zip_holds_the_runtime_dependencies_but_no_dev_tools(package):
    tops = {name.split("/", 1)[0] for name in package["names"]}
    assert {"jinja2", "markupsafe", "jwt", "cryptography"} <= tops
    assert not {"moto", "boto3", "botocore", "pytest", "local", "tests", "infra"} & tops


def _lambda_runtime_dir(base: Path) -> Path:
    """What the Lambda Python runtime provides besides the zip: boto3 and its dependencies."""
    import boto3
    import botocore
    import dateutil
    import jmespath
    import s3transfer
    import six
    import urllib3

    runtime = base / "runtime"
    runtime.mkdir()
    for module in (boto3, botocore, dateutil, jmespath, s3transfer, urllib3):
        (runtime / module.__name__).symlink_to(Path(module.__file__).parent)
    (runtime / "six.py").symlink_to(Path(six.__file__))
    return runtime


PROBE = """
import json, sys
sys.path[:0] = [sys.argv[1], sys.argv[2]]
import app
from chalicelib import pages
html = pages.render("greeting.html", name="Ada")
import jinja2, jwt, cryptography
print(json.dumps({
    "html": html,
    "functions": sorted(app.app.handler_map),
    "modules": {m.__name__: m.__file__ for m in (app, pages, jinja2, jwt, cryptography)},
    "templates_dir": str(pages.TEMPLATES_DIR),
    "has_crypto": jwt.algorithms.has_crypto,
    "path": sys.path,
}))
"""


def test_the_unpacked_zip_imports_and_renders_the_greeting_in_a_fresh_interpreter(
        package, tmp_path):
    unpacked = package["unpacked"]
    runtime = _lambda_runtime_dir(tmp_path)
    # -I -S: no site-packages, no PYTHONPATH, no user site: only the zip and the runtime.
    result = subprocess.run([sys.executable, "-I", "-S", "-c", PROBE, str(unpacked), str(runtime)],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            env={"PATH": os.environ.get("PATH", ""), "AWS_DEFAULT_REGION": REGION})
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout)
    assert "Hello, Ada" in probe["html"]
    assert probe["templates_dir"] == str(unpacked / "templates")
    for name, path in probe["modules"].items():
        assert path.startswith(str(unpacked)), f"{name} came from {path}, not the package"
    assert probe["has_crypto"] is True
    assert not any("site-packages" in p for p in probe["path"])
    assert set(policy.FUNCTIONS) - {policy.API_HANDLER} <= set(probe["functions"])


def test_every_lambda_gets_its_own_role_with_the_generated_policy(package):
    resources = package["sam"]["Resources"]
    functions = {name: r for name, r in resources.items() if r["Type"] == "AWS::Serverless::Function"}
    assert len(functions) == len(policy.FUNCTIONS)
    expected = {json.dumps(policy.document(f, package["env"], "dev"), sort_keys=True)
                for f in policy.FUNCTIONS}
    seen = set()
    for function in functions.values():
        role = resources[function["Properties"]["Role"]["Fn::GetAtt"][0]]
        (document,) = [p["PolicyDocument"] for p in role["Properties"]["Policies"]]
        seen.add(json.dumps(document, sort_keys=True))
    assert seen == expected


def test_event_sources_and_authorizer_come_from_the_stage_configuration(package):
    sam = json.dumps(package["sam"])
    outputs = fake_outputs()
    for value in (outputs["UserPoolArn"], outputs["UsersTableStreamArn"],
                  outputs["ProfileQueueName"], outputs["ArchiveQueueName"]):
        assert value in sam
    assert "000000000000" not in sam and "-local-" not in sam and "_unset" not in sam
    env = package["sam"]["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert env["APP_STAGE"] == "dev" and env["USER_POOL_ID"] == outputs["UserPoolId"]
