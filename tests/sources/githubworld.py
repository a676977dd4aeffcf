"""A small GitHub repository in REST shape, built from the real webhook payloads in the shared data.

Webhook payloads embed the very objects the REST API lists (issue, comment, pull request, review, review
comment), so each object here is a real one, copied and given its own number, id, author and times.
"""

from __future__ import annotations

import copy
import json
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = "Codertocat/Hello-World"
API = f"https://api.github.com/repos/{REPO}"
HEAD_SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
OTHER_SHA = "f95f852bd8fca8fcc58a9a2d6c842781e32a215e"
LAST_SHA = "34c5c7793cb3b279e22454cb6750c80560547b3a"

Json = dict[str, Any]


@dataclass
class World:
    """Everything the REST API would list for the repository."""

    issues: list[Json] = field(default_factory=list)  # as /issues lists them: pull requests included
    issue_comments: list[Json] = field(default_factory=list)
    pulls: list[Json] = field(default_factory=list)
    pr_commits: dict[int, list[Json]] = field(default_factory=dict)
    reviews: dict[int, list[Json]] = field(default_factory=dict)
    review_comments: list[Json] = field(default_factory=list)

    def issue(self, number: int) -> Json:
        return next(item for item in self.issues if item["number"] == number)


def _load(shared_data: Path, name: str, key: str) -> Json:
    payload = json.loads((shared_data / "github-webhook-payloads" / name).read_text())
    return copy.deepcopy(payload[key])


def user(shared_data: Path, login: str, kind: str = "User") -> Json:
    base = _load(shared_data, "issues/opened.payload.json", "issue")["user"]
    return {**base, "login": login, "id": zlib.crc32(login.encode()), "type": kind}


def _at(minute: int, second: int = 0) -> str:
    return f"2019-05-15T15:{minute:02d}:{second:02d}Z"


def build_world(shared_data: Path) -> World:
    """Issues #1 and #3, pull requests #2 (merged, fixes #1) and #4 (closed), their comments, commits and reviews."""
    world = World()
    _issues(world, shared_data)
    _pulls(world, shared_data)
    _reviews(world, shared_data)
    return world


def _issues(world: World, shared_data: Path) -> None:
    first = _load(shared_data, "issues/opened.payload.json", "issue")
    first.update(created_at=_at(10), updated_at=_at(25))
    third = copy.deepcopy(first)
    third.update(number=3, id=first["id"] + 2, title="Crash on start", body="Seen together with #1.",
                 user=user(shared_data, "octocat"), created_at=_at(30), updated_at=_at(30), labels=[],
                 url=f"{API}/issues/3", html_url=f"https://github.com/{REPO}/issues/3")  # fmt: skip
    world.issues += [first, third]
    answer = _load(shared_data, "issue_comment/created.payload.json", "comment")
    answer.update(created_at=_at(11), updated_at=_at(11))
    edited = _load(shared_data, "issue_comment/created.1.payload.json", "comment")
    edited.update(id=answer["id"] + 1, body="Fixed the typo; see the pull request.", user=user(shared_data, "octocat"),
                  created_at=_at(12), updated_at=_at(24))  # fmt: skip
    bot = copy.deepcopy(answer)
    bot.update(id=answer["id"] + 2, body="Thanks for opening this issue!", user=user(shared_data, "triage[bot]", "Bot"),
               created_at=_at(13), updated_at=_at(13))  # fmt: skip
    later = copy.deepcopy(answer)
    later.update(id=answer["id"] + 3, body="Confirmed, it also breaks #3.", created_at=_at(14), updated_at=_at(14))
    on_pull = copy.deepcopy(answer)
    on_pull.update(id=answer["id"] + 4, body="Closing in favour of #2.", issue_url=f"{API}/issues/4",
                   created_at=_at(44), updated_at=_at(44))  # fmt: skip
    world.issue_comments += [answer, edited, bot, later, on_pull]


