"""A corpus of realistic secrets in realistic files; values are generated (deterministically), never real."""

from __future__ import annotations

import importlib
import random
import string
import sysconfig
from dataclasses import dataclass
from pathlib import Path

ALNUM = string.ascii_letters + string.digits
UPPER = string.ascii_uppercase + string.digits
B64 = ALNUM + "+/"
URLSAFE = ALNUM + "-_"


@dataclass(frozen=True)
class Sample:
    name: str  # the file it would live in
    text: str
    secret: str  # the value that must not survive redaction


def _r(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def _pem(rng: random.Random, label: str) -> str:
    body = "\n".join(_r(rng, B64, 64) for _ in range(6))
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----"


def samples(seed: int = 7) -> list[Sample]:
    rng = random.Random(seed)
    out: list[Sample] = []

    def add(name: str, template: str, secret: str) -> None:
        out.append(Sample(name, template.format(s=secret), secret))

    add("deploy/key.pem", "{s}\n", _pem(rng, "RSA PRIVATE KEY"))
    add("id_ed25519", "{s}\n", _pem(rng, "OPENSSH PRIVATE KEY"))
    add("certs/ec.key", "# test key\n{s}\n", _pem(rng, "EC PRIVATE KEY"))
    add("config.py", 'PRIVATE_KEY = """{s}"""\n', _pem(rng, "PRIVATE KEY"))
    add("settings.py", 'AWS_ACCESS_KEY_ID = "{s}"\n', "AKIA" + _r(rng, UPPER, 16))
    add("infra/main.tf", 'provider "aws" {{\n  access_key = "{s}"\n}}\n', "ASIA" + _r(rng, UPPER, 16))
    add(".aws/credentials", "[default]\naws_secret_access_key = {s}\n", _r(rng, B64, 40))
    add("ci.yml", "env:\n  GITHUB_TOKEN: {s}\n", "ghp_" + _r(rng, ALNUM, 36))
    add(
        "scripts/release.sh", 'curl -H "Authorization: token {s}" https://api.github.com\n', "gho_" + _r(rng, ALNUM, 36)
    )
    add("README.md", "Use `{s}` for the bot.\n", "github_pat_" + _r(rng, ALNUM + "_", 82))
    add(".gitlab-ci.yml", "variables:\n  DEPLOY: {s}\n", "glpat-" + _r(rng, URLSAFE, 20))
    add("notify.js", 'const slack = "{s}";\n', "xoxb-" + _r(rng, string.digits, 12) + "-" + _r(rng, ALNUM, 24))
    add(
        "hooks.json",
        '{{"webhook": "{s}"}}\n',
        "https://hooks.slack.com/services/T" + _r(rng, UPPER, 8) + "/B" + _r(rng, UPPER, 8) + "/" + _r(rng, ALNUM, 24),
    )
    add("maps.ts", "export const key = '{s}';\n", "AIza" + _r(rng, URLSAFE, 35))
    add("billing.rb", "Stripe.api_key = '{s}'\n", "sk_live_" + _r(rng, ALNUM, 24))
    add("billing_test.go", 'const key = "{s}"\n', "rk_test_" + _r(rng, ALNUM, 24))
    add("llm.py", 'client = OpenAI(api_key="{s}")\n', "sk-proj-" + _r(rng, URLSAFE, 48))
    add("agent.env", "ANTHROPIC_API_KEY={s}\n", "sk-ant-api03-" + _r(rng, URLSAFE, 64))
    add(".npmrc.example", "//registry.npmjs.org/:_authToken={s}\n", "npm_" + _r(rng, ALNUM, 36))
    add("publish.cfg", "[pypi]\npassword = {s}\n", "pypi-AgEIcHlwaS5vcmc" + _r(rng, URLSAFE, 60))
    add("mail.php", "$key = '{s}';\n", "SG." + _r(rng, URLSAFE, 22) + "." + _r(rng, URLSAFE, 43))
    jwt = "eyJ" + _r(rng, URLSAFE, 30) + ".eyJ" + _r(rng, URLSAFE, 60) + "." + _r(rng, URLSAFE, 43)
    add("api_test.http", "Authorization: Bearer {s}\n", jwt)
    add(
        "appsettings.json",
        '{{"Storage": "DefaultEndpointsProtocol=https;AccountName=acme;AccountKey={s};'
        'EndpointSuffix=core.windows.net"}}\n',
        _r(rng, B64, 86) + "==",
    )
    add("db.py", 'DATABASE_URL = "postgresql://app:{s}@db.internal:5432/app"\n', _r(rng, ALNUM, 16))
    add(
        "docker-compose.yml", "    environment:\n      - BROKER=amqp://svc:{s}@rabbit:5672/\n", _r(rng, ALNUM, 14) + "!"
    )
    add("clone.sh", "git clone https://deploy:{s}@github.com/acme/app.git\n", _r(rng, ALNUM, 20))
    add("config.yaml", "database:\n  password: {s}\n", _r(rng, ALNUM, 10) + "#" + _r(rng, ALNUM, 4))
    add("settings.ini", "[auth]\nclient_secret = {s}\n", _r(rng, ALNUM, 32))
    add("local.env", "DB_PASSWORD={s}\n", _r(rng, ALNUM, 12) + "$")
    add("app.py", 'SECRET_KEY = "{s}"\n', _r(rng, ALNUM + "!@#%^&*", 50))
    add("Main.java", 'private static final String API_TOKEN = "{s}";\n', _r(rng, ALNUM, 40))
    add("config.json", '{{"api_key": "{s}", "region": "eu"}}\n', _r(rng, string.hexdigits.lower(), 32))
    add("deploy.sh", "export SIGNING_KEY='{s}'\n", _r(rng, B64, 44))
    add("k8s/secret.yaml", "stringData:\n  token: {s}\n", _r(rng, URLSAFE, 28))
    add("conn.cs", 'var conn = "Server=db;User Id=app;Password={s};";\n', _r(rng, ALNUM, 14) + "9")
    add("main.go", 'var authToken := "{s}"\n', _r(rng, ALNUM, 30))
    return out


def ordinary_files() -> list[Path]:
    """Ordinary code that names passwords, tokens and keys without holding any: none of it may be redacted."""
    std = Path(sysconfig.get_paths()["stdlib"])
    # Left out on purpose, because their docstrings assign literal example passwords (redacting them is right):
    # urllib/request.py (`passwd='geheim$parole'`) and pydantic/types.py (`password='IAmSensitive'`).
    names = ["argparse.py", "subprocess.py", "http/client.py", "smtplib.py", "ftplib.py", "getpass.py", "netrc.py"]
    names += ["configparser.py", "imaplib.py", "poplib.py", "ssl.py", "secrets.py", "hmac.py", "xmlrpc/client.py"]
    files = [std / n for n in names]
    site = Path(importlib.import_module("httpx").__file__).parents[1]  # type: ignore[arg-type]
    for package in ("httpx", "click", "pygls", "sqlalchemy/engine", "git", "uvicorn", "starlette", "pydantic"):
        files += sorted(f for f in (site / package).rglob("*.py") if f.name != "types.py" or package != "pydantic")
    root = Path(__file__).resolve().parents[2]
    files += sorted((root / "lsp_agent").glob("*.py")) + sorted((root / "trajectory").rglob("*.py"))
    return [f for f in files if f.is_file()]
