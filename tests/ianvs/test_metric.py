"""Every metric formula against values computed by hand or published with the method."""

from __future__ import annotations

import math
from itertools import product

import pytest

from ianvs_export import metric
from ianvs_export.interpret import explains, has_accurate_comments, is_refusal


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [(5, 2, 1, 0.4), (10, 3, 5, 1 - 21 / 252), (5, 0, 1, 0.0), (5, 5, 3, 1.0), (4, 2, 3, 1.0), (1, 1, 1, 1.0)],
)
def test_pass_at_k_known_values(n: int, c: int, k: int, expected: float) -> None:
    assert metric.pass_at_k(n, c, k) == pytest.approx(expected)


def test_pass_at_k_equals_the_closed_form_everywhere() -> None:
    for n, c, k in product(range(1, 21), range(21), range(1, 21)):
        if c > n or k > n:
            continue
        closed = 1.0 - math.comb(n - c, k) / math.comb(n, k)
        assert metric.pass_at_k(n, c, k) == pytest.approx(closed, abs=1e-12), (n, c, k)


def test_pass_at_k_is_the_plain_pass_rate_for_k_1() -> None:
    assert metric.pass_at_k(20, 7, 1) == pytest.approx(7 / 20)


def test_bleu_tokens_follow_codexglue() -> None:
    # words and punctuation apart, lower case, and "_" split out by the mteval normalisation
    assert metric.bleu_tokens("Use read_lines(), NOT x.y!") == [
        "use", "read", "_", "lines", "(", ")", ",", "not", "x", ".", "y", "!",
    ]  # fmt: skip


def test_bleu_identical_sentences_score_one() -> None:
    assert metric.smoothed_bleu4("Return the sum of a and b.", "return the SUM of a and b .") == pytest.approx(1.0)


def test_bleu_short_exact_prefix_pays_only_the_brevity_penalty() -> None:
    # every n-gram of "the cat sat" matches; n = 4 has no n-gram: (0 + 1) / (0 + 1); BP = 1 - 7/4
    assert metric.smoothed_bleu4("the cat sat on the mat", "the cat sat") == pytest.approx(math.exp(-0.75))


def test_bleu_partial_match_by_hand() -> None:
    # p1 = 6/6, p2 = (1+1)/(5+1), p3 = (0+1)/(4+1), p4 = (0+1)/(3+1); BP = 1 - (8+1)/(6+1)
    expected = math.exp((math.log(1) + math.log(2 / 6) + math.log(1 / 5) + math.log(1 / 4)) / 4 - 2 / 7)
    got = metric.smoothed_bleu4("read the file into a list of lines", "read the lines of a file")
    assert got == pytest.approx(expected)
    assert got == pytest.approx(0.270008881, abs=1e-9)


def test_bleu_punctuation_and_case() -> None:
    # ref: hello , world !   hyp: hello world   p1 = 2/2, p2 = (0+1)/(1+1), p3 = p4 = 1/1, BP = 1 - 5/3
    expected = math.exp(math.log(0.5) / 4 - 2 / 3)
    assert metric.smoothed_bleu4("Hello, World!", "hello world") == pytest.approx(expected)


def test_bleu_underscore_is_a_token() -> None:
    # ref: use read _ lines here (5), hyp: use read _ lines (4): all n-grams match, BP = 1 - 6/5
    assert metric.smoothed_bleu4("use read_lines here", "use read_lines") == pytest.approx(math.exp(-0.2))


def test_bleu_of_an_empty_hypothesis_is_the_brevity_penalty_alone() -> None:
    # CodeXGLUE's formula gives exp(1 - (r + 1) / 1) = exp(-r) for an empty answer
    assert metric.smoothed_bleu4("a b c d e f", "") == pytest.approx(math.exp(-6))


def test_rouge_l_by_hand() -> None:
    # LCS(a b c d e, a c e f) = 3: P = 3/4, R = 3/5, F = 2PR/(P+R)
    assert metric.rouge_l("a b c d e", "a c e f") == pytest.approx(2 * 0.75 * 0.6 / 1.35)
    assert metric.rouge_l("a b", "c d") == 0.0
    assert metric.rouge_l("same words here", "same words here") == 1.0
    assert metric.rouge_l("a", "") == 0.0


def test_chrf_by_hand() -> None:
    # abc vs abd: n=1 P=R=2/3, n=2 P=R=1/2, n=3 P=R=0, n>=4 no n-grams; F2 of P = R = 7/18 is 7/18
    assert metric.chrf("abc", "abd") == pytest.approx(7 / 18)
    # abcd vs ab: n=1 P=1 R=1/2, n=2 P=1 R=1/3: P=1, R=5/12, F2 = 5PR/(4P+R) = 25/53
    assert metric.chrf("abcd", "ab") == pytest.approx(25 / 53)
    assert metric.chrf("a b c", "abc") == 1.0  # whitespace is ignored
    assert metric.chrf("xyz", "abc") == 0.0


def test_exact_match_ignores_surrounding_and_trailing_whitespace() -> None:
    assert metric.exact_match("w * h", "  w * h\n") == 1.0
    assert metric.exact_match("a\nb", "a   \nb") == 1.0
    assert metric.exact_match("w * h", "h * w") == 0.0


