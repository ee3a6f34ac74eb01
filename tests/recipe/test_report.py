"""The recipe report's text: an SFT model below the floor is called a failed SFT."""

from tmax.recipe.report import SFT_FLOOR, _render


def _summary(sft_mean: float, rl_mean: float) -> dict:
    def model(mean):
        return {"mean": mean, "sem": 0.01, "run_scores": [mean, mean], "pass_at_k": {1: mean}, "per_kind": {},
                "n_tasks": 48, "n_errors": 0}
    gain = rl_mean - sft_mean
    return {"models": {"SFT": model(sft_mean), "SFT+RL": model(rl_mean)},
            "rl_gain": {"gain": gain, "combined_se": 0.0141, "gain_over_2se": gain > 0.0282},
            "heldout_during_rl": [], "dppo": {}, "machine": {}, "seed": 3, "kinds": ["read_secret"],
            "stages": {"sft": {"seconds": 60.0}}, "total_seconds": 60.0}


def test_a_failed_sft_is_said_before_the_gain():
    text = _render(_summary(0.049, 0.049), True)
    assert "**SFT failed**: the SFT model scored 0.049" in text and f"below {SFT_FLOOR:g}" in text
    assert text.index("SFT failed") < text.index("RL gain")


def test_a_working_sft_is_not_flagged():
    text = _render(_summary(0.40, 0.52), True)
    assert "SFT failed" not in text and "**RL gain: +0.120**" in text and "is larger than twice" in text
