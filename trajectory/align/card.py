"""The dataset card `README.md`, in the style of Hugging Face dataset cards (YAML header, then sections)."""

from __future__ import annotations

from pathlib import Path

from trajectory.align.manifest import BuildResult
from trajectory.splits import SPLITS

FIELDS = {
    "comment": "`description`, `code_snippet`, `annotations` [{`line_number`, `annotation`}]: line comments an "
    "engineer wrote, each attached to the code line it explains (numbered within the snippet).",
    "comment_simple": "`code_snippet`, `comment`: a function and the docstring its engineer wrote for it.",
    "issue": "`question`, `user_login`, `created_at`, `updated_at`, `body`, `answer_1`, `answer_2`, … "
    "(each {`user_login`, `created_at`, `updated_at`, `body`}): an issue and its human answers in order.",
    "trajectory": "`task`, `task_source`, `start_commit`, `start_files`, `steps` [{`action`, `ts`, `path`, "
    "`diff`, `commit`, `pull_request`}], `feedback` [{`type`, `version`, `summary`, `detail`}], `final_files`, "
    "`outcome`: replaying the steps' diffs over `start_files` gives `final_files`; `version` is the index of the "
    "step whose result the feedback judged (-1: the start); an edit step's `commit` is the commit that holds its "
    "result.",
    "review": "`diff_hunk`, `comment`, `revised_hunk`, `path`, `line`, `commit`, `revision_commit`: a review "
    "comment on a hunk and the hunk of the later commit that changed those lines.",
    "preference": "`context`, `chosen`, `rejected`, `derivation`, `confidence`: pairs from rejected "
    "suggestions, accepted suggestions vs what survived, failing vs next passing versions, and review revisions.",
    "generation": "`prompt` (signature and docstring), `context`, `reference` (the engineer's function), "
    "`entry_point`, `tests` (test functions changed alongside that call it, when any).",
    "completion": "`prefix`, `suffix`, `reference`, `origin`: the code around an edit point and what the "
    "engineer typed or accepted there.",
}


def _front_matter(result: BuildResult) -> list[str]:
    lines = ["---", "pretty_name: smartco aligned dataset"]
    licenses = result.licenses or ["other"]
    lines += ["license:"] + [f"- {name.lower()}" for name in licenses]
    lines += ["language:", "- code", "- en", "task_categories:", "- text-generation", "tags:", "- code"]
    lines += ["- code-review", "- preference", "configs:"]
    for kind, splits in result.counts.items():
        present = [split for split in SPLITS if splits.get(split)]
        if not present:
            continue
        lines += [f"- config_name: {kind}", "  data_files:"]
        lines += [f"  - split: {split}\n    path: {kind}/{split}.jsonl" for split in present]
    return [*lines, "---", ""]


_INTRO = [
    "# smartco aligned dataset",
    "",
    "Records that tie engineers' feedback (review comments, test results, suggestion outcomes) to the exact",
    "code version it judged, built by `smartco dataset build` from recorded editor sessions and mined",
    "git/GitHub history. Every record carries a stable `id`, `provenance` (repository, commits, paths, line",
    "ranges as `line_ranges` [path, first, last], source event ids, sessions, pseudonymous actors, times, pull",
    "requests, issues), `language` and `license` (when the repository declares one).",
    "",
]
_TAIL = [
    "## Licensing",
    "",
    "Code and text keep the license of the repository they come from (the `license` field, detected from",
    "its LICENSE file; empty when none was found: do not redistribute those records without checking).",
    "Engineers are pseudonymous; recorded text was redacted at capture and scanned again here.",
    "",
    "## Intended use",
    "",
    "Evaluating and aligning code models: generation and completion tasks, review-comment generation,",
    "preference learning, issue answering, trajectory modelling; benchmarks on KubeEdge-Ianvs via",
    "`smartco ianvs export`. Not for identifying engineers or judging their performance.",
    "",
]


def _counts(result: BuildResult) -> list[str]:
    lines = ["## Counts", "", "| kind | " + " | ".join(SPLITS) + " | total |", "|---|" + "---|" * (len(SPLITS) + 1)]
    for kind, splits in result.counts.items():
        cells = [str(splits.get(split, 0)) for split in SPLITS]
        lines.append(f"| {kind} | " + " | ".join(cells) + f" | {sum(splits.values())} |")
    return [*lines, "", "## Fields", "", *(f"- **{kind}**: {FIELDS[kind]}" for kind in result.counts), ""]


def _how_built(result: BuildResult) -> list[str]:
    options = result.options
    cut = (
        f" Test holds only records whose evidence is all newer than {options['test_after']}."
        if options["test_after"]
        else ""
    )
    lines = [
        "## How it was built",
        "",
        f"- Source: `{result.source}`; {result.events_read} events read, {result.events_kept} kept, from "
        f"{result.repositories} repositories and {result.sessions} recorded sessions.",
        f"- Splits by `{options['split_by']}` with ratios {options['ratios']} and seed {options['seed']}: no "
        f"{options['split_by']} spans two splits.{cut}",
        "- Quality: exact duplicates (normalised hash) and near duplicates (MinHash with LSH) removed; a second "
        "secret scan; length caps; bots and generated files filtered.",
        "",
        "Dropped, by reason:",
        "",
    ]
    drops = [f"- {reason}: {count}" for reason, count in sorted(result.dropped.items())]
    return [*lines, *(drops or ["- nothing"]), ""]


def render_card(result: BuildResult) -> str:
    return "\n".join([*_front_matter(result), *_INTRO, *_counts(result), *_how_built(result), *_TAIL])


def write_card(result: BuildResult) -> Path:
    path = result.out_dir / "README.md"
    path.write_text(render_card(result), encoding="utf-8")
    return path