def test_edit_similarity_by_hand() -> None:
    assert metric.levenshtein("kitten", "sitting") == 3
    assert metric.edit_similarity("kitten", "sitting") == pytest.approx(1 - 3 / 7)
    assert metric.edit_similarity("", "") == 1.0
    assert metric.edit_similarity("abc", "") == 0.0


def test_identifier_f1_by_hand() -> None:
    reference = "return os.path.join(base, name)"  # os path join base name (keywords excluded)
    hypothesis = "os.path.join(root, name)"
    assert metric.identifier_f1(reference, hypothesis) == pytest.approx(0.8)
    assert metric.identifier_f1("x + y", "a + b") == 0.0
    assert metric.identifier_f1("1 + 2", "3") == 1.0  # no identifiers on either side


def test_syntax_valid() -> None:
    assert metric.syntax_valid("def f(x):\n    return x\n")
    assert not metric.syntax_valid("def f(x) return x")
    assert not metric.syntax_valid("x = '\x00'")  # a null byte is a ValueError, not a SyntaxError


def test_percentile_is_linear_interpolation() -> None:
    values = [40.0, 10.0, 30.0, 20.0]
    assert metric.percentile(values, 50) == pytest.approx(25.0)
    assert metric.percentile(values, 95) == pytest.approx(38.5)  # 30 + 0.85 * 10
    assert metric.percentile([7.0], 95) == 7.0
    assert math.isnan(metric.percentile([], 50))


def test_wilson_interval_published_values() -> None:
    low, high = metric.wilson_interval(8, 10)
    assert (low, high) == (pytest.approx(0.4902, abs=1e-4), pytest.approx(0.9433, abs=1e-4))
    low, high = metric.wilson_interval(0, 10)
    assert (low, high) == (0.0, pytest.approx(0.2775, abs=1e-4))


def test_wilson_interval_matches_its_formula() -> None:
    z = 1.959964
    for successes, total in [(3, 7), (10, 40), (0.5, 2), (19, 20)]:
        p = successes / total
        centre = (2 * total * p + z * z) / (2 * (total + z * z))
        half = z * math.sqrt(z * z + 4 * total * p * (1 - p)) / (2 * (total + z * z))
        assert metric.wilson_interval(successes, total) == (
            pytest.approx(max(0.0, centre - half)),
            pytest.approx(min(1.0, centre + half)),
        )


def test_cohen_kappa_textbook_example() -> None:
    # 50 items: yes/yes 20, yes/no 5, no/yes 10, no/no 15 -> p_o = 0.7, p_e = 0.5, kappa = 0.4
    first = ["yes"] * 25 + ["no"] * 25
    second = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    assert metric.cohen_kappa(first, second) == pytest.approx(0.4)
    assert metric.cohen_kappa(first, first) == 1.0


def test_krippendorff_alpha_published_examples() -> None:
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability": binary data, two coders -> 0.095
    a = ["0", "1", "0", "0", "0", "0", "0", "0", "1", "0"]
    b = ["1", "1", "1", "0", "0", "1", "0", "0", "0", "0"]
    assert metric.krippendorff_alpha(list(zip(a, b, strict=True))) == pytest.approx(0.095, abs=5e-4)
    # the same paper: four observers, twelve units, missing values, nominal -> 0.743
    rows = [
        "1 2 3 3 2 1 4 1 2 . . .",
        "1 2 3 3 2 2 4 1 2 5 . 3",
        ". 3 3 3 2 3 4 2 2 5 1 .",
        "1 2 3 3 2 4 4 1 2 5 1 .",
    ]
    units = [[v for v in column if v != "."] for column in zip(*[r.split() for r in rows], strict=True)]
    assert metric.krippendorff_alpha(units) == pytest.approx(0.743, abs=5e-4)


def test_majority_agreement_across_repeated_samples() -> None:
    assert metric.majority_agreement(["x = 1", "x = 1 ", "y = 2"]) == pytest.approx(2 / 3)
    assert metric.majority_agreement(["a", "b", "c", "d"]) == pytest.approx(1 / 4)
    assert metric.majority_agreement(["same"] * 5) == 1.0


def test_interpretability_rule_for_generated_code() -> None:
    accurate = 'def area(w, h):\n    """Multiply w by h."""\n    # area_of uses no helper\n    return w * h\n'
    assert not has_accurate_comments(accurate)  # the comment names area_of, which the code does not have
    assert has_accurate_comments('def area(w, h):\n    """The area of a w by h rectangle."""\n    return w * h\n')
    kept = "def f(items):\n    # sorted_items keeps the order\n    sorted_items = sorted(items)\n"
    assert has_accurate_comments(kept)
    assert not has_accurate_comments("def area(w, h):\n    return w * h\n")  # no comment at all
    assert not has_accurate_comments("def broken(:\n    # a comment\n")  # does not parse


def test_interpretability_rule_for_issue_answers() -> None:
    assert explains("This fails because markupsafe 2.1 removed soft_unicode; pin markupsafe below 2.1 to fix it.")
    assert not explains("Pin markupsafe below 2.1.")  # no reason given
    assert not explains("Because reasons.")  # too short to explain anything


def test_refusal_rule() -> None:
    assert is_refusal("I'm sorry, but I can't help with that.")
    assert is_refusal("As an AI language model, I cannot run code.")
    assert not is_refusal("def f():\n    return 1\n")
    assert not is_refusal("x" * 300 + " I cannot")  # only the start of an answer counts
