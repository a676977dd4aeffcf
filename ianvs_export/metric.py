"""Pure-Python metric formulas: pass@k, BLEU-4 (CodeXGLUE smoothing), ROUGE-L, chrF, edit similarity, agreement."""

from __future__ import annotations

import ast
import keyword
import math
import re
import textwrap
from collections import Counter
from collections.abc import Sequence

# CodeXGLUE splits words from punctuation (\w+|[^\s\w]), then its mteval normalisation also splits on "_".
_BLEU_TOKEN = re.compile(r"[^\W_]+|[^\s\w]|_")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TINY = 2.2250738585072014e-308  # sys.float_info.min: keeps log() finite when nothing matches


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k (Chen et al. 2021): 1 - C(n-c, k) / C(n, k), for n samples of which c passed."""
    if n <= 0 or k <= 0:
        return 0.0
    k = min(k, n)
    if n - c < k:
        return 1.0
    # The product form avoids huge binomials: C(n-c,k)/C(n,k) = prod_{i=n-c+1}^{n} (1 - k/i)
    product: float = 1.0
    for i in range(n - c + 1, n + 1):
        product *= 1.0 - k / i
    return 1.0 - product


def bleu_tokens(text: str) -> list[str]:
    """CodeXGLUE's tokenisation for BLEU: lower case; words, single punctuation marks and "_" as tokens."""
    return _BLEU_TOKEN.findall(text.strip().lower())


def _ngrams(tokens: Sequence[str], n: int) -> Counter[tuple[str, ...]]:
    return Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


def smoothed_bleu4(reference: str, hypothesis: str) -> float:
    """Sentence BLEU-4 with CodeXGLUE's smoothing (add one to n-gram counts for n > 1), in [0, 1].

    logBLEU = mean_n log((m_n + s_n) / (g_n + s_n)) + min(0, 1 - (r + 1) / (h + 1)), s_1 = 0, s_n = 1 otherwise,
    where m_n are clipped matches, g_n hypothesis n-grams, r and h the reference and hypothesis lengths.
    """
    ref, hyp = bleu_tokens(reference), bleu_tokens(hypothesis)
    log_bleu = 0.0
    for n in range(1, 5):
        ref_counts, hyp_counts = _ngrams(ref, n), _ngrams(hyp, n)
        matches = sum(min(count, ref_counts[gram]) for gram, count in hyp_counts.items())
        guesses = max(len(hyp) - n + 1, 0)
        smooth = 1 if n > 1 else 0
        log_bleu += math.log(matches + smooth + _TINY) - math.log(guesses + smooth + _TINY)
    log_bleu /= 4.0
    brevity = min(0.0, 1.0 - (len(ref) + 1) / (len(hyp) + 1))
    return math.exp(log_bleu + brevity)


def _lcs_length(a: Sequence[str], b: Sequence[str]) -> int:
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for item in a:
        current = [0]
        for j, other in enumerate(b, 1):
            current.append(previous[j - 1] + 1 if item == other else max(previous[j], current[j - 1]))
        previous = current
    return previous[-1]


def rouge_l(reference: str, hypothesis: str) -> float:
    """ROUGE-L F1 over whitespace tokens: 2PR/(P+R) with P = LCS/|hyp|, R = LCS/|ref|."""
    ref, hyp = reference.split(), hypothesis.split()
    if not ref or not hyp:
        return float(ref == hyp)
    lcs = _lcs_length(ref, hyp)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(hyp), lcs / len(ref)
    return 2 * precision * recall / (precision + recall)


def chrf(reference: str, hypothesis: str, max_order: int = 6, beta: float = 2.0) -> float:
    """chrF (Popovic 2015): character n-gram F-beta (n = 1..6, beta = 2), whitespace removed, in [0, 1]."""
    ref, hyp = "".join(reference.split()), "".join(hypothesis.split())
    precisions, recalls = [], []
    for n in range(1, max_order + 1):
        ref_total, hyp_total = len(ref) - n + 1, len(hyp) - n + 1
        if ref_total <= 0 or hyp_total <= 0:
            continue
        ref_counts = Counter([ref[i : i + n] for i in range(ref_total)])
        hyp_counts = Counter([hyp[i : i + n] for i in range(hyp_total)])
        # only the n-grams both sides have can match: a set intersection skips the rest
        matches = sum(min(ref_counts[gram], hyp_counts[gram]) for gram in ref_counts.keys() & hyp_counts.keys())
        precisions.append(matches / hyp_total)
        recalls.append(matches / ref_total)
    if not precisions:
        return float(ref == hyp)
    precision, recall = sum(precisions) / len(precisions), sum(recalls) / len(recalls)
    if precision == 0 and recall == 0:
        return 0.0
    return (1 + beta**2) * precision * recall / (beta**2 * precision + recall)