def _pulls(world: World, shared_data: Path) -> None:
    merged = _load(shared_data, "pull_request/opened.payload.json", "pull_request")
    merged.update(body="Fixes #1. Related to #3.", state="closed", merged=True, merged_at=_at(40), closed_at=_at(40),
                  merged_by=merged["user"], created_at=_at(20), updated_at=_at(40),
                  merge_commit_sha=LAST_SHA)  # fmt: skip
    closed = _load(shared_data, "pull_request/closed.payload.json", "pull_request")
    closed.update(number=4, id=merged["id"] + 2, title="Try another wording", body=None,
                  user=user(shared_data, "octocat"), created_at=_at(42), closed_at=_at(45), updated_at=_at(45),
                  url=f"{API}/pulls/4", html_url=f"https://github.com/{REPO}/pull/4")  # fmt: skip
    world.pulls += [merged, closed]
    for pull in (merged, closed):  # the issues listing holds every pull request as an issue too
        world.issues.append({**world.issue(1), "id": pull["id"] + 10**6, "number": pull["number"],
                             "title": pull["title"], "pull_request": {"url": pull["url"]},
                             "created_at": pull["created_at"], "updated_at": pull["updated_at"]})  # fmt: skip
    world.pr_commits[2] = [_commit(OTHER_SHA, "Update README.md", _at(19)),
                           _commit(HEAD_SHA, "Spell commit right\n\nCloses #5", _at(21))]  # fmt: skip
    world.pr_commits[4] = [_commit(LAST_SHA, "Reword the README", _at(41))]


def _commit(sha: str, message: str, when: str) -> Json:
    person = {"name": "Codertocat", "email": "21031067+Codertocat@users.noreply.github.com", "date": when}
    return {"sha": sha, "node_id": "C_" + sha[:8], "url": f"{API}/commits/{sha}", "parents": [],
            "commit": {"message": message, "author": person, "committer": person}}  # fmt: skip


def _reviews(world: World, shared_data: Path) -> None:
    commented = _load(shared_data, "pull_request_review/submitted.payload.json", "review")
    commented.update(state="COMMENTED", submitted_at=_at(27))  # the REST API writes states in capitals
    approved = copy.deepcopy(commented)
    approved.update(id=commented["id"] + 1, state="APPROVED", body="Looks right.", user=user(shared_data, "octocat"),
                    submitted_at=_at(35))  # fmt: skip
    pending = copy.deepcopy(commented)
    pending.update(id=commented["id"] + 2, state="PENDING")
    pending.pop("submitted_at")
    world.reviews[2] = [commented, approved, pending]
    world.reviews[4] = []
    remark = _load(shared_data, "pull_request_review_comment/created.payload.json", "comment")
    remark.update(created_at=_at(27), updated_at=_at(27))
    reply = copy.deepcopy(remark)
    reply.update(id=remark["id"] + 1, in_reply_to_id=remark["id"], body="Done.", user=user(shared_data, "octocat"),
                 pull_request_review_id=approved["id"], created_at=_at(34), updated_at=_at(34))  # fmt: skip
    world.review_comments += [remark, reply]


def pages(items: list[Json], size: int) -> list[list[Json]]:
    return [items[start : start + size] for start in range(0, len(items), size)] or [[]]


def write_gh_files(world: World, folder: Path, page_size: int = 2) -> Path:
    """The world as `gh api --paginate` writes it: pages back to back (and the other shapes the reader takes)."""
    folder.mkdir(parents=True, exist_ok=True)
    back_to_back = lambda items: "".join(json.dumps(page) for page in pages(items, page_size))  # noqa: E731
    (folder / "issues.json").write_text(back_to_back(world.issues))
    (folder / "issue-comments.json").write_text(back_to_back(world.issue_comments) + "\n")
    (folder / "pulls.json").write_text(json.dumps(pages(world.pulls, page_size)))  # `--slurp`: pages in a list
    for number, commits in world.pr_commits.items():
        target = folder / "pulls" / str(number) / "commits.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(back_to_back(commits))
    reviews = [review for number in sorted(world.reviews) for review in world.reviews[number]]
    (folder / "reviews.jsonl").write_text("".join(json.dumps(review) + "\n" for review in reviews))  # `--jq .[]`
    (folder / "review-comments.json").write_text(back_to_back(world.review_comments))
    return folder
