"""Reward files: Harbor's two formats, clamping, and clear errors."""

import pytest

from tmax.errors import VerifierError
from tmax.trial.verifier import parse_reward_json, parse_reward_txt


def test_reward_txt_reads_one_float_and_clamps():
    assert parse_reward_txt("1\n") == 1.0
    assert parse_reward_txt(" 0.25 ") == 0.25
    assert parse_reward_txt("1.7") == 1.0
    assert parse_reward_txt("-3") == 0.0


def test_reward_json_prefers_the_reward_key_and_keeps_components():
    reward, parts = parse_reward_json('{"reward": 0.5, "tests_passed": 1, "tests_total": 2}')
    assert reward == 0.5
    assert parts == {"reward": 0.5, "tests_passed": 1.0, "tests_total": 2.0}
    assert parse_reward_json('{"score": 0.75}')[0] == 0.75
    assert parse_reward_json('{"reward": 4}')[0] == 1.0


@pytest.mark.parametrize("text", ["", "nan", "one"])
def test_bad_reward_txt_is_a_verifier_error(text):
    with pytest.raises(VerifierError):
        parse_reward_txt(text)


@pytest.mark.parametrize("text", ["{", "[]", "{}", '{"a": "x", "b": null}'])
def test_bad_reward_json_is_a_verifier_error(text):
    with pytest.raises(VerifierError) as info:
        parse_reward_json(text)
    assert info.value.fix


def test_several_keys_without_reward_are_all_kept_and_averaged():
    warnings: list[str] = []
    reward, parts = parse_reward_json('{"correctness": 1, "style": 0, "speed": 2}', warnings=warnings)
    assert parts == {"correctness": 1.0, "style": 0.0, "speed": 2.0}  # recorded as written
    assert reward == pytest.approx((1 + 0 + 1) / 3)  # each clamped, then the mean
    assert any("speed" in w and "clamped" in w for w in warnings)
    assert any("no `reward` key among 3 keys" in w for w in warnings)


def test_the_verifier_layer_is_uploaded_only_for_tests_that_use_its_tools():
    from tests.conftest import EXAMPLES
    from tmax.trial.verifier import needs_layer
    from tmax.tasks import load_task

    assert needs_layer(load_task(EXAMPLES / "harbor-uvx-pytest"))
    assert not needs_layer(load_task(EXAMPLES / "log-grep"))


def test_out_of_range_rewards_leave_a_warning():
    warnings: list[str] = []
    assert parse_reward_txt("7", warnings=warnings) == 1.0
    assert parse_reward_json('{"reward": -1}', warnings=warnings)[0] == 0.0
    assert len(warnings) == 2 and "7 is outside [0, 1]" in warnings[0]
    quiet: list[str] = []
    parse_reward_txt("0.5", warnings=quiet)
    assert quiet == []


def test_large_reward_json_is_read_whole():
    big = '{"reward": 0.5, "detail": "' + "x" * (5 << 20) + '"}'
    assert parse_reward_json(big)[0] == 0.5


def test_pytest_parser_reads_the_summary_line():
    from tmax.trial.verifier import parse_pytest

    assert parse_pytest("....\n============ 4 passed in 0.12s ============\n") == 1.0
    assert parse_pytest("..F\n=== 1 failed, 2 passed, 1 warning in 1.00s ===\n") == 0.0
    assert parse_pytest("3 passed in 0.01s\n") == 1.0  # -q
    assert parse_pytest("E\n=== 1 error in 0.2s ===\n") == 0.0
    assert parse_pytest("no tests ran\n=== no tests ran in 0.01s ===\n") is None
    assert parse_pytest("ModuleNotFoundError: No module named pytest\n") is None
