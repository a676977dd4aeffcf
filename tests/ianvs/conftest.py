"""Fixtures for the benchmark tests: a small but real dataset written through trajectory.records."""

from __future__ import annotations

from pathlib import Path

import pytest

from trajectory.records import (
    Answer,
    CommentRecord,
    CompletionRecord,
    GenerationRecord,
    IssueRecord,
    Provenance,
    ReviewRecord,
    SimpleCommentRecord,
    write_records,
)

_GENERATION = [
    (
        "slugify",
        'def slugify(title: str) -> str:\n    """Lower-case the title and join its words with hyphens."""\n',
        'def slugify(title: str) -> str:\n    """Lower-case the title and join its words with hyphens."""\n'
        '    return "-".join(title.lower().split())\n',
        'def test_slugify():\n    assert slugify("Hello World") == "hello-world"\n'
        '    assert slugify("  Many   spaces ") == "many-spaces"\n',
    ),
    (
        "chunked",
        'def chunked(items: list, size: int) -> list:\n    """Split items into lists of at most size elements."""\n',
        'def chunked(items: list, size: int) -> list:\n    """Split items into lists of at most size elements."""\n'
        "    # step through the list one chunk at a time\n"
        "    return [items[i : i + size] for i in range(0, len(items), size)]\n",
        "from mypkg.lists import chunked\n\n"
        "def test_chunked():\n    assert chunked([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]\n"
        "    assert chunked([], 3) == []\n",
    ),
    (
        "parse_version",
        'def parse_version(text: str) -> tuple:\n    """Parse "1.2.3" into a tuple of ints."""\n',
        'def parse_version(text: str) -> tuple:\n    """Parse "1.2.3" into a tuple of ints."""\n'
        '    return tuple(int(part) for part in text.strip().split("."))\n',
        "def check(candidate):\n    assert candidate('1.2.3') == (1, 2, 3)\n"
        "    assert candidate(' 10.0 ') == (10, 0)\n",
    ),
    (
        "median",
        'def median(values: list) -> float:\n    """The median of a non-empty list of numbers."""\n',
        'def median(values: list) -> float:\n    """The median of a non-empty list of numbers."""\n'
        "    ordered = sorted(values)\n    middle = len(ordered) // 2\n"
        "    if len(ordered) % 2:\n        return float(ordered[middle])\n"
        "    return (ordered[middle - 1] + ordered[middle]) / 2\n",
        "def test_median():\n    assert median([3, 1, 2]) == 2.0\n    assert median([4, 1, 3, 2]) == 2.5\n",
    ),
]

_COMMENTS = [
    (
        "def retry(fn, attempts=3):\n    for n in range(attempts):\n        try:\n            return fn()\n"
        "        except OSError:\n            if n == attempts - 1:\n                raise\n",
        "Call fn again when it raises OSError, up to attempts times.",
    ),
    (
        "def is_palindrome(text):\n    cleaned = ''.join(c.lower() for c in text if c.isalnum())\n"
        "    return cleaned == cleaned[::-1]\n",
        "Whether the text reads the same backwards, ignoring case and punctuation.",
    ),
    (
        "def merge_dicts(a, b):\n    out = dict(a)\n    out.update(b)\n    return out\n",
        "Merge two dicts into a new one; keys of b win.",
    ),
    (
        "def read_lines(path):\n    with open(path, encoding='utf-8') as f:\n"
        "        return [l.rstrip('\\n') for l in f]\n",
        "Read a text file into a list of lines without newlines.",
    ),
]

_ISSUES = [
    (
        "ImportError: cannot import name 'soft_unicode' from 'markupsafe'",
        "After upgrading, jinja2 fails at import with this error.",
        "This happens because markupsafe 2.1 removed soft_unicode; pin markupsafe<2.1 or upgrade jinja2 to 3.x.",
    ),
    (
        "Tests hang forever on CI but pass locally",
        "Our pytest job on GitHub Actions never finishes since last week.",
        "The new fixture opens a socket server that is never closed, so the process waits on it; close it in teardown.",
    ),
    (
        "UnicodeDecodeError when reading the config on Windows",
        "Reading settings.toml raises UnicodeDecodeError: 'charmap' codec can't decode byte.",
        "Windows defaults to cp1252 because open() uses the locale encoding; pass encoding='utf-8' to open().",
    ),
]