def exact_match(reference: str, hypothesis: str) -> float:
    """1.0 when the two agree after stripping surrounding whitespace of each line."""
    return float(_strip_lines(reference) == _strip_lines(hypothesis))


def _strip_lines(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def levenshtein(a: str, b: str) -> int:
    """Character edit distance (insert, delete, substitute cost 1)."""
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, left in enumerate(a, 1):
        current = [i]
        for j, right in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (left != right)))
        previous = current
    return previous[-1]


def edit_similarity(reference: str, hypothesis: str) -> float:
    """1 - Levenshtein(ref, hyp) / max(|ref|, |hyp|), on the stripped strings; 1.0 for two empty strings."""
    ref, hyp = reference.strip(), hypothesis.strip()
    longest = max(len(ref), len(hyp))
    return 1.0 if longest == 0 else 1.0 - levenshtein(ref, hyp) / longest


def identifiers(code: str) -> set[str]:
    """The identifiers of a piece of code (Python keywords excluded)."""
    return {name for name in _IDENTIFIER.findall(code) if not keyword.iskeyword(name)}


def identifier_f1(reference: str, hypothesis: str) -> float:
    """F1 between the sets of identifiers of the reference and of the hypothesis."""
    ref, hyp = identifiers(reference), identifiers(hypothesis)
    if not ref and not hyp:
        return 1.0
    common = len(ref & hyp)
    if common == 0:
        return 0.0
    precision, recall = common / len(hyp), common / len(ref)
    return 2 * precision * recall / (precision + recall)


def syntax_valid(code: str) -> bool:
    """Whether the code parses as Python; a block cut out of a class or a function (uniformly indented, as a
    method is) is judged without its common indentation."""
    try:
        ast.parse(textwrap.dedent(code))
    except (SyntaxError, ValueError):
        return False
    return True


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in [0, 100]); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def wilson_interval(successes: float, total: int, z: float = 1.959964) -> tuple[float, float]:
    """95% Wilson score interval for a proportion."""
    if total <= 0:
        return (math.nan, math.nan)
    p = successes / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    margin = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return (max(0.0, centre - margin), min(1.0, centre + margin))


def cohen_kappa(first: Sequence[str], second: Sequence[str]) -> float:
    """Cohen's kappa of two raters over the same items: (p_o - p_e) / (1 - p_e)."""
    if len(first) != len(second) or not first:
        return math.nan
    total = len(first)
    observed = sum(a == b for a, b in zip(first, second, strict=True)) / total
    counts_a, counts_b = Counter(first), Counter(second)
    expected = sum(counts_a[label] * counts_b[label] for label in counts_a) / (total * total)
    if expected == 1.0:
        return 1.0 if observed == 1.0 else 0.0
    return (observed - expected) / (1 - expected)


def krippendorff_alpha(units: Sequence[Sequence[str]]) -> float:
    """Krippendorff's alpha, nominal data: each unit is the labels it received (units with < 2 labels skipped)."""
    pairable = [list(labels) for labels in units if len(labels) >= 2]
    coincidence: dict[tuple[str, str], float] = {}
    for labels in pairable:
        weight = 1.0 / (len(labels) - 1)
        for i, a in enumerate(labels):
            for j, b in enumerate(labels):
                if i != j:
                    coincidence[(a, b)] = coincidence.get((a, b), 0.0) + weight
    totals: dict[str, float] = {}
    for (a, _b), value in coincidence.items():
        totals[a] = totals.get(a, 0.0) + value
    n = sum(totals.values())
    if n <= 1:
        return math.nan
    observed = sum(value for (a, b), value in coincidence.items() if a != b)
    expected = sum(totals[a] * totals[b] for a in totals for b in totals if a != b) / (n - 1)
    if expected == 0:
        return 1.0
    return 1.0 - observed / expected


def majority_agreement(answers: Sequence[str]) -> float:
    """Share of samples equal to the most common one (1.0 when every repeated sample agrees)."""
    if not answers:
        return math.nan
    normalised = [_strip_lines(answer) for answer in answers]
    return Counter(normalised).most_common(1)[0][1] / len(normalised)
