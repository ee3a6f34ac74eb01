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


@pytest.mark.parametrize("text", ["{", "[]", "{}", '{"a": 1, "b": 0}'])
def test_bad_reward_json_is_a_verifier_error(text):
    with pytest.raises(VerifierError) as info:
        parse_reward_json(text)
    assert info.value.fix


def test_the_verifier_layer_is_uploaded_only_for_tests_that_use_its_tools():
    from tests.conftest import EXAMPLES
    from tmax.trial.verifier import needs_layer
    from tmax.tasks import load_task

    assert needs_layer(load_task(EXAMPLES / "harbor-uvx-pytest"))
    assert not needs_layer(load_task(EXAMPLES / "log-grep"))