_REVIEWS = [
    (
        "@@ -10,3 +10,3 @@\n-    data = json.load(open(path))\n+    data = json.load(open(path, 'rb'))\n",
        "Use a with block so the file is closed even when json.load raises.",
    ),
    (
        "@@ -4,2 +4,4 @@\n def total(items):\n-    return sum([i.price for i in items])\n"
        "+    s = 0\n+    for i in items: s += i.price\n",
        "The generator version was clearer; why unroll it into a loop?",
    ),
    (
        "@@ -1,2 +1,2 @@\n-except:\n+except Exception:\n     pass\n",
        "Silently passing hides real errors; at least log the exception here.",
    ),
]

_REVIEWS.append(
    (
        "@@ -7,3 +7,3 @@\n-    timeout = 30\n+    timeout = 3000\n     client = Client(timeout=timeout)\n",
        "Is this in milliseconds now? The client expects seconds, so 3000 would be fifty minutes.",
    )
)
_ISSUES.append(
    (
        "KeyError: 'user' when the webhook payload comes from a bot",
        "Processing pull_request events from dependabot crashes the receiver.",
        "Bot payloads have no user object because the sender is an app; use sender.login and handle a null user.",
    )
)

_COMPLETIONS = [
    (
        "import os\n\ndef config_dir():\n    base = os.environ.get('XDG_CONFIG_HOME')\n"
        "    if not base:\n        base = ",
        "\n    return os.path.join(base, 'smartco')\n",
        "os.path.expanduser('~/.config')",
    ),
    ("def area(w, h):\n    return ", "\n", "w * h"),
    ("for index, item in ", ":\n    print(index, item)\n", "enumerate(items)"),
    ("with open(path, encoding='utf-8') as handle:\n    text = ", "\n", "handle.read()"),
]


def _prov(repo: str, n: int) -> Provenance:
    return Provenance(repo=repo, commits=[f"{n:040x}"], paths=["src/module.py"])


def build_dataset(root: Path) -> Path:
    """A dataset directory as `smartco dataset build` writes it: DATASET/<kind>/<split>.jsonl."""
    splits = {"train": slice(0, 2), "test": slice(2, None)}
    for split, part in splits.items():
        repo = f"github.com/example/{split}"
        records: dict[str, list] = {
            "generation": [
                GenerationRecord(
                    id=f"gen-{split}-{name}",
                    provenance=_prov(repo, i),
                    prompt=prompt,
                    reference=ref,
                    entry_point=name,
                    tests=tests,
                )
                for i, (name, prompt, ref, tests) in enumerate(_GENERATION[part])
            ],
            "comment_simple": [
                SimpleCommentRecord(id=f"cs-{split}-{i}", provenance=_prov(repo, i), code_snippet=code, comment=c)
                for i, (code, c) in enumerate(_COMMENTS[part])
            ],
            "comment": [
                CommentRecord(
                    id=f"c-{split}-0",
                    provenance=_prov(repo, 9),
                    description="Retry helper.",
                    code_snippet=_COMMENTS[0][0],
                    annotations=[],
                )
            ],
            "issue": [
                IssueRecord(
                    id=f"iss-{split}-{i}",
                    provenance=_prov(repo, i),
                    question=q,
                    user_login="asker",
                    body=body,
                    answers=[Answer(user_login="maintainer", body=a)],
                )
                for i, (q, body, a) in enumerate(_ISSUES[part])
            ],
            "review": [
                ReviewRecord(id=f"rev-{split}-{i}", provenance=_prov(repo, i), diff_hunk=h, comment=c)
                for i, (h, c) in enumerate(_REVIEWS[part])
            ],
            "completion": [
                CompletionRecord(id=f"cmp-{split}-{i}", provenance=_prov(repo, i), prefix=p, suffix=s, reference=r)
                for i, (p, s, r) in enumerate(_COMPLETIONS[part])
            ],
        }
        for kind, items in records.items():
            (root / kind).mkdir(parents=True, exist_ok=True)
            write_records(root / kind / f"{split}.jsonl", items)
    return root


@pytest.fixture
def dataset_dir(tmp_path: Path) -> Path:
    return build_dataset(tmp_path / "dataset")
